-- Company-initiated records by whole months since their last dialogue (or
-- creation, when there was none), at the built as-of.
with records as (
    select * from marts.dim_crm_records where contact_origin = 'company_initiated'
),

last_dialogue as (
    select records.record_id, records.source, records.email_key, records.created_on,
        max(case when e.activity_on <= run.as_of then e.activity_on end) as last_dialogue_on, run.as_of
    from records
    cross join params.run run
    left join marts.fct_dialogue_evidence e on e.record_key = records.record_key
    group by records.record_id, records.source, records.email_key, records.created_on, run.as_of
)

select record_id, source, email_key, created_on, last_dialogue_on,
    coalesce(last_dialogue_on, created_on) as quiet_since_on,
    -- whole calendar months, as add_months counts them
    (year(as_of) * 12 + month(as_of)) - (year(coalesce(last_dialogue_on, created_on)) * 12
        + month(coalesce(last_dialogue_on, created_on)))
        - case when day(as_of) < day(coalesce(last_dialogue_on, created_on)) then 1 else 0 end as months_quiet
from last_dialogue
order by months_quiet desc, record_id
