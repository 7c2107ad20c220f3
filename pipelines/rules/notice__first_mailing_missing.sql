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
        case when email_key is null then 'rule.notice.first_mailing_missing.no_address'
             else 'rule.notice.first_mailing_missing.no_mailing' end as detail_id,
        case when email_key is null then cast(null as date) else created_on end as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from notices
    where is_judged and first_mailing_on is null
)

select * from final
