-- dsar.answered_before_identity_verified: an answer was sent and identity was
-- verified later or never (the same day is fine).
with requests as (
    select * from marts.fct_dsar_requests
),

final as (
    select
        'dsar.answered_before_identity_verified' as rule,
        request_id as record_id,
        email_key as email,
        'register.requests' as source,
        case when identity_verified_on is null
            then 'rule.dsar.answered_before_identity_verified.never_verified'
            else 'rule.dsar.answered_before_identity_verified.verified_later' end as detail_id,
        answered_on as first_date,
        identity_verified_on as second_date,
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
    where answered_on is not null
        and (identity_verified_on is null or identity_verified_on > answered_on)
)

select * from final
