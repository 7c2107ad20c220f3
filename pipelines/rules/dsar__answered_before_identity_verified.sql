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
        'answered ' || cast(answered_on as varchar) || ', identity '
            || coalesce('verified ' || cast(identity_verified_on as varchar), 'never verified') as detail,
        1 as count
    from requests
    where answered_on is not null
        and (identity_verified_on is null or identity_verified_on > answered_on)
)

select * from final
