-- retention.inactive_company_initiated: a company-initiated record created
-- before the window start, with no active dialogue in the window
-- [add_months(as_of, -N months), as_of]. It must be deleted. The last
-- dialogue up to as-of comes from the retention clock (one place for it):
-- none in the window means none, or the last one before the window start.
with clock as (
    select * from marts.fct_retention_clock
),

run as (
    select * from params.run
),

windowed as (
    select
        clock.*,
        add_months(run.as_of, -run.retention_inactive_months) as window_start_on
    from clock
    cross join run
),

final as (
    select
        'retention.inactive_company_initiated' as rule,
        record_id,
        email_key as email,
        source,
        case
            when last_dialogue_on is null
                then 'no dialogue recorded; created ' || cast(created_on as varchar)
            else 'no dialogue since ' || cast(last_dialogue_on as varchar)
        end as detail,
        1 as count
    from windowed
    where created_on < window_start_on
        and (last_dialogue_on is null or last_dialogue_on < window_start_on)
)

select * from final
