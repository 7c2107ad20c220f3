-- The findings at $as_of: the rule tables when it is the built as-of, else the
-- latest check run's findings history for that date. $rule NULL means every rule.
-- detail is English; detail_id and the facts give it in any language
-- (insyn.findings.detail). History kept before findings had facts has no detail_id.
with run as (
    select as_of from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

from_history as (
    select h.rule, h.record_id, h.email, h.source, h.detail, h.count,
        h.detail_id, h.first_date, h.second_date, h.third_date, h.fourth_date, h.first_number,
        h.second_number, h.first_text, h.second_text, h.reason, h.first_time
    from audit.findings_history h
    inner join latest_check on h.check_run_id = latest_check.check_run_id
    where $as_of <> (select as_of from run)
),

from_rules as (
    select rule, record_id, email, source, detail, count,
        detail_id, first_date, second_date, third_date, fourth_date, first_number,
        second_number, first_text, second_text, reason, first_time
    from audit.current_findings
    where $as_of = (select as_of from run)
),

final as (
    select * from from_history
    union all
    select * from from_rules
)

select final.*, r.severity, r.title_id, r.title_en, r.title_sv
from final
left join params.rules r using (rule)
where $rule is null or final.rule = $rule
order by final.rule, final.record_id
