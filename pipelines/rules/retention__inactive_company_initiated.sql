-- retention.inactive_company_initiated: a company-initiated record created
-- before the window start, with no active dialogue in the window
-- [add_months(as_of, -N months), as_of]. It must be deleted.
with records as (
    select * from marts.dim_crm_records
),

evidence as (
    select * from marts.fct_dialogue_evidence
),

run as (
    select * from params.run
),

windowed as (
    select
        records.*,
        add_months(run.as_of, -run.retention_inactive_months) as window_start_on,
        run.as_of
    from records
    cross join run
    where records.contact_origin = 'company_initiated'
),

last_dialogue as (
    select
        windowed.record_key,
        max(case when evidence.activity_on <= windowed.as_of then evidence.activity_on end) as last_dialogue_on,
        sum(case when evidence.activity_on between windowed.window_start_on and windowed.as_of then 1 else 0 end)
            as dialogue_in_window
    from windowed
    left join evidence
        on windowed.record_key = evidence.record_key
    group by windowed.record_key
),

final as (
    select
        'retention.inactive_company_initiated' as rule,
        windowed.record_id,
        windowed.email_key as email,
        windowed.source,
        case
            when last_dialogue.last_dialogue_on is null
                then 'no dialogue recorded; created ' || cast(windowed.created_on as varchar)
            else 'no dialogue since ' || cast(last_dialogue.last_dialogue_on as varchar)
        end as detail,
        1 as count
    from windowed
    inner join last_dialogue
        on windowed.record_key = last_dialogue.record_key
    where windowed.created_on < windowed.window_start_on
        and coalesce(last_dialogue.dialogue_in_window, 0) = 0
)

select * from final
