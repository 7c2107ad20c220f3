-- dsar.extended_deadline_missed: validly extended, but closed after (or open
-- past) the three-month deadline (rolled to a working day).
with requests as (
    select * from marts.fct_dsar_requests
),

final as (
    select
        'dsar.extended_deadline_missed' as rule,
        request_id as record_id,
        email_key as email,
        'register.requests' as source,
        case when is_open then 'rule.dsar.extended_deadline_missed.open'
             else 'rule.dsar.extended_deadline_missed.closed' end as detail_id,
        case when is_open then cast(null as date) else closed_on end as first_date,
        extended_due_on as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from requests
    where is_overdue and has_valid_extension
)

select * from final
