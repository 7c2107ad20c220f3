-- erasure.not_executed: a person whose erasure was carried out still appears
-- in a CRM or audience export taken after the erasure date. One finding per
-- erasure (register request or ledger entry); the detail lists where the person
-- was found.
with presence as (
    select * from marts.fct_erasure_presence
),

final as (
    select
        'erasure.not_executed' as rule,
        erasure_id as record_id,
        email_key as email,
        'register.requests' as source,
        'rule.erasure.not_executed.still_present' as detail_id,
        erased_on as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        string_agg(distinct found_in || ' ' || coalesce(found_record_id, ''), ', '
                   order by found_in || ' ' || coalesce(found_record_id, '')) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from presence
    where found_in is not null
    group by erasure_id, email_key, erased_on
)

select * from final
