-- The e-mail tool's audience: subscribed, unsubscribed and cleaned members,
-- every export; status comes from the file the member was in.
with source as (
    select * from raw.mailchimp__audience
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        blank_to_null(email_address) as email,
        email_key(email_address) as email_key,
        _status as member_status,
        blank_to_null(first_name) as first_name,
        blank_to_null(last_name) as last_name,
        optin_time__utc as opted_in_at,
        confirm_time__utc as confirmed_at,
        last_changed__utc as last_changed_at,
        unsub_time__utc as unsubscribed_at,
        blank_to_null(unsub_reason) as unsubscribe_reason,
        clean_time__utc as cleaned_at,
        blank_to_null(leid) as leid,
        blank_to_null(euid) as euid,
        blank_to_null(tags) as tags,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
