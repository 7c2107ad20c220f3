-- Salesforce Events (meetings), every snapshot. ActivityDate is the meeting's
-- date; when blank, the date of its start.
with source as (
    select * from raw.salesforce__event
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as event_id,
        sfid15(id) as event_key,
        sfid15(whoid) as who_key,
        sfid15(whatid) as what_key,
        blank_to_null(subject) as subject,
        coalesce(
            to_date(activitydate),
            cast(activitydatetime__utc as date),
            cast(startdatetime__utc as date)
        ) as activity_on,
        startdatetime__utc as start_at,
        enddatetime__utc as end_at,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        createddate__utc as created_at,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
