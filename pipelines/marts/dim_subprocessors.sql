-- The sub-processors in the latest register export on or before as-of, each
-- transfer basis judged at as-of: inside the EU/EEA no transfer basis is
-- needed; outside it, an adequacy decision for the country, the EU-US Data
-- Privacy Framework for an importer certified on as-of, the 2021 SCCs with a
-- transfer impact assessment, BCRs; never Privacy Shield after its
-- invalidation, the old SCCs after their end, or nothing.
with subprocessors as (
    select * from staging.stg_register__subprocessors
),

latest as (
    select * from marts.int_latest_exports
),

run as (
    select * from params.run
),

lists as (
    select * from params.value_lists
),

current_register as (
    select subprocessors.*
    from subprocessors
    inner join latest
        on latest.source = 'register.subprocessors' and subprocessors.exported_at = latest.exported_at
),

judged as (
    select
        current_register.*,
        current_register.country_iso2 in (select value from lists where list_name = 'eea_countries') as is_in_eea,
        current_register.country_iso2 in (select value from lists where list_name = 'adequacy_countries')
            as has_country_adequacy,
        case
            when current_register.transfer_mechanism = 'adequacy' then
                case when current_register.country_iso2 in (select value from lists where list_name = 'adequacy_countries')
                    then null else 'no adequacy decision for the country' end
            when current_register.transfer_mechanism = 'dpf' then
                case
                    when current_register.country_iso2 <> run.dpf_country then 'the DPF covers only its own country'
                    when run.as_of < run.dpf_adequacy_from then 'the DPF adequacy decision was not yet in force'
                    when current_register.dpf_certified_until is null then 'no DPF certification date recorded'
                    when current_register.dpf_certified_until < run.as_of then 'DPF certification had lapsed'
                end
            when current_register.transfer_mechanism = 'scc_2021' then
                case when current_register.tia_on is null or current_register.tia_on > run.as_of
                    then '2021 SCCs without a transfer impact assessment' end
            when current_register.transfer_mechanism = 'scc_2010' then
                case when run.as_of > run.old_scc_valid_until then '2010 SCCs no longer valid' end
            when current_register.transfer_mechanism = 'bcr' then null
            when current_register.transfer_mechanism = 'privacy_shield' then
                case when run.as_of >= run.privacy_shield_invalid_from then 'Privacy Shield was invalidated (C-311/18)' end
            when current_register.transfer_mechanism = 'none' then 'no transfer basis'
            else 'unknown transfer mechanism'
        end as mechanism_problem
    from current_register
    cross join run
),

final as (
    select
        subprocessor_name,
        country_iso2,
        processing_role,
        transfer_mechanism,
        dpf_certified_until,
        tia_on,
        dpa_on,
        is_in_eea,
        has_country_adequacy,
        is_in_eea or has_country_adequacy or mechanism_problem is null as is_transfer_valid,
        case when is_in_eea or has_country_adequacy then null else mechanism_problem end as invalid_reason,
        exported_at
    from judged
)

select * from final
