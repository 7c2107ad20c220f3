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
        'first mailing ' || cast(first_mailing_on as varchar) || ', '
            || cast(days_to_first_mailing as varchar) || ' days after creation on '
            || cast(created_on as varchar) as detail,
        1 as count
    from notices
    where is_judged and first_mailing_on is not null and is_late
)

select * from final
