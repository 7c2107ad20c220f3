-- For every company-initiated record in the population: its first delivered
-- mailing (any category but transactional only) to its address in any letter
-- case, and whether the notice rules can judge it yet: its N days must have
-- ended on or before as-of and on or before the latest e-mail event loaded
-- (the data cannot show a mailing sent after that).
with records as (
    select * from marts.dim_crm_records
),

deliveries as (
    select * from marts.fct_email_deliveries
),

events as (
    select * from staging.stg_esp__events
),

run as (
    select * from params.run
),

latest_event as (
    select max(events.occurred_on) as latest_event_on
    from events
    cross join run
    where events.occurred_on <= run.as_of
),

first_mailings as (
    select email_key, min(occurred_on) as first_mailing_on
    from deliveries
    where not is_transactional_only
    group by email_key
),

final as (
    select
        records.source,
        records.record_id,
        records.record_key,
        records.email_key,
        records.created_on,
        first_mailings.first_mailing_on,
        date_diff('day', records.created_on, first_mailings.first_mailing_on) as days_to_first_mailing,
        date_diff('day', records.created_on, first_mailings.first_mailing_on) > run.first_mailing_days as is_late,
        records.created_on + run.first_mailing_days <= run.as_of
            and records.created_on + run.first_mailing_days <= latest_event.latest_event_on as is_judged
    from records
    cross join run
    cross join latest_event
    left join first_mailings
        on records.email_key = first_mailings.email_key
    where records.contact_origin = 'company_initiated'
)

select * from final
