-- When each company-initiated record of the person population falls due for
-- deletion if nothing new happens: its last active dialogue up to as-of (or its
-- creation, when there is none) plus the policy's months without dialogue. The
-- rule retention.inactive_company_initiated judges the window itself; this
-- clock is for looking ahead (deletion lists, the access report).
with records as (
    select * from marts.dim_crm_records
),

evidence as (
    select * from marts.fct_dialogue_evidence
),

run as (
    select * from params.run
),

last_dialogue as (
    select
        records.record_key,
        max(case when evidence.activity_on <= run.as_of then evidence.activity_on end) as last_dialogue_on
    from records
    cross join run
    left join evidence
        on evidence.record_key = records.record_key
    where records.contact_origin = 'company_initiated'
    group by records.record_key
),

final as (
    select
        records.record_id,
        records.record_key,
        records.source,
        records.email_key,
        records.created_on,
        last_dialogue.last_dialogue_on,
        add_months(coalesce(last_dialogue.last_dialogue_on, records.created_on), run.retention_inactive_months)
            as due_on,
        date_diff('day', run.as_of,
                  add_months(coalesce(last_dialogue.last_dialogue_on, records.created_on),
                             run.retention_inactive_months)) as days_left
    from records
    inner join last_dialogue
        on last_dialogue.record_key = records.record_key
    cross join run
)

select * from final
