-- transfer.invalid_mechanism: a sub-processor outside the EU/EEA whose
-- transfer basis is not valid at as-of.
with subprocessors as (
    select * from marts.dim_subprocessors
),

final as (
    select
        'transfer.invalid_mechanism' as rule,
        subprocessor_name as record_id,
        cast(null as varchar) as email,
        'register.subprocessors' as source,
        country_iso2 || ', ' || coalesce(transfer_mechanism, '(none)') || ': ' || invalid_reason as detail,
        1 as count
    from subprocessors
    where not is_transfer_valid
)

select * from final
