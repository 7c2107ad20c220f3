-- dsar.legal_deadline_missed: closed after the legal one-month deadline
-- (rolled to a working day), or open past it at as-of, without a valid
-- extension (told on or before that deadline). The detail names the unrolled
-- deadline when rolling moved it, and an extension told too late.
with requests as (
    select * from marts.fct_dsar_requests
),

final as (
    select
        'dsar.legal_deadline_missed' as rule,
        request_id as record_id,
        email_key as email,
        'register.requests' as source,
        'rule.dsar.legal_deadline_missed.'
            || case when is_open then 'open' else 'closed' end
            || case when legal_due_on <> legal_due_unrolled_on then '_rolled' else '' end
            || case when extension_notified_on is not null then '_late_extension' else '' end as detail_id,
        case when is_open then cast(null as date) else closed_on end as first_date,
        legal_due_on as second_date,
        case when legal_due_on <> legal_due_unrolled_on then legal_due_unrolled_on end as third_date,
        extension_notified_on as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from requests
    where is_overdue and not has_valid_extension
)

select * from final
