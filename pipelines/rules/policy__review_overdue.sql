-- policy.review_overdue: the later of the text's own date (after a marker such
-- as "Senast uppdaterad") and the configured last review is more than N months
-- before as-of (the policy promises a yearly review).
with text_lines as (
    select * from params.policy_text_lines
),

markers as (
    select * from params.policy_date_markers
),

run as (
    select * from params.run
),

text_dates as (
    select
        text_lines.file,
        min(text_lines.line_no) as line_no,
        max(try_cast(regexp_extract(text_lines.line, '([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) as date)) as text_dated_on
    from text_lines
    cross join markers
    where strpos(lower(text_lines.line), lower(markers.marker)) > 0
    group by text_lines.file
),

reviewed as (
    select
        coalesce(text_dates.file, 'policy.toml') as file,
        coalesce(text_dates.line_no, 1) as line_no,
        text_dates.text_dated_on,
        run.policy_last_reviewed_on,
        greatest(coalesce(text_dates.text_dated_on, run.policy_last_reviewed_on), run.policy_last_reviewed_on)
            as last_review_on,
        run.as_of,
        run.policy_review_interval_months
    from run
    left join text_dates
        on true
),

final as (
    select
        'policy.review_overdue' as rule,
        file || ':' || cast(line_no as varchar) as record_id,
        cast(null as varchar) as email,
        'policy.text' as source,
        case when text_dated_on is null then 'rule.policy.review_overdue.undated'
             else 'rule.policy.review_overdue.dated' end as detail_id,
        last_review_on as first_date,
        text_dated_on as second_date,
        as_of as third_date,
        cast(null as date) as fourth_date,
        cast(policy_review_interval_months as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from reviewed
    where add_months(last_review_on, policy_review_interval_months) < as_of
)

select * from final
