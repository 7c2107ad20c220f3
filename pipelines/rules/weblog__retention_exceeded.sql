-- weblog.retention_exceeded: log lines older than the horizon, midnight (in
-- the policy's zone) of add_months(as_of, -N months). One finding per file and
-- UTC day, with the number of lines.
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
        'log lines kept past the ' || cast(run.weblog_retention_months as varchar) || '-month horizon ('
            || cast(run.weblog_horizon_at as varchar) || ' UTC)' as detail,
        count(*) as count
    from lines
    cross join run
    where lines.requested_at < run.weblog_horizon_at
    group by lines.file, lines.requested_on, run.weblog_retention_months, run.weblog_horizon_at
)

select * from final
