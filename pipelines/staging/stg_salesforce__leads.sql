-- Salesforce Leads, every snapshot: typed, with e-mail identity, 15-character
-- keys, conversion and the lead's origin from its LeadSource.
with source as (
    select * from raw.salesforce__lead
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

lead_source_classes as (
    select * from params.lead_source_classes
),

renamed as (
    select
        trim_ws(id) as lead_id,
        sfid15(id) as lead_key,
        blank_to_null(firstname) as first_name,
        blank_to_null(lastname) as last_name,
        blank_to_null(company) as company,
        blank_to_null(title) as title,
        blank_to_null(status) as lead_status,
        blank_to_null(email) as email,
        email_key(email) as email_key,
        blank_to_null(leadsource) as lead_source,
        squish_ws(leadsource) as lead_source_key,
        to_bool(hasoptedoutofemail) as has_opted_out_of_email,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        coalesce(to_bool(isconverted), false) as is_converted,
        sfid15(convertedcontactid) as converted_contact_key,
        to_date(converteddate) as converted_on,
        createddate__utc as created_at,
        cast(createddate__utc as date) as created_on,
        to_date(lastactivitydate) as last_activity_on,
        lastmodifieddate__utc as last_modified_at,
        blank_to_null(_lawful_basis) as lawful_basis,
        _lawful_basis is not null as has_lawful_basis_field,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
),

final as (
    select
        renamed.*,
        coalesce(lead_source_classes.contact_origin, 'unclassified') as contact_origin
    from renamed
    left join lead_source_classes
        on renamed.lead_source_key = lead_source_classes.lead_source_key
)

select * from final
