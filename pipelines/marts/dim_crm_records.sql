-- The person population of the contact rules: non-deleted Contacts and
-- non-deleted, non-converted Leads in the latest CRM export on or before the
-- as-of date. Each record is judged on its own.
with contacts as (
    select * from staging.stg_salesforce__contacts
),

leads as (
    select * from staging.stg_salesforce__leads
),

latest as (
    select * from marts.int_latest_exports
),

current_contacts as (
    select
        'salesforce.contact' as source,
        contacts.contact_id as record_id,
        contacts.contact_key as record_key,
        contacts.email,
        contacts.email_key,
        contacts.first_name,
        contacts.last_name,
        contacts.lead_source,
        contacts.contact_origin,
        contacts.created_at,
        contacts.created_on,
        contacts.has_opted_out_of_email,
        contacts.lawful_basis,
        contacts.has_lawful_basis_field,
        contacts.exported_at
    from contacts
    inner join latest
        on latest.source = 'salesforce.contact' and contacts.exported_at = latest.exported_at
    where not contacts.is_deleted
),

current_leads as (
    select
        'salesforce.lead' as source,
        leads.lead_id as record_id,
        leads.lead_key as record_key,
        leads.email,
        leads.email_key,
        leads.first_name,
        leads.last_name,
        leads.lead_source,
        leads.contact_origin,
        leads.created_at,
        leads.created_on,
        leads.has_opted_out_of_email,
        leads.lawful_basis,
        leads.has_lawful_basis_field,
        leads.exported_at
    from leads
    inner join latest
        on latest.source = 'salesforce.lead' and leads.exported_at = latest.exported_at
    where not leads.is_deleted and not leads.is_converted
),

final as (
    select * from current_contacts
    union all
    select * from current_leads
)

select * from final
