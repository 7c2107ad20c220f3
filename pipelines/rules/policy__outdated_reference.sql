-- policy.outdated_reference: the policy text names something no longer true
-- (params.outdated_references). One finding per pattern: record_id is the
-- file and the first line holding it, count the occurrences (case-insensitive).
-- When the policy text is not found, one finding says the rule was not evaluated.
with text_lines as (
    select * from params.policy_text_lines
),

references_ as (
    select * from params.outdated_references
),

occurrences as (
    select
        references_.pattern,
        references_.why,
        text_lines.file,
        text_lines.line_no,
        cast((length(lower(text_lines.line)) - length(replace(lower(text_lines.line), lower(references_.pattern), '')))
            / length(references_.pattern) as integer) as occurrences
    from text_lines
    cross join references_
    where strpos(lower(text_lines.line), lower(references_.pattern)) > 0
),

run as (
    select * from params.run
),

found as (
    select
        'policy.outdated_reference' as rule,
        file || ':' || cast(min(line_no) as varchar) as record_id,
        cast(null as varchar) as email,
        'policy.text' as source,
        'rule.policy.outdated_reference.found' as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        pattern as first_text,
        cast(null as varchar) as second_text,
        why as reason,
        cast(null as timestamp) as first_time,
        cast(sum(occurrences) as bigint) as count  -- DuckDB would sum to HUGEINT, Spark to BIGINT
    from occurrences
    group by file, pattern, why
),

not_found as (
    select
        'policy.outdated_reference' as rule,
        'policy.text_path' as record_id,
        cast(null as varchar) as email,
        'policy.text' as source,
        'rule.policy.outdated_reference.not_found' as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        cast(null as varchar) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        cast(1 as bigint) as count
    from run
    where not run.policy_text_found
),

final as (
    select * from found
    union all
    select * from not_found
)

select * from final
