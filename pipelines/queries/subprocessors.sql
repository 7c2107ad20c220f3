-- The sub-processor register judged at the built as-of.
select subprocessor_name, country_iso2, processing_role, transfer_mechanism, dpf_certified_until, tia_on,
    dpa_on, is_in_eea, has_country_adequacy, is_transfer_valid, invalid_reason
from marts.dim_subprocessors
order by is_transfer_valid, subprocessor_name
