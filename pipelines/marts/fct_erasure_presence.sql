-- Erasures carried out and every later place the person still appears. An
-- erasure is a register row (type erasure, outcome done, a closed date, in the
-- latest register export) or an entry of the workbench's own ledger (insyn dsar
-- erase: the person known by salted hashes only). A place is a non-deleted
-- Contact or Lead (converted leads included) in a CRM export, or a member of any
-- audience file (subscribed, unsubscribed or cleaned), taken after the erasure
-- date and on or before as-of, matched by e-mail or by CRM id. One row per
-- erasure and place; erasures with no later presence have one row with found_in
-- NULL. Event logs are history, not presence.
with requests as (
    select * from marts.fct_dsar_requests
),

ledger as (
    select * from params.erasure_ledger
),

ledger_ids as (
    select * from params.erasure_ledger_ids
),

-- the salt of the ledger's hashes: a temporary table of the building connection
salt as (
    select * from erasure_salt
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

register_erasures as (
    select request_id as erasure_id, email_key, crm_key, closed_on as erased_on
    from requests
    where request_type = 'erasure' and outcome = 'done' and closed_on is not null
),

-- a ledger entry naming a register request is the same erasure: one id, the earlier date
ledger_erasures as (
    select coalesce(request_id, entry_id) as erasure_id, entry_id, email_hash, erased_on
    from ledger
),

erasures as (
    select erasure_id, max(email_key) as email_key, max(crm_key) as crm_key, min(erased_on) as erased_on
    from (
        select erasure_id, email_key, crm_key, erased_on from register_erasures
        union all
        select erasure_id, cast(null as varchar) as email_key, cast(null as varchar) as crm_key, erased_on
        from ledger_erasures
    ) both_kinds
    group by erasure_id
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

-- only exports after the earliest ledger erasure need hashing
hashed_presence as (
    select
        presence.*,
        sha256(salt.salt || presence.email_key) as email_hash,
        sha256(salt.salt || presence.record_key) as record_key_hash
    from presence
    cross join salt
    where cast(presence.exported_at as date) > (select min(erased_on) from ledger)
),

found_by_register as (
    select register_erasures.erasure_id, presence.source, presence.record_id, presence.exported_at
    from register_erasures
    inner join presence
        on (presence.email_key = register_erasures.email_key or presence.record_key = register_erasures.crm_key)
    where cast(presence.exported_at as date) > register_erasures.erased_on
),

found_by_ledger as (
    select ledger_erasures.erasure_id, hashed_presence.source, hashed_presence.record_id, hashed_presence.exported_at
    from ledger_erasures
    inner join hashed_presence
        on hashed_presence.email_hash = ledger_erasures.email_hash
    where cast(hashed_presence.exported_at as date) > ledger_erasures.erased_on
    union all
    select ledger_erasures.erasure_id, hashed_presence.source, hashed_presence.record_id, hashed_presence.exported_at
    from ledger_erasures
    inner join ledger_ids
        on ledger_ids.entry_id = ledger_erasures.entry_id
    inner join hashed_presence
        on hashed_presence.record_key_hash = ledger_ids.id_hash
    where cast(hashed_presence.exported_at as date) > ledger_erasures.erased_on
),

found as (
    select distinct found_any.erasure_id, found_any.source, found_any.record_id, found_any.exported_at
    from (
        select * from found_by_register
        union all
        select * from found_by_ledger
    ) found_any
    cross join run
    where cast(found_any.exported_at as date) <= run.as_of
),

final as (
    select
        erasures.erasure_id,
        erasures.email_key,
        erasures.crm_key,
        erasures.erased_on,
        found.source as found_in,
        found.record_id as found_record_id,
        found.exported_at as found_in_export_at
    from erasures
    left join found
        on erasures.erasure_id = found.erasure_id
)

select * from final
