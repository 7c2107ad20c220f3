-- Every erasure carried out on paper (a register request of type erasure, done and closed, or an
-- entry of the workbench's ledger) and where the person still appears in an export taken after
-- its date, on or before as-of (marts.fct_erasure_presence, what erasure.not_executed judges):
-- one row per erasure and place still holding the person (first and last seen in an export),
-- or one row for an erasure no later export holds. That row says carried_out only when every
-- source kind the rule reads ($sources, its `needs`) that was ever loaded has an export taken
-- after the erasure; else not_judged (the exports since may not show it yet). No e-mail.
with presence as (
    select * from marts.fct_erasure_presence
),

run as (
    select as_of from params.run
),

files as (
    select * from audit.files
),

-- the latest export of each source kind the rule reads, on or before as-of
latest as (
    select files.source, max(cast(files.exported_at as date)) as exported_on
    from files
    cross join run
    where list_contains(cast($sources as varchar[]), files.source)
        and cast(files.exported_at as date) <= run.as_of
    group by files.source
),

-- every such kind has an export after an erasure made before this date
judged as (
    select min(exported_on) as judged_until from latest
),

places as (
    select
        erasure_id,
        erased_on,
        found_in,
        found_record_id,
        cast(min(found_in_export_at) as date) as first_seen_on,
        cast(max(found_in_export_at) as date) as last_seen_on
    from presence
    group by erasure_id, erased_on, found_in, found_record_id
),

final as (
    select
        places.erasure_id,
        places.erased_on,
        case
            when places.found_in is not null then 'still_present'
            when judged.judged_until > places.erased_on then 'carried_out'
            else 'not_judged'
        end as erasure_status,
        places.found_in,
        places.found_record_id,
        places.first_seen_on,
        places.last_seen_on,
        date_diff('day', places.erased_on, run.as_of) as days_since,
        places.found_in is not null as is_open,
        places.erasure_id || ' ' || coalesce(places.found_in, '') || ' ' || coalesce(places.found_record_id, '')
            as row_key
    from places
    cross join run
    cross join judged
)

select * from final
order by is_open desc, erasure_status = 'carried_out', erased_on, row_key
