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
        case when transfer_mechanism is null then 'rule.transfer.invalid_mechanism.not_recorded'
             else 'rule.transfer.invalid_mechanism.recorded' end as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        country_iso2 as first_text,
        transfer_mechanism as second_text,
        invalid_reason as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from subprocessors
    where not is_transfer_valid
)

select * from final
