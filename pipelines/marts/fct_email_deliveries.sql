-- Delivered e-mails (the policy's delivered events), once per event, with
-- their categories classed: a marketing mailing, a first information mailing,
-- or transactional only. Processed, bounced or dropped mail never arrived.
with events as (
    select * from staging.stg_esp__events
),

categories as (
    select * from staging.stg_esp__event_categories
),

delivered_events as (
    select value from params.value_lists where list_name = 'delivered_events'
),

run as (
    select * from params.run
),

event_classes as (
    select
        file_id,
        record_no,
        count(*) as category_count,
        sum(case when category_class = 'marketing' then 1 else 0 end) as marketing_count,
        sum(case when category_class = 'first_notice' then 1 else 0 end) as first_notice_count,
        sum(case when category_class = 'transactional' then 1 else 0 end) as transactional_count,
        string_agg(category, ', ' order by category) as categories
    from categories
    group by file_id, record_no
),

final as (
    select
        events.event_id,
        events.message_id,
        events.email_key,
        events.occurred_at,
        events.occurred_on,
        event_classes.categories,
        coalesce(event_classes.marketing_count, 0) > 0 as is_marketing,
        coalesce(event_classes.first_notice_count, 0) > 0 as is_first_notice,
        coalesce(event_classes.category_count, 0) > 0
            and event_classes.transactional_count = event_classes.category_count as is_transactional_only,
        events.file_id,
        events.record_no
    from events
    cross join run
    left join event_classes
        on events.file_id = event_classes.file_id and events.record_no = event_classes.record_no
    where events.event_type in (select value from delivered_events)
        and events.occurred_on <= run.as_of
)

select * from final
