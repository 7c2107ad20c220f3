-- The results of the latest check run for $as_of (or the latest run when NULL).
with chosen as (
    select max(check_run_id) as check_run_id from audit.check_runs where $as_of is null or as_of = $as_of
)

select c.suite, coalesce(c.rule, c.check_name, c.expectation_type) as check_name, c.column_name, c.severity,
    c.success, c.element_count, c.unexpected_count, c.description, c.exception
from audit.check_results c
inner join chosen using (check_run_id)
order by c.success, c.suite, check_name
