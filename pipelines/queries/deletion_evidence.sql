-- Records flagged for deletion at an earlier checked as-of, and whether each
-- is gone from the latest CRM export (deleted, or absent) afterwards.
with flagged as (
    select h.record_id, h.source, min(h.as_of) as first_flagged_on
    from audit.findings_history h
    where h.rule = 'retention.inactive_company_initiated'
    group by h.record_id, h.source
),

present as (
    select record_id, source from marts.dim_crm_records
)

select flagged.record_id, flagged.source, flagged.first_flagged_on,
    present.record_id is null as is_gone
from flagged
left join present using (record_id, source)
order by is_gone, flagged.first_flagged_on, flagged.record_id
