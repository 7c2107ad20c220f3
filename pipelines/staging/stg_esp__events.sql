-- E-mail events (SendGrid Event Webhook), once per sg_event_id however many
-- files hold them (the first occurrence is kept; an event without an id is its
-- own). Times are UTC. Incremental: a new file's copy of an event an earlier
-- file holds is not kept (file ids grow with each load, so that copy is later).
with source as (
    select * from raw.esp__event
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

renamed as (
    select
        blank_to_null(sg_event_id) as event_id,
        blank_to_null(sg_message_id) as message_id,
        blank_to_null(email) as email,
        email_key(email) as email_key,
        lower(trim_ws(event)) as event_type,
        timestamp__utc as occurred_at,
        cast(timestamp__utc as date) as occurred_on,
        blank_to_null(reason) as reason,
        blank_to_null(type) as bounce_type,
        blank_to_null(asm_group_id) as asm_group_id,
        blank_to_null(marketing_campaign_id) as marketing_campaign_id,
        blank_to_null(marketing_campaign_name) as marketing_campaign_name,
        blank_to_null(url) as url,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
),

-- ids of the files read that an earlier file already holds (none on a full build):
-- those events were kept from it
earlier_ids as (
    select distinct blank_to_null(sg_event_id) as event_id
    from raw.esp__event
    where _file_id <= (select after_file_id from params.increment)
        and blank_to_null(sg_event_id) in (select event_id from renamed)
),

-- Copies are few: find the ids that repeat first (one column), so that only
-- their rows are sorted, not every event.
repeated_ids as (
    select event_id
    from renamed
    where event_id is not null
    group by event_id
    having count(*) > 1
),

single_copies as (
    select *
    from renamed
    where event_id is null
        or (event_id not in (select event_id from repeated_ids)
            and event_id not in (select event_id from earlier_ids))
),

-- numbered apart from the rows they pick: QUALIFY beside `select *` would leak
-- its row number as a column on Spark (the portable subset)
numbered_copies as (
    select
        event_id,
        file_id,
        record_no,
        row_number() over (partition by event_id order by file_id, record_no) as copy_no
    from renamed
    where event_id in (select event_id from repeated_ids)
),

first_of_repeated as (
    select renamed.*
    from renamed
    join numbered_copies
        on numbered_copies.file_id = renamed.file_id
        and numbered_copies.record_no = renamed.record_no
    where numbered_copies.copy_no = 1
        and renamed.event_id not in (select event_id from earlier_ids)
),

final as (
    select * from single_copies
    union all
    select * from first_of_repeated
)

select * from final
