-- Web server log lines, once each however many overlapping files hold them
-- (kept with the first file that was loaded), with the file's name and
-- whether the request target carries an e-mail address after percent-decoding.
-- A quarantined line (junk request: a TLS handshake, a truncated line) is a
-- line too when its client address and time can be read: it holds the address
-- all the same. Lines logged after the as-of date are not judged.
with requests as (
    select * from staging.stg_weblog__requests
),

quarantined as (
    select * from staging.stg_weblog__quarantined_lines
),

run as (
    select * from params.run
),

files as (
    select * from audit.files
),

all_lines as (
    select
        file_id,
        line_no,
        log_line,
        requested_at,
        requested_on,
        client_address,
        method,
        target_decoded,
        status_code,
        false as is_quarantined
    from requests
    union all
    select
        file_id,
        line_no,
        log_line,
        requested_at,
        requested_on,
        client_address,
        cast(null as varchar) as method,
        cast(null as varchar) as target_decoded,
        cast(null as integer) as status_code,
        true as is_quarantined
    from quarantined
    where client_address is not null
        and requested_at is not null
),

numbered_copies as (
    select
        all_lines.file_id,
        all_lines.line_no,
        row_number() over (partition by all_lines.log_line order by all_lines.file_id, all_lines.line_no) as copy_no
    from all_lines
    cross join run
    where all_lines.requested_on <= run.as_of
),

deduplicated as (
    select all_lines.*
    from all_lines
    inner join numbered_copies
        on numbered_copies.file_id = all_lines.file_id
        and numbered_copies.line_no = all_lines.line_no
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
        coalesce(regexp_matches(deduplicated.target_decoded,
                                '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}'), false)
            as has_email_in_target,
        deduplicated.is_quarantined
    from deduplicated
    inner join files
        on deduplicated.file_id = files.file_id
)

select * from final
