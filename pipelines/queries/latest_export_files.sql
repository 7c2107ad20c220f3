-- For each source, the export the snapshot's rules judge (the latest taken on or before the
-- built as-of, marts.int_latest_exports): its date and its file names (an event stream's latest
-- file; streams are read in full). The overview says which export each list was judged from.
select f.source, max(f.exported_at) as exported_at, string_agg(distinct f.file, ', ' order by f.file) as files
from audit.files f
inner join marts.int_latest_exports l on l.source = f.source and f.exported_at = l.exported_at
group by f.source
order by f.source
