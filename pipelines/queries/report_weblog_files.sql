-- Web server log lines per log file (every log loaded, each line once): the
-- days they span, how many are older than the retention horizon
-- (params.run.weblog_horizon_at, as weblog.retention_exceeded counts them) and
-- how many carry an e-mail address in the request target.
select l.file, count(*) as lines,
    min(l.requested_on) as first_on, max(l.requested_on) as last_on,
    count(*) filter (where l.requested_at < run.weblog_horizon_at) as lines_past_horizon,
    count(*) filter (where l.has_email_in_target) as lines_with_email
from marts.fct_weblog_lines l
cross join params.run run
group by l.file
order by min(l.requested_at), l.file
