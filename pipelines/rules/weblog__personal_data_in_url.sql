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
        'request targets carrying an e-mail address' as detail,
        count(*) as count
    from lines
    where has_email_in_target
    group by file, requested_on
)

select * from final
