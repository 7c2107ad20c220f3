-- The DPO's request register, every snapshot: dates typed (unreadable cells
-- stay NULL here and are kept as text beside them), request types and
-- outcomes mapped by the policy's vocabulary, fees as numbers.
with source as (
    select * from raw.register__requests
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

request_types as (
    select * from params.request_types
),

outcomes as (
    select * from params.outcomes
),

renamed as (
    select
        trim_ws(request_id) as request_id,
        to_date(received) as received_on,
        blank_to_null(received) as received_text,
        blank_to_null(channel) as channel,
        blank_to_null(name) as requester_name,
        blank_to_null(email) as email,
        email_key(email) as email_key,
        blank_to_null(crm_id) as crm_id,
        sfid15(crm_id) as crm_key,
        blank_to_null(request_type) as request_type_label,
        lower(trim_ws(request_type)) as request_type_key,
        to_date(identity_verified) as identity_verified_on,
        blank_to_null(identity_verified) as identity_verified_text,
        blank_to_null(verification_method) as verification_method,
        to_date(extension_notified) as extension_notified_on,
        blank_to_null(extension_notified) as extension_notified_text,
        blank_to_null(extension_reason) as extension_reason,
        to_date(answered) as answered_on,
        blank_to_null(answered) as answered_text,
        to_date(closed) as closed_on,
        blank_to_null(closed) as closed_text,
        blank_to_null(outcome) as outcome_label,
        lower(trim_ws(outcome)) as outcome_key,
        to_amount(fee) as fee_sek,
        blank_to_null(fee) as fee_text,
        blank_to_null(handler) as handler,
        blank_to_null(notes) as notes,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
),

final as (
    select
        renamed.request_id,
        renamed.received_on,
        renamed.received_text,
        renamed.channel,
        renamed.requester_name,
        renamed.email,
        renamed.email_key,
        renamed.crm_id,
        renamed.crm_key,
        renamed.request_type_label,
        coalesce(request_types.request_type, 'unknown') as request_type,
        renamed.identity_verified_on,
        renamed.identity_verified_text,
        renamed.verification_method,
        renamed.extension_notified_on,
        renamed.extension_notified_text,
        renamed.extension_reason,
        renamed.answered_on,
        renamed.answered_text,
        renamed.closed_on,
        renamed.closed_text,
        renamed.outcome_label,
        outcomes.outcome,
        renamed.fee_sek,
        renamed.fee_text,
        renamed.handler,
        renamed.notes,
        (renamed.received_text is not null and renamed.received_on is null)
            or (renamed.identity_verified_text is not null and renamed.identity_verified_on is null)
            or (renamed.extension_notified_text is not null and renamed.extension_notified_on is null)
            or (renamed.answered_text is not null and renamed.answered_on is null)
            or (renamed.closed_text is not null and renamed.closed_on is null)
            as has_unreadable_date,
        renamed.exported_at,
        renamed.file_id,
        renamed.record_no,
        renamed.line_no
    from renamed
    left join request_types
        on renamed.request_type_key = request_types.label_key
    left join outcomes
        on renamed.outcome_key = outcomes.label_key
)

select * from final
