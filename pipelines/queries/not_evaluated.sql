-- What could not be evaluated at $as_of because what it needs was never loaded: rules (suite
-- compliance, rule set; the last build's when $as_of is the built as-of, else the latest check
-- run's for that date) and quality suites (rule NULL; the latest check run's for $as_of).
-- detail is English; detail_id and the facts give it in any language (insyn.findings.detail).
with run as (
    select as_of from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

built as (
    select 'compliance' as suite, rule, missing_sources, source, detail, detail_id, first_date, first_text
    from audit.not_evaluated
    where $as_of = (select as_of from run)
),

checked as (
    select c.suite, c.rule, c.missing_sources, c.source, c.detail, c.detail_id, c.first_date, c.first_text
    from audit.check_not_evaluated c
    inner join latest_check on c.check_run_id = latest_check.check_run_id
    where c.rule is null or $as_of <> (select as_of from run)
)

select * from built
union all
select * from checked
order by suite, rule, source
