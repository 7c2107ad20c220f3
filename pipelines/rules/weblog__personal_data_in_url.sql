-- weblog.personal_data_in_url: log lines whose request target, after
-- percent-decoding, holds an e-mail address. One finding per file and UTC day,
-- with the number of lines.
with lines as (
    select * from marts.fct_weblog_lines
),

final as (
    select
        'weblog.personal_data_in_url' as rule,
        file || ':' || cast(requested_on as varchar) as record_id,
        cast(null as varchar) as email,
        'weblog.access' as source,
        'rule.weblog.personal_data_in_url.found' as detail_id,
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
        count(*) as count
    from lines
    where has_email_in_target
    group by file, requested_on
)

select * from final
