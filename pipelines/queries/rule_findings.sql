-- The findings of one $rule at $as_of (as the query findings reads them: the rule
-- tables at the built as-of, else that date's latest check run), a page at a time
-- in the dashboard's grids (dashboards/components/grid.py): finding_key is unique,
-- the grid's last sort key. detail is English; detail_id and the facts give it in
-- any language (insyn.findings.detail).
with run as (
    select as_of from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

found as (
    select h.record_id, h.email, h.source, h.detail, h.count,
        h.detail_id, h.first_date, h.second_date, h.third_date, h.fourth_date, h.first_number,
        h.second_number, h.first_text, h.second_text, h.reason, h.first_time
    from audit.findings_history h
    inner join latest_check on h.check_run_id = latest_check.check_run_id
    where h.rule = $rule and $as_of <> (select as_of from run)
    union all
    select record_id, email, source, detail, count,
        detail_id, first_date, second_date, third_date, fourth_date, first_number,
        second_number, first_text, second_text, reason, first_time
    from audit.current_findings
    where rule = $rule and $as_of = (select as_of from run)
)

select found.*,
    row_number() over (order by found.record_id, found.source, found.detail, found.email) as finding_key
from found
