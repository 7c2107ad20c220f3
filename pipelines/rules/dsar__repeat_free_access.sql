-- dsar.repeat_free_access: a free access request (no fee, or 0) received on or
-- after an earlier free access request by the same person (same e-mail) and
-- before add_months(earlier, N). The finding is the later request.
with requests as (
    select * from marts.fct_dsar_requests
),

run as (
    select * from params.run
),

free_access as (
    select * from requests where is_free_access and email_key is not null
),

repeats as (
    select
        later.request_id,
        later.email_key,
        earlier.request_id as earlier_request_id,
        earlier.received_on as earlier_received_on
    from free_access as later
    inner join free_access as earlier
        on later.email_key = earlier.email_key
        and (earlier.received_on < later.received_on
             or (earlier.received_on = later.received_on and earlier.request_id < later.request_id))
    cross join run
    where later.received_on < add_months(earlier.received_on, run.dsar_free_access_interval_months)
    qualify row_number() over (
        partition by later.request_id order by earlier.received_on desc, earlier.request_id desc
    ) = 1
),

final as (
    select
        'dsar.repeat_free_access' as rule,
        repeats.request_id as record_id,
        repeats.email_key as email,
        'register.requests' as source,
        'rule.dsar.repeat_free_access.repeat' as detail_id,
        repeats.earlier_received_on as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(run.dsar_free_access_interval_months as bigint) as first_number,
        cast(null as bigint) as second_number,
        repeats.earlier_request_id as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from repeats
    cross join run
)

select * from final
