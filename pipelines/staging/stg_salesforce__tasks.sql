-- Salesforce Tasks (calls, e-mails, to-dos), every snapshot. WhoId points at a
-- Contact or Lead; TaskSubtype ListEmail marks a mass e-mail.
with source as (
    select * from raw.salesforce__task
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(id) as task_id,
        sfid15(id) as task_key,
        sfid15(whoid) as who_key,
        sfid15(whatid) as what_key,
        blank_to_null(subject) as subject,
        blank_to_null(status) as task_status,
        blank_to_null(tasksubtype) as task_subtype,
        coalesce(to_bool(isclosed), false) as is_closed,
        coalesce(to_bool(isdeleted), false) as is_deleted,
        to_date(activitydate) as activity_on,
        createddate__utc as created_at,
        completeddatetime__utc as completed_at,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
