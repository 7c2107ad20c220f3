-- Company-initiated records not yet flagged whose retention period ends within
-- $days days of the built as-of (today included), if nothing new happens.
with quiet as (
    select
        r.record_id, r.source, r.email_key, r.created_on,
        max(case when e.activity_on <= run.as_of then e.activity_on end) as last_dialogue_on,
        run.as_of, run.retention_inactive_months
    from marts.dim_crm_records r
    cross join params.run run
    left join marts.fct_dialogue_evidence e on e.record_key = r.record_key
    where r.contact_origin = 'company_initiated'
    group by r.record_id, r.source, r.email_key, r.created_on, run.as_of, run.retention_inactive_months
),

due as (
    select *,
        add_months(coalesce(last_dialogue_on, created_on), retention_inactive_months) as due_on
    from quiet
)

select record_id, source, email_key, created_on, last_dialogue_on, due_on,
    date_diff('day', as_of, due_on) as days_left
from due
where due_on >= as_of and date_diff('day', as_of, due_on) <= $days
order by due_on, record_id
