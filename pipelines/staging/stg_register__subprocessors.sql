-- The sub-processor register the DPO keeps, every snapshot.
with source as (
    select * from raw.register__subprocessors
    -- every file, or on an increment those loaded since the last build
    where _file_id > (select after_file_id from params.increment)
),

final as (
    select
        trim_ws(name) as subprocessor_name,
        upper(trim_ws(country_iso2)) as country_iso2,
        blank_to_null(role) as processing_role,
        lower(trim_ws(transfer_mechanism)) as transfer_mechanism,
        to_date(dpf_certified_until) as dpf_certified_until,
        to_date(tia_on) as tia_on,
        to_date(dpa_on) as dpa_on,
        -- a date the register holds but that cannot be read: the rule and the letter would read it as
        -- "none recorded", so the quality suite names it
        (blank_to_null(dpf_certified_until) is not null and to_date(dpf_certified_until) is null)
            or (blank_to_null(tia_on) is not null and to_date(tia_on) is null)
            or (blank_to_null(dpa_on) is not null and to_date(dpa_on) is null)
            as has_unreadable_date,
        _exported_at as exported_at,
        _file_id as file_id,
        _record_no as record_no,
        _line_no as line_no
    from source
)

select * from final
