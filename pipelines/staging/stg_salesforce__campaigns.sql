-- Salesforce Campaigns, every snapshot.
with source as (
    select * from raw.salesforce__campaign
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as campaign_id,
        sfid15(id) as campaign_key,
        blank_to_null(name) as campaign_name,
        blank_to_null(type) as campaign_type,
        blank_to_null(status) as campaign_status,
        to_date(startdate) as start_on,
        to_date(enddate) as end_on,
        to_bool(isactive) as is_active,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
