-- Company-initiated records by whole months since their last dialogue (or
-- creation, when there was none), at the built as-of. The last dialogue comes
-- from the retention clock, and is_due says whether the rule
-- retention.inactive_company_initiated flagged the record: the rule is the one
-- definition of "due for deletion" (a record quiet exactly the period to the
-- day is within it), so the chart and the deletion list give the same number.
with clock as (
    select * from marts.fct_retention_clock
),

flagged as (
    select distinct record_id, source from audit.current_findings
    where rule = 'retention.inactive_company_initiated'
)

select clock.record_id, clock.source, clock.email_key, clock.created_on, clock.last_dialogue_on,
    coalesce(clock.last_dialogue_on, clock.created_on) as quiet_since_on,
    -- whole calendar months, as add_months counts them
    (year(run.as_of) * 12 + month(run.as_of)) - (year(coalesce(clock.last_dialogue_on, clock.created_on)) * 12
        + month(coalesce(clock.last_dialogue_on, clock.created_on)))
        - case when day(run.as_of) < day(coalesce(clock.last_dialogue_on, clock.created_on)) then 1 else 0 end
        as months_quiet,
    flagged.record_id is not null as is_due
from clock
cross join params.run run
left join flagged on flagged.record_id = clock.record_id and flagged.source = clock.source
order by months_quiet desc, clock.record_id
