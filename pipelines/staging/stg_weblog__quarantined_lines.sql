-- Web server log lines quarantined at load (audit.rejected_lines of the
-- weblog.access files): a TLS handshake sent to the plain-HTTP port, a
-- truncated line. Their request is junk, but most still begin with the
-- client's address and a time like any other line; both are read here from
-- the raw text, the time converted to UTC by the line's own offset. NULL where
-- the line does not begin that way. The Python twin, used by `insyn purge`,
-- is insyn.readers.quarantined_line_head; tests check that both agree.
with rejected as (
    select * from audit.rejected_lines
),

files as (
    select * from audit.files
),

heads as (
    select
        rejected.file_id,
        rejected.line_no,
        rejected.line as log_line,
        rejected.reason,
        -- %h %l %u [%t]: the address, then the time with its offset (+0100 or +01:00)
        nullif(regexp_extract(rejected.line,
            '^([^ ]+) [^ ]+ [^ ]+ \[[0-9]{1,2}/[A-Za-z]{3}/[1-9][0-9]{3}:([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-]([01][0-9]|2[0-3]):?[0-5][0-9]\]',
            1), '') as client_address,
        nullif(regexp_extract(rejected.line,
            '^[^ ]+ [^ ]+ [^ ]+ \[([0-9]{1,2}/[A-Za-z]{3}/[1-9][0-9]{3}:([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-]([01][0-9]|2[0-3]):?[0-5][0-9])\]',
            1), '') as time_local,
        -- where the month's English abbreviation (the log format's own) starts in the list
        instr('janfebmaraprmayjunjulaugsepoctnovdec',
              lower(regexp_extract(rejected.line, '^[^ ]+ [^ ]+ [^ ]+ \[[0-9]{1,2}/([A-Za-z]{3})/', 1))) as month_at,
        files.exported_at
    from rejected
    inner join files
        on files.file_id = rejected.file_id
    where files.source = 'weblog.access'
),

parts as (
    select
        heads.*,
        lpad(regexp_extract(heads.time_local, '^([0-9]+)/', 1), 2, '0') as day_part,
        -- the month's number from its place in the list of English abbreviations
        -- (the log format's own, not a value of the law)
        case when heads.month_at % 3 = 1
             then lpad(cast(cast((heads.month_at + 2) / 3 as integer) as varchar), 2, '0')
        end as month_part,
        regexp_extract(heads.time_local, '/([0-9]{4}):', 1) as year_part,
        regexp_extract(heads.time_local, ':([0-9]{2}:[0-9]{2}:[0-9]{2}) ', 1) as clock_part,
        case when regexp_extract(heads.time_local, ' ([+-])', 1) = '-' then -1 else 1 end
            * (cast(regexp_extract(heads.time_local, ' [+-]([0-9]{2})', 1) as integer) * 3600
               + cast(regexp_extract(heads.time_local, '([0-9]{2})$', 1) as integer) * 60) as offset_seconds
    from heads
),

timed as (
    select
        parts.*,
        -- the local time less its offset, in seconds since 1970 (a timestamptz
        -- cast would keep the offset on DuckDB but drop it on Spark, whose
        -- TIMESTAMP has no zone here)
        cast(to_timestamp(
            epoch(try_cast(parts.year_part || '-' || parts.month_part || '-' || parts.day_part || ' '
                           || parts.clock_part as timestamp))
            - parts.offset_seconds) as timestamp) as requested_at
    from parts
),

final as (
    select
        file_id,
        line_no,
        log_line,
        reason,
        client_address,
        requested_at,
        cast(requested_at as date) as requested_on,
        exported_at
    from timed
)

select * from final
