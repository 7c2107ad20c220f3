-- One row per person known by an e-mail address, across every source: where
-- the address appears (CRM records in the latest exports, the e-mail tool's
-- latest audience, e-mail events, the request register) and the CRM ids that
-- carry it. The address is the identity (trimmed, lower-cased).
with crm_records as (
    select * from marts.dim_crm_records
),

members as (
    select * from staging.stg_mailchimp__members
),

events as (
    select * from staging.stg_esp__events
),

requests as (
    select * from marts.fct_dsar_requests
),

latest as (
    select * from marts.int_latest_exports
),

-- e-mail events are many: counted per address first, so the distinct
-- aggregates below see one row per address and source
event_counts as (
    select email_key, count(*) as event_count
    from events
    group by email_key
),

appearances as (
    select email_key, source, record_id, cast(0 as bigint) as event_count from crm_records
    union all
    select
        members.email_key,
        'mailchimp.' || members.member_status as source,
        members.euid as record_id,
        cast(0 as bigint) as event_count
    from members
    inner join latest
        on latest.source = 'mailchimp.' || members.member_status and members.exported_at = latest.exported_at
    union all
    select email_key, 'esp.events' as source, cast(null as varchar) as record_id, event_count from event_counts
    union all
    select email_key, 'register.requests' as source, request_id as record_id, cast(0 as bigint) as event_count
    from requests
),

-- each list from distinct rows first: Spark cannot run an ordered
-- string_agg(distinct …) beside another distinct aggregate (the portable subset)
classified as (
    select
        email_key,
        source,
        event_count,
        case when source like 'salesforce.%' then record_id end as crm_record_id,
        case when source = 'register.requests' then record_id end as request_id
    from appearances
    where email_key is not null
),

person_sources as (
    select email_key, string_agg(source, ', ' order by source) as sources, sum(event_count) as email_event_count
    from (select email_key, source, sum(event_count) as event_count from classified group by email_key, source) s
    group by email_key
),

person_crm_ids as (
    select email_key, string_agg(crm_record_id, ', ' order by crm_record_id) as crm_record_ids,
        count(*) as crm_record_count
    from (select distinct email_key, crm_record_id from classified where crm_record_id is not null) c
    group by email_key
),

person_requests as (
    select email_key, count(*) as request_count
    from (select distinct email_key, request_id from classified where request_id is not null) r
    group by email_key
),

final as (
    select
        person_sources.email_key,
        person_sources.sources,
        person_crm_ids.crm_record_ids,
        coalesce(person_crm_ids.crm_record_count, 0) as crm_record_count,
        cast(person_sources.email_event_count as bigint) as email_event_count,
        coalesce(person_requests.request_count, 0) as request_count
    from person_sources
    left join person_crm_ids on person_crm_ids.email_key = person_sources.email_key
    left join person_requests on person_requests.email_key = person_sources.email_key
)

select * from final
