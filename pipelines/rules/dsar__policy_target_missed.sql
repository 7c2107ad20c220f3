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
        case when requests.is_open
            then 'open ' || cast(requests.days_elapsed as varchar) || ' days at ' || cast(run.as_of as varchar)
            else 'closed after ' || cast(requests.days_elapsed as varchar) || ' days'
        end || ' (target ' || cast(run.dsar_policy_target_days as varchar) || ' days, '
            || cast(requests.policy_due_on as varchar) || ')' as detail,
        1 as count
    from requests
    cross join run
    where requests.is_past_policy_target
)

select * from final
