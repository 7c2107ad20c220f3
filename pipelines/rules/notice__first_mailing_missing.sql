-- notice.first_mailing_missing: a company-initiated record (judged as for
-- notice.first_mailing_late) that was never sent a delivered mailing, including
-- records with no e-mail address (they cannot have been told).
with notices as (
    select * from marts.fct_first_notices
),

final as (
    select
        'notice.first_mailing_missing' as rule,
        record_id,
        email_key as email,
        source,
        case when email_key is null then 'no e-mail address: the person cannot have been informed'
             else 'no delivered mailing; created ' || cast(created_on as varchar) end as detail,
        1 as count
    from notices
    where is_judged and first_mailing_on is null
)

select * from final
