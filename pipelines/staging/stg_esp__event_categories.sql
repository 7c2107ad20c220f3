-- The categories of each e-mail event (a string or a list in the webhook),
-- one row each, classed by the policy's e-mail categories.
with source as (
    select * from raw.esp__event_category
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

category_lists as (
    select * from params.value_lists
    where list_name in ('marketing_categories', 'first_notice_categories', 'transactional_categories')
),

renamed as (
    select
        _file_id as file_id,
        _record_no as record_no,
        lower(trim_ws(category)) as category
    from source
),

final as (
    select
        renamed.file_id,
        renamed.record_no,
        renamed.category,
        coalesce(replace(category_lists.list_name, '_categories', ''), 'other') as category_class
    from renamed
    left join category_lists
        on renamed.category = lower(category_lists.value)
)

select * from final
