-- Each marketing mailing behind a finding of optout.marketing_after_optout at
-- $as_of: the address, the opt-out it came after (its date and where it was
-- recorded), the mailing's date and its campaign. The rule names the mailings
-- by event id (first_text); this reads those ids back, so the list holds what
-- the rule found and nothing else.
with run as (
    select as_of from params.run
),

latest_check as (
    select max(check_run_id) as check_run_id from audit.check_runs where as_of = $as_of
),

found as (
    select h.record_id, h.email, h.first_text from audit.findings_history h
    inner join latest_check on h.check_run_id = latest_check.check_run_id
    where h.rule = 'optout.marketing_after_optout' and $as_of <> (select as_of from run)
    union all
    select record_id, email, first_text from audit.current_findings
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
)

-- the opt-out the mailing came after: the latest one still in force when it was delivered
select delivered.record_id, delivered.email, max(o.started_at)::date as opted_out_on,
    arg_max(o.optout_source, o.started_at) as optout_source,
    delivered.occurred_at::date as mailed_on, delivered.campaign, delivered.event_id
from delivered
left join marts.fct_optout_intervals o
    on o.email_key = delivered.email and o.started_at < delivered.occurred_at
    and (o.ended_at is null or delivered.occurred_at < o.ended_at)
group by delivered.record_id, delivered.email, delivered.occurred_at, delivered.campaign, delivered.event_id
order by delivered.record_id, delivered.occurred_at, delivered.event_id
