-- Findings per rule for every checked as-of (the latest check run of each date).
with runs as (
    select as_of, max(check_run_id) as check_run_id from audit.check_runs group by as_of
)

select runs.as_of, h.rule, count(*) as findings
from runs
inner join audit.findings_history h on h.check_run_id = runs.check_run_id
group by runs.as_of, h.rule
order by runs.as_of, h.rule
