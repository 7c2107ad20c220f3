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
        'last reviewed ' || cast(last_review_on as varchar) || ' (text dated '
            || coalesce(cast(text_dated_on as varchar), 'nowhere') || '), more than '
            || cast(policy_review_interval_months as varchar) || ' months before ' || cast(as_of as varchar) as detail,
        1 as count
    from reviewed
    where add_months(last_review_on, policy_review_interval_months) < as_of
)

select * from final
