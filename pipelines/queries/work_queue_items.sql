-- The nearest $limit findings of each rule in $rules at $as_of, for the overview's work queue:
-- the finding's record id (a request id, a sub-processor's name: never an e-mail) and its date
-- (an erasure's date; NULL for rules whose findings carry none), oldest first. Findings as
-- findings.sql reads them: the rule tables at the built as-of, else the latest check run's history.
with run as (
    select as_of from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

found as (
    select rule, record_id, first_date
    from audit.current_findings
    where $as_of = (select as_of from run)
    union all
    select h.rule, h.record_id, h.first_date
    from audit.findings_history h
    inner join latest_check on h.check_run_id = latest_check.check_run_id
    where $as_of <> (select as_of from run)
),

chosen as (
    select rule, record_id, first_date as due_on
    from found
    where list_contains(cast($rules as varchar[]), rule)
    qualify row_number() over (partition by rule order by first_date nulls last, record_id) <= $limit
)

select * from chosen
order by rule, due_on nulls last, record_id
