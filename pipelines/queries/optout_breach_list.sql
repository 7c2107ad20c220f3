-- The findings of optout.marketing_after_optout at $as_of one row per mailing
-- (read back from the event ids the rule
-- named: the opt-out's date, the mailing's date and its campaign), a page at a
-- time in the dashboard's grid. A finding whose mailings cannot be read back is
-- one row with its detail (detail_id and facts give it in any language); a row
-- read back has no detail. breach_key is unique: the grid's last sort key.
with run as (
    select as_of from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

found as (
    select h.record_id, h.email, h.detail, h.detail_id, h.first_date, h.second_date, h.third_date,
        h.fourth_date, h.first_number, h.second_number, h.first_text, h.second_text, h.reason, h.first_time
    from audit.findings_history h
    inner join latest_check on h.check_run_id = latest_check.check_run_id
    where h.rule = 'optout.marketing_after_optout' and $as_of <> (select as_of from run)
    union all
    select record_id, email, detail, detail_id, first_date, second_date, third_date,
        fourth_date, first_number, second_number, first_text, second_text, reason, first_time
    from audit.current_findings
    where rule = 'optout.marketing_after_optout' and $as_of = (select as_of from run)
),

mailings as (
    select found.record_id, found.email, trim(event.event_id) as event_id
    from found, unnest(string_split(found.first_text, ',')) as event(event_id)
),

delivered as (
    select mailings.record_id, mailings.email, mailings.event_id, d.occurred_at,
        max(e.marketing_campaign_name) as campaign
    from mailings
    inner join marts.fct_email_deliveries d on d.event_id = mailings.event_id and d.email_key = mailings.email
    left join staging.stg_esp__events e on e.event_id = d.event_id
    group by mailings.record_id, mailings.email, mailings.event_id, d.occurred_at
),

-- the opt-out each mailing came after: the latest one still in force when it was delivered
read_back as (
    select delivered.record_id, delivered.email, max(o.started_at)::date as opted_out_on,
        delivered.occurred_at::date as mailed_on, delivered.campaign, delivered.event_id
    from delivered
    left join marts.fct_optout_intervals o
        on o.email_key = delivered.email and o.started_at < delivered.occurred_at
        and (o.ended_at is null or delivered.occurred_at < o.ended_at)
    group by delivered.record_id, delivered.email, delivered.occurred_at, delivered.campaign, delivered.event_id
),

listed as (
    select record_id, email, opted_out_on, mailed_on, campaign, event_id,
        null::varchar as detail, null::varchar as detail_id, null::date as first_date, null::date as second_date,
        null::date as third_date, null::date as fourth_date, null::bigint as first_number,
        null::bigint as second_number, null::varchar as first_text, null::varchar as second_text,
        null::varchar as reason, null::timestamp as first_time
    from read_back
    union all
    select found.record_id, found.email, null, null, null, null,
        found.detail, found.detail_id, found.first_date, found.second_date, found.third_date, found.fourth_date,
        found.first_number, found.second_number, found.first_text, found.second_text, found.reason, found.first_time
    from found
    where not exists (select 1 from read_back where read_back.record_id = found.record_id)
)

select listed.*,
    row_number() over (order by listed.record_id, listed.mailed_on, listed.event_id) as breach_key
from listed
