-- dsar.legal_deadline_missed: closed after the legal one-month deadline
-- (rolled to a working day), or open past it at as-of, without a valid
-- extension (told on or before that deadline).
with requests as (
    select * from marts.fct_dsar_requests
),

final as (
    select
        'dsar.legal_deadline_missed' as rule,
        request_id as record_id,
        email_key as email,
        'register.requests' as source,
        case when is_open then 'open' else 'closed ' || cast(closed_on as varchar) end
            || ' after the deadline ' || cast(legal_due_on as varchar)
            || case when legal_due_on <> legal_due_unrolled_on
                    then ' (' || cast(legal_due_unrolled_on as varchar) || ' rolled to a working day)' else '' end
            || case when extension_notified_on is not null
                    then '; extension told ' || cast(extension_notified_on as varchar) || ', too late' else '' end
            as detail,
        1 as count
    from requests
    where is_overdue and not has_valid_extension
)

select * from final
