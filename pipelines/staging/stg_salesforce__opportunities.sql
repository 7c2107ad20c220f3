-- Salesforce Opportunities (sales dialogues), every snapshot.
with source as (
    select * from raw.salesforce__opportunity
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as opportunity_id,
        sfid15(id) as opportunity_key,
        sfid15(accountid) as account_key,
        blank_to_null(name) as opportunity_name,
        blank_to_null(stagename) as stage_name,
        coalesce(to_bool(isclosed), false) as is_closed,
        to_bool(iswon) as is_won,
        to_date(closedate) as close_on,
        createddate__utc as created_at,
        cast(createddate__utc as date) as created_on,
        to_date(lastactivitydate) as last_activity_on,
        to_amount(amount) as amount,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
