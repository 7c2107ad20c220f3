-- Delivered e-mails (the policy's delivered events), once per event, dated on
-- or before the as-of, with their categories classed (int_email_deliveries,
-- which classes each file's events once, when it is loaded).
with deliveries as (
    select * from marts.int_email_deliveries
),

run as (
    select * from params.run
),

final as (
    select
        deliveries.event_id,
        deliveries.message_id,
        deliveries.email_key,
        deliveries.occurred_at,
        deliveries.occurred_on,
        deliveries.categories,
        deliveries.is_marketing,
        deliveries.is_first_notice,
        deliveries.is_transactional_only,
        deliveries.file_id,
        deliveries.record_no
    from deliveries
    cross join run
    where deliveries.occurred_on <= run.as_of
)

select * from final
