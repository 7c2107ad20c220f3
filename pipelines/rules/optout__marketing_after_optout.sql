-- optout.marketing_after_optout: a marketing mailing delivered strictly after
-- the address opted out (and, for a group unsubscribe, before a later group
-- resubscribe). One finding per address naming the mailings' event ids.
with optouts as (
    select * from marts.fct_optout_intervals
),

deliveries as (
    select * from marts.fct_email_deliveries
),

breaches as (
    select distinct
        deliveries.email_key,
        deliveries.event_id,
        deliveries.occurred_at
    from deliveries
    inner join optouts
        on deliveries.email_key = optouts.email_key
        and deliveries.occurred_at > optouts.started_at
        and (optouts.ended_at is null or deliveries.occurred_at < optouts.ended_at)
    where deliveries.is_marketing
),

final as (
    select
        'optout.marketing_after_optout' as rule,
        email_key as record_id,
        email_key as email,
        'esp.events' as source,
        'rule.optout.marketing_after_optout.delivered' as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(count(*) as bigint) as first_number,
        cast(null as bigint) as second_number,
        string_agg(coalesce(event_id, '(no event id)'), ', ' order by occurred_at, event_id) as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from breaches
    group by email_key
)

select * from final
