-- Every file loaded with an export date on or before the built as-of, and
-- whether it belongs to the latest export of its kind (the one the snapshot
-- rules judge; appended streams such as e-mail events and web logs are read
-- in full).
select f.source, f.file, f.sha256, f.exported_at, f.rows, f.rejected,
    f.exported_at = l.exported_at as is_latest
from audit.files f
inner join marts.int_latest_exports l on l.source = f.source
where cast(f.exported_at as date) <= l.exported_on
order by f.source, f.exported_at, f.file
