-- The as-of dates the dashboard can show: the one the snapshot was built for,
-- and every earlier checked as-of (findings history), newest first.
select as_of, true as is_built from params.run
union
select distinct as_of, false as is_built from audit.findings_history
where as_of <> (select as_of from params.run)
order by as_of desc
