-- dsar.policy_target_missed: closed more than N days after receipt, or open
-- more than N days at as-of (the policy's own target).
with requests as (
    select * from marts.fct_dsar_requests
),

run as (
    select * from params.run
),

final as (
    select
        'dsar.policy_target_missed' as rule,
        requests.request_id as record_id,
        requests.email_key as email,
        'register.requests' as source,
        case when requests.is_open then 'rule.dsar.policy_target_missed.open'
             else 'rule.dsar.policy_target_missed.closed' end as detail_id,
        case when requests.is_open then run.as_of end as first_date,
        requests.policy_due_on as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(requests.days_elapsed as bigint) as first_number,
        cast(run.dsar_policy_target_days as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from requests
    cross join run
    where requests.is_past_policy_target
)

select * from final
