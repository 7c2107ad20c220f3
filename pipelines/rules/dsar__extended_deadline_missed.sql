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
        case when is_open then 'open' else 'closed ' || cast(closed_on as varchar) end
            || ' after the extended deadline ' || cast(extended_due_on as varchar) as detail,
        1 as count
    from requests
    where is_overdue and has_valid_extension
)

select * from final
