-- Every check run: when, for which as-of, and how many expectations failed.
select check_run_id, as_of, finished_at, success, expectations, failed
from audit.check_runs
order by check_run_id
