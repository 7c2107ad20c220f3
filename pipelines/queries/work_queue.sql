-- The overview's work queue at $as_of: for each rule in $rules, its nearest $limit findings
-- (record id: a request id or a sub-processor's name, never an e-mail; and the date each fell
-- due), each row also carrying the rule's count of findings and its earliest due date (the
-- overview lists the few, and shows a rule of many as one line). Findings are the rule tables'
-- when $as_of is the built as-of, else the latest check run's history for that date (as
-- findings.sql reads them). A finding's due date from its own facts: a retention finding's last
-- dialogue (first_date) or, with none, its creation (second_date) plus the policy's months; a
-- missing first notice's creation (first_date) plus the policy's days (a record without an
-- address has no date); an erasure's date (first_date). Other rules' findings are due now (no date).
with run as (
    select * from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

found as (
    select rule, record_id, first_date, second_date
    from audit.current_findings
    where $as_of = (select as_of from run)
    union all
    select h.rule, h.record_id, h.first_date, h.second_date
    from audit.findings_history h
    inner join latest_check on h.check_run_id = latest_check.check_run_id
    where $as_of <> (select as_of from run)
),

dated as (
    select
        found.rule,
        found.record_id,
        case found.rule
            when 'retention.inactive_company_initiated'
                then add_months(coalesce(found.first_date, found.second_date), run.retention_inactive_months)
            when 'notice.first_mailing_missing'
                then cast(found.first_date + to_days(cast(run.first_mailing_days as integer)) as date)
            when 'erasure.not_executed' then found.first_date
        end as due_on
    from found
    cross join run
    where list_contains(cast($rules as varchar[]), found.rule)
),

final as (
    select
        rule,
        record_id,
        due_on,
        count(*) over (partition by rule) as items,
        min(due_on) over (partition by rule) as earliest_due_on
    from dated
    qualify row_number() over (partition by rule order by due_on nulls last, record_id) <= $limit
)

select * from final
order by rule, due_on nulls last, record_id
