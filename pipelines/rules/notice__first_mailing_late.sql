-- notice.first_mailing_late: a company-initiated record whose first delivered
-- mailing (any category but transactional only) came more than N days after it
-- was created (GDPR art. 14(3)). Judged once its N days have ended on or before
-- as-of and on or before the latest e-mail event loaded.
with notices as (
    select * from marts.fct_first_notices
),

final as (
    select
        'notice.first_mailing_late' as rule,
        record_id,
        email_key as email,
        source,
        'rule.notice.first_mailing_late.late' as detail_id,
        first_mailing_on as first_date,
        created_on as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(days_to_first_mailing as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from notices
    where is_judged and first_mailing_on is not null and is_late
)

select * from final
