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

final as (
    select
        email_key,
        string_agg(distinct source, ', ' order by source) as sources,
        string_agg(distinct case when source like 'salesforce.%' then record_id end, ', '
                   order by case when source like 'salesforce.%' then record_id end) as crm_record_ids,
        count(distinct case when source like 'salesforce.%' then record_id end) as crm_record_count,
        sum(event_count) as email_event_count,
        count(distinct case when source = 'register.requests' then record_id end) as request_count
    from appearances
    where email_key is not null
    group by email_key
)

select * from final
