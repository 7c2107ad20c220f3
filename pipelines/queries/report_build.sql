-- The latest build of the warehouse (audit.runs) and the Insyn version of its
-- latest load, for the report's provenance.
select r.run_id, r.command, r.as_of, r.started_at, r.finished_at, r.status, r.models,
    (select insyn_version from audit.loads order by load_id desc limit 1) as insyn_version,
    (select count(*) from audit.files) as files_loaded
from audit.runs r
order by r.run_id desc
limit 1
