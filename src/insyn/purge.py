"""`insyn purge`: the workbench keeps its own retention policy.

The warehouse holds personal data too. Two kinds of raw rows expire:

- CRM, audience and register snapshots exported more than `[purge]
  snapshot_months` (insyn.toml) before the as-of date, except the latest
  export of each source, which the rules judge (it is what the system holds);
- web server log lines older than the policy's log retention (the same
  horizon as the rule weblog.retention_exceeded: midnight in the policy's zone).

Their rejected lines (raw text) go with them. A web log's quarantined lines
(audit.rejected_lines: a TLS handshake, a truncated line) go by their own
age: the time the line begins with, as the rule reads it; a line with no
readable time goes once its file was exported before the horizon (every line
of a file was written before the file was taken). `audit.files` keeps each file's
entry, marked `purged`, and `audit.purges` records what went, when and why:
the evidence that the workbench deleted, without the data. All in one
transaction; `--dry-run` reports and changes nothing.

Files go by age too (`[retention]` in insyn.toml, in days): the access log's
entries, the access reports produced (wherever the ledger says they were
written, and the reports folder), and the deletion-task files of erasures.
A recorded copy that cannot be reached is named, not silently skipped.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .build import weblog_horizon
from .dates import add_months
from .db import ident, transaction
from .load import SNAPSHOT_FORMATS
from .readers import quarantined_line_head
from .schema import ensure_audit, ensure_schema
from .sources import Sources
from .text import column_key


def log_tables(sources: Sources) -> list[tuple[str, str]]:
    """(raw table, its UTC time column) of every web log kind in sources.toml."""
    return sorted({(k.table, column_key(k.timestamps[0]) + "__utc")
                   for k in sources.kinds.values() if k.format == "log" and k.timestamps})


@dataclass
class PurgePlan:
    as_of: dt.date
    snapshots_before: dt.datetime | None
    weblog_before: dt.datetime
    files: list[dict] = field(default_factory=list)        # snapshot files whose rows go
    weblog: list[dict] = field(default_factory=list)       # per log file: lines that go
    quarantined: dict[int, list[int]] = field(default_factory=dict)   # log file_id -> its rejected lines that go

    @property
    def rows(self) -> int:
        return sum(f["rows_deleted"] for f in self.files + self.weblog)

    def as_json(self) -> dict:
        def entry(f: dict) -> dict:
            return {**f, "exported_at": f["exported_at"].isoformat() + "Z"}

        return {"as_of": self.as_of.isoformat(),
                "snapshots_before": self.snapshots_before.isoformat() + "Z" if self.snapshots_before else None,
                "weblog_before": self.weblog_before.isoformat() + "Z",
                "snapshot_files": [entry(f) for f in self.files],
                "weblog_files": [entry(f) for f in self.weblog], "rows": self.rows}


def plan(con: duckdb.DuckDBPyConnection, sources: Sources, policy, snapshot_months: int | None,
         as_of: dt.date) -> PurgePlan:
    """What a purge for `as_of` deletes (nothing is changed)."""
    before = None
    if snapshot_months is not None:
        day = add_months(as_of, -snapshot_months)
        before = dt.datetime(day.year, day.month, day.day)
    result = PurgePlan(as_of, before, weblog_horizon(policy, as_of))
    snapshot_kinds = [k.name for k in sources.kinds.values() if k.format in SNAPSHOT_FORMATS]
    if before is not None and snapshot_kinds:
        rows = con.execute(
            """select f.file_id, f.file, f.source, f.raw_table, f.exported_at, f.rows
               from audit.files f
               where f.source in (select unnest($kinds)) and f.status <> 'purged'
                 and f.exported_at < $before
                 and f.exported_at < (select max(g.exported_at) from audit.files g
                                      where g.source = f.source and g.exported_at <= $as_of_end)
               order by f.file_id""",
            {"kinds": snapshot_kinds, "before": before,
             "as_of_end": dt.datetime.combine(as_of, dt.time.max)}).fetchall()
        result.files = [{"file_id": r[0], "file": r[1], "source": r[2], "raw_table": r[3], "exported_at": r[4],
                         "rows_deleted": r[5]} for r in rows]
    for table, column in log_tables(sources):
        rows = con.execute(
            f"""select f.file_id, f.file, f.source, f.exported_at, count(*)
                from raw.{ident(table)} w join audit.files f on f.file_id = w._file_id
                where w.{ident(column)} < $before
                group by all order by f.file_id""",
            {"before": result.weblog_before}).fetchall()
        result.weblog += [{"file_id": r[0], "file": r[1], "source": r[2], "raw_table": f"raw.{table}",
                           "exported_at": r[3], "rows_deleted": r[4]} for r in rows]
    _plan_quarantined(con, sources, result)
    return result


def _plan_quarantined(con: duckdb.DuckDBPyConnection, sources: Sources, result: PurgePlan) -> None:
    """A web log's quarantined lines past the horizon, by their own time (else their file's export)."""
    kinds = sorted(k.name for k in sources.kinds.values() if k.format == "log")
    if not kinds:
        return
    rows = con.execute(
        """select f.file_id, f.file, f.source, f.exported_at, r.line_no, r.line
           from audit.rejected_lines r join audit.files f on f.file_id = r.file_id
           where f.source in (select unnest($kinds)) and f.status <> 'purged'
           order by f.file_id, r.line_no""", {"kinds": kinds}).fetchall()
    before = result.weblog_before
    files: dict[int, dict] = {}
    for file_id, file, source, exported_at, line_no, line in rows:
        head = quarantined_line_head(line or "")
        at = head[1] if head is not None else exported_at   # no readable time: its file's export bounds it
        if at is None or at >= before:
            continue
        entry = files.setdefault(file_id, {"file_id": file_id, "file": file, "source": source,
                                           "raw_table": "audit.rejected_lines", "exported_at": exported_at,
                                           "rows_deleted": 0})
        entry["rows_deleted"] += 1
        result.quarantined.setdefault(file_id, []).append(line_no)
    result.weblog += files.values()


def purge(con: duckdb.DuckDBPyConnection, sources: Sources, the_plan: PurgePlan) -> int:
    """Carry out a plan in one transaction; the purge's number."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with transaction(con):
        ensure_audit(con)
        purge_id = con.execute("select coalesce(max(purge_id), 0) + 1 from audit.purges").fetchone()[0]
        for f in the_plan.files:
            table = f["raw_table"].split(".", 1)[1]
            con.execute(f"delete from raw.{ident(table)} where _file_id = $f", {"f": f["file_id"]})
            con.execute("delete from audit.rejected_lines where file_id = $f", {"f": f["file_id"]})
            con.execute("update audit.files set status = 'purged' where file_id = $f", {"f": f["file_id"]})
            _record(con, purge_id, now, the_plan, "snapshot older than [purge] snapshot_months", f)
        columns = dict(log_tables(sources))
        for f in the_plan.weblog:
            if f["raw_table"] == "audit.rejected_lines":
                con.execute("delete from audit.rejected_lines where file_id = $f and line_no in (select unnest($n))",
                            {"f": f["file_id"], "n": the_plan.quarantined[f["file_id"]]})
                _record(con, purge_id, now, the_plan, "quarantined web log lines past the policy's log retention", f)
                continue
            table = f["raw_table"].split(".", 1)[1]
            con.execute(f"delete from raw.{ident(table)} where _file_id = $f and {ident(columns[table])} < $before",
                        {"f": f["file_id"], "before": the_plan.weblog_before})
            _record(con, purge_id, now, the_plan, "web log lines past the policy's log retention", f)
    con.execute("checkpoint")   # write the deletions into the file now, not at the next writer
    return purge_id


def _record(con, purge_id: int, now: dt.datetime, the_plan: PurgePlan, reason: str, f: dict) -> None:
    con.execute("insert into audit.purges values ($id, $at, $as_of, $reason, $table, $file_id, $file, "
                "$exported_at, $rows)",
                {"id": purge_id, "at": now, "as_of": the_plan.as_of, "reason": reason, "table": f["raw_table"],
                 "file_id": f["file_id"], "file": f["file"], "exported_at": f["exported_at"],
                 "rows": f["rows_deleted"]})


def unsettled(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Purges whose rows may still be in the models, the file's free pages or a snapshot."""
    return [r[0] for r in con.execute(
        "select distinct purge_id from audit.purges where purge_id not in "
        "(select purge_id from audit.purges_settled) order by 1").fetchall()]


def settle(con: duckdb.DuckDBPyConnection, purge_ids: list[int]) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with transaction(con):
        con.execute("insert into audit.purges_settled select unnest($ids), $at", {"ids": purge_ids, "at": now})


def prepare(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    """The tables a plan reads, on a warehouse that may not have them yet."""
    with transaction(con):
        ensure_schema(con, sources)


# ---------------------------------------------------------------- files past their retention

@dataclass
class FilePurge:
    """What `[retention]` (insyn.toml) takes: access-log entries, reports, deletion-task files."""

    horizons: dict[str, dt.datetime]                     # setting -> what is older goes
    access_log_entries: int = 0
    reports: list = field(default_factory=list)          # paths (deleted, or to delete in a dry run)
    deletion_tasks: list = field(default_factory=list)
    unreachable: list = field(default_factory=list)      # (path, why)

    def as_json(self) -> dict:
        return {"horizons": {k: v.isoformat() for k, v in self.horizons.items()},
                "access_log_entries": self.access_log_entries,
                "reports": [str(p) for p in self.reports],
                "deletion_tasks": [str(p) for p in self.deletion_tasks],
                "unreachable": [{"path": str(p), "why": why} for p, why in self.unreachable]}


def horizon(as_of: dt.date, days: int) -> dt.datetime:
    """Midnight UTC at the start of `as_of`, `days` days back: what is older goes."""
    return dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time.min, dt.timezone.utc)


def _written_files(ledger: Path, kind: str, folder: Path) -> dict[Path, dt.datetime]:
    """Files of one kind the ledger recorded (anywhere: `--out`, `--tasks`) and those in their
    folder, each with when it was written (the ledger's time, else the file's)."""
    from .ledger import Ledger, recorded_path

    found: dict[Path, dt.datetime] = {}
    for entry in Ledger(ledger).entries():
        if entry.kind == kind and entry.path:
            found[recorded_path(entry.path, ledger)] = dt.datetime.fromisoformat(entry.recorded_at)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path not in found:
                found[path] = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    return found


def purge_files(*, ledger: Path, access_log: Path, secrets: Path, reports: Path, deletion_tasks: Path,
                retention: dict, as_of: dt.date, dry_run: bool) -> FilePurge:
    """Apply `[retention]`: each setting left out keeps its files for ever. The paths are the
    warehouse's own (workbench.Layout): its ledger, access log, reports and deletion-tasks folders."""
    from .accesslog import AccessLog
    from .erasure import REMOVED, delete_copy

    result = FilePurge({k: horizon(as_of, days) for k, days in retention.items()})
    before = result.horizons.get("access_log_days")
    if before is not None:
        result.access_log_entries = AccessLog(access_log, secrets).purge(before, dry_run=dry_run)
    for setting, kind, folder, out in (
            ("reports_days", "access_report", reports, result.reports),
            ("deletion_tasks_days", "erasure", deletion_tasks, result.deletion_tasks)):
        before = result.horizons.get(setting)
        if before is None:
            continue
        for path, written in sorted(_written_files(ledger, kind, folder).items()):
            if written >= before:
                continue
            if dry_run:
                if os.path.exists(path):   # False too where it cannot be reached
                    out.append(path)
                continue
            why = delete_copy(path)
            if why == REMOVED:
                out.append(path)
            elif why is not None:
                result.unreachable.append((path, why))
    return result
