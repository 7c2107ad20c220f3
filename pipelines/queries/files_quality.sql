-- Every file loaded, with its rows, rejected lines (has_rejected: any) and export time.
select f.file_id, f.file, f.source, f.exported_at, f.exported_at_from, f.rows, f.rejected, f.status, f.encoding,
    f.rejected > 0 as has_rejected
from audit.files f
order by f.file_id
