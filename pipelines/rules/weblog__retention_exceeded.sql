-- weblog.retention_exceeded: log lines older than the horizon, midnight (in
-- the policy's zone) of add_months(as_of, -N months), quarantined junk lines
-- included where their client address and time can be read (they hold the
-- address all the same). One finding per file and UTC day, with the number of lines.
with lines as (
    select * from marts.fct_weblog_lines
),

run as (
    select * from params.run
),

final as (
    select
        'weblog.retention_exceeded' as rule,
        lines.file || ':' || cast(lines.requested_on as varchar) as record_id,
        cast(null as varchar) as email,
        'weblog.access' as source,
        'rule.weblog.retention_exceeded.kept' as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(run.weblog_retention_months as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        run.weblog_horizon_at as first_time,
        count(*) as count
    from lines
    cross join run
    where lines.requested_at < run.weblog_horizon_at
    group by lines.file, lines.requested_on, run.weblog_retention_months, run.weblog_horizon_at
)

select * from final
