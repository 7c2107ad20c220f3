-- Records flagged by retention.inactive_company_initiated at a checked as-of
-- from $from_on to $to_on (NULL: no bound; the latest check run of each date),
-- and whether each had left the CRM: in the next export of its object taken on
-- a later date than it was first flagged, and in the latest export on or
-- before the built as-of. Present means a non-deleted row with the same id
-- (sfid15) in that export (a converted lead is still present); NULL when there
-- is no such later export yet.
with run as (
    select as_of from params.run
),

runs as (
    select as_of, max(check_run_id) as check_run_id
    from audit.check_runs
    where ($from_on is null or as_of >= $from_on) and ($to_on is null or as_of <= $to_on)
    group by as_of
),

flagged as (
    select h.record_id, h.source, sfid15(h.record_id) as record_key,
        min(h.as_of) as first_flagged_on, max(h.as_of) as last_flagged_on, count(*) as times_flagged
    from audit.findings_history h
    inner join runs on runs.check_run_id = h.check_run_id
    where h.rule = 'retention.inactive_company_initiated'
    group by h.record_id, h.source
),

exports as (
    select distinct f.source, f.exported_at
    from audit.files f
    cross join run
    where f.source in ('salesforce.contact', 'salesforce.lead') and cast(f.exported_at as date) <= run.as_of
),

crm_rows as (
    select distinct 'salesforce.contact' as source, contact_key as record_key, exported_at
    from staging.stg_salesforce__contacts where not is_deleted
    union all
    select distinct 'salesforce.lead' as source, lead_key as record_key, exported_at
    from staging.stg_salesforce__leads where not is_deleted
),

later as (
    select flagged.record_id, flagged.source,
        min(exports.exported_at) as next_export_at, max(exports.exported_at) as latest_export_at
    from flagged
    inner join exports on exports.source = flagged.source
        and cast(exports.exported_at as date) > flagged.first_flagged_on
    group by flagged.record_id, flagged.source
),

final as (
    select flagged.record_id, flagged.source, flagged.first_flagged_on, flagged.last_flagged_on,
        flagged.times_flagged, later.next_export_at,
        case when later.next_export_at is not null then in_next.record_key is null end as is_gone_by_next_export,
        later.latest_export_at,
        case when later.latest_export_at is not null then in_latest.record_key is null end as is_gone_now
    from flagged
    left join later on later.record_id = flagged.record_id and later.source = flagged.source
    left join crm_rows in_next on in_next.source = flagged.source and in_next.record_key = flagged.record_key
        and in_next.exported_at = later.next_export_at
    left join crm_rows in_latest on in_latest.source = flagged.source and in_latest.record_key = flagged.record_key
        and in_latest.exported_at = later.latest_export_at
)

select * from final
order by is_gone_by_next_export nulls last, first_flagged_on, record_id
