-- Salesforce Accounts (the companies contacts work for), every snapshot.
with source as (
    select * from raw.salesforce__account
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as account_id,
        sfid15(id) as account_key,
        blank_to_null(name) as account_name,
        blank_to_null(type) as account_type,
        blank_to_null(industry) as industry,
        blank_to_null(billingcountry) as billing_country,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        createddate__utc as created_at,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
