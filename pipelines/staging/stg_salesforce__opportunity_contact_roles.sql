-- Salesforce OpportunityContactRoles: which Contacts take part in which
-- Opportunity, every snapshot.
with source as (
    select * from raw.salesforce__opportunitycontactrole
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as opportunity_contact_role_id,
        sfid15(id) as opportunity_contact_role_key,
        sfid15(opportunityid) as opportunity_key,
        sfid15(contactid) as contact_key,
        blank_to_null(role) as contact_role,
        to_bool(isprimary) as is_primary,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
