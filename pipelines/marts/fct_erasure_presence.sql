-- Erasures carried out (register: type erasure, outcome done, a closed date,
-- in the latest register export) and every later place the person still
-- appears: a non-deleted Contact or Lead (converted leads included) in a CRM
-- export, or a member of any audience file (subscribed, unsubscribed or
-- cleaned), taken after the erasure date and on or before as-of, matched by
-- e-mail or by CRM id. One row per erasure and place; erasures with no later
-- presence have one row with found_in NULL. Event logs are history, not presence.
with requests as (
    select * from marts.fct_dsar_requests
),

contacts as (
    select * from staging.stg_salesforce__contacts
),

leads as (
    select * from staging.stg_salesforce__leads
),

members as (
    select * from staging.stg_mailchimp__members
),

run as (
    select * from params.run
),

erasures as (
    select request_id, email_key, crm_key, closed_on as erased_on
    from requests
    where request_type = 'erasure' and outcome = 'done' and closed_on is not null
),

presence as (
    select 'salesforce.contact' as source, contact_id as record_id, contact_key as record_key, email_key, exported_at
    from contacts where not is_deleted
    union all
    select 'salesforce.lead' as source, lead_id as record_id, lead_key as record_key, email_key, exported_at
    from leads where not is_deleted
    union all
    select 'mailchimp.' || member_status as source, euid as record_id, cast(null as varchar) as record_key,
        email_key, exported_at
    from members
),

found as (
    select
        erasures.request_id,
        presence.source,
        presence.record_id,
        presence.exported_at
    from erasures
    inner join presence
        on (presence.email_key = erasures.email_key or presence.record_key = erasures.crm_key)
    cross join run
    where cast(presence.exported_at as date) > erasures.erased_on
        and cast(presence.exported_at as date) <= run.as_of
),

final as (
    select
        erasures.request_id,
        erasures.email_key,
        erasures.crm_key,
        erasures.erased_on,
        found.source as found_in,
        found.record_id as found_record_id,
        found.exported_at as found_in_export_at
    from erasures
    left join found
        on erasures.request_id = found.request_id
)

select * from final
