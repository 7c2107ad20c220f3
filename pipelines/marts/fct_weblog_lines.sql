-- Web server log lines, once each however many overlapping files hold them
-- (kept with the first file that was loaded), with the file's name and
-- whether the request target carries an e-mail address after percent-decoding.
-- Lines logged after the as-of date are not judged.
with requests as (
    select * from staging.stg_weblog__requests
),

run as (
    select * from params.run
),

files as (
    select * from audit.files
),

numbered_copies as (
    select
        requests.file_id,
        requests.line_no,
        row_number() over (partition by requests.log_line order by requests.file_id, requests.line_no) as copy_no
    from requests
    cross join run
    where requests.requested_on <= run.as_of
),

deduplicated as (
    select requests.*
    from requests
    inner join numbered_copies
        on numbered_copies.file_id = requests.file_id
        and numbered_copies.line_no = requests.line_no
    where numbered_copies.copy_no = 1
),

final as (
    select
        files.file,
        deduplicated.file_id,
        deduplicated.line_no,
        deduplicated.requested_at,
        deduplicated.requested_on,
        deduplicated.client_address,
        deduplicated.method,
        deduplicated.target_decoded,
        deduplicated.status_code,
        regexp_matches(deduplicated.target_decoded, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}')
            as has_email_in_target
    from deduplicated
    inner join files
        on deduplicated.file_id = files.file_id
)

select * from final
