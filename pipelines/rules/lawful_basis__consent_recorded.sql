-- lawful_basis.consent_recorded: a marketing record whose lawful-basis field
-- holds a consent value, which the policy says is never used. Where the
-- field was not exported, one finding says the rule could not be evaluated.
with records as (
    select * from marts.dim_crm_records
),

consent_values as (
    select value from params.value_lists where list_name = 'consent_values'
),

run as (
    select * from params.run
),

consent as (
    select
        'lawful_basis.consent_recorded' as rule,
        record_id,
        email_key as email,
        source,
        'rule.lawful_basis.consent_recorded.consent' as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        lawful_basis as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from records
    where lower(trim_ws(lawful_basis)) in (select value from consent_values)
),

not_exported as (
    select
        'lawful_basis.consent_recorded' as rule,
        records.source as record_id,
        cast(null as varchar) as email,
        records.source,
        'rule.lawful_basis.consent_recorded.not_evaluated' as detail_id,
        cast(null as date) as first_date,
        cast(null as date) as second_date,
        cast(null as date) as third_date,
        cast(null as date) as fourth_date,
        cast(null as bigint) as first_number,
        cast(null as bigint) as second_number,
        case when records.source = 'salesforce.contact'
            then run.lawful_basis_contact_field else run.lawful_basis_lead_field end as first_text,
        cast(null as varchar) as second_text,
        cast(null as varchar) as reason,
        cast(null as timestamp) as first_time,
        1 as count
    from records
    cross join run
    group by records.source, run.lawful_basis_contact_field, run.lawful_basis_lead_field
    having not coalesce(bool_or(records.has_lawful_basis_field), false)
),

final as (
    select * from consent
    union all
    select * from not_exported
)

select * from final
