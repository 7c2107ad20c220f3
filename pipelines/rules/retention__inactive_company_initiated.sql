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
        case when last_dialogue_on is null then 'rule.retention.inactive_company_initiated.never'
             else 'rule.retention.inactive_company_initiated.since' end as detail_id,
        last_dialogue_on as first_date,
        created_on as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from windowed
    where created_on < window_start_on
        and (last_dialogue_on is null or last_dialogue_on < window_start_on)
)

select * from final
