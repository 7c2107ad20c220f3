-- One row per rule: findings at $as_of (0 when none), with severity and titles
-- (title_id is the message id; title_en and title_sv its words when the warehouse was built),
-- and whether the rule was not evaluated (what it needs was never loaded: its 0 is no answer).
with unable as (
    select distinct rule from audit.not_evaluated
    where $as_of = (select as_of from params.run)
    union
    select distinct rule from audit.check_not_evaluated
    where rule is not null and $as_of <> (select as_of from params.run)
        and check_run_id = (select max(check_run_id) from audit.check_runs where as_of = $as_of)
),

counts as (
    select rule, count(*) as findings, sum(count) as items
    from audit.current_findings
    where $as_of = (select as_of from params.run)
    group by rule
    union all
    select h.rule, count(*) as findings, sum(h.count) as items
    from audit.findings_history h
    where h.check_run_id = (select max(check_run_id) from audit.check_runs where as_of = $as_of)
        and $as_of <> (select as_of from params.run)
    group by h.rule
)

select r.rule, r.severity, r.title_id, r.title_en, r.title_sv, r.legal_reference,
    coalesce(counts.findings, 0) as findings, coalesce(counts.items, 0) as items,
    unable.rule is not null as not_evaluated
from params.rules r
left join counts using (rule)
left join unable using (rule)
order by case r.severity when 'high' then 1 when 'medium' then 2 else 3 end, r.rule
