-- Web server access log lines that parsed (junk lines are in
-- audit.rejected_lines), with the time converted to UTC by each line's offset.
with source as (
    select * from raw.weblog__access
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        _file_id as file_id,
        _line_no as line_no,
        line as log_line,
        remote_host as client_address,
        nullif(remote_user, '-') as remote_user,
        time_local__utc as requested_at,
        cast(time_local__utc as date) as requested_on,
        method,
        target,
        url_decode(target) as target_decoded,
        protocol,
        try_cast(status as integer) as status_code,
        try_cast(nullif(bytes_sent, '-') as bigint) as bytes_sent,
        nullif(referer, '-') as referer,
        nullif(user_agent, '-') as user_agent,
        _exported_at as exported_at
    from source
)

select * from final
