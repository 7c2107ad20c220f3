-- Salesforce ContactHistory: field changes on Contacts (e.g. when
-- HasOptedOutOfEmail was set), every snapshot.
with source as (
    select * from raw.salesforce__contacthistory
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as history_id,
        sfid15(contactid) as contact_key,
        trim_ws(field) as field_name,
        blank_to_null(oldvalue) as old_value,
        blank_to_null(newvalue) as new_value,
        createddate__utc as changed_at,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
