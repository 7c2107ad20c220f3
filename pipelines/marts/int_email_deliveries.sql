-- Every delivered e-mail loaded, whatever its date, with its categories classed:
-- a marketing mailing, a first information mailing, or transactional only.
-- Processed, bounced or dropped mail never arrived. Incremental: a new file's
-- events (those staging kept) are classed once, when it is loaded;
-- fct_email_deliveries keeps those dated on or before the as-of.
with events as (
    select * from staging.stg_esp__events
    -- every file, or on an increment those loaded since the last build (up to the last staging covers)
    where file_id > (select after_file_id from params.increment)
        and file_id <= (select through_file_id from params.increment)
),

categories as (
    select * from staging.stg_esp__event_categories
    where file_id > (select after_file_id from params.increment)
        and file_id <= (select through_file_id from params.increment)
),

delivered_events as (
    select value from params.value_lists where list_name = 'delivered_events'
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
    left join event_classes
        on events.file_id = event_classes.file_id and events.record_no = event_classes.record_no
    where events.event_type in (select value from delivered_events)
)

select * from final
