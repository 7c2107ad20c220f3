-- For each snapshot source, the latest export taken on or before the as-of
-- date: the export a rule judges. From audit.files, so an export that held
-- no rows (everything deleted) still counts as the latest.
with files as (
    select * from audit.files
),

run as (
    select * from params.run
),

final as (
    select
        files.source,
        max(files.exported_at) as exported_at,
        cast(max(files.exported_at) as date) as exported_on
    from files
    cross join run
    where cast(files.exported_at as date) <= run.as_of
    group by files.source
)

select * from final
