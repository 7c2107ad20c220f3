"""`insyn dsar erase` and the suppression list.

Erasing a person (when the DPO has decided a request):
1. find what names them: their normalised address and every CRM id that
   carries it (Contacts, Leads, the Leads' converted Contacts, the register);
2. write the deletion tasks for the source systems (CSV, owner-only);
3. record the erasure in the ledger, with salted hashes only;
4. purge every raw row that names them (sources.toml says which columns do;
   the register keeps the record of the request), the quarantined lines that
   hold their address, and replace their address in the findings history by
   its salted hash; rebuild the models;
5. rewrite the warehouse file, so that no freed page still holds their data,
   and republish the dashboard's snapshot (older snapshots are removed);
6. remove the access reports produced for them: every path the ledger
   recorded for their reports (`--out` can point anywhere) and the reports
   folder's files of their requests; a copy that cannot be reached (its
   folder is missing, permission) is named for the DPO to remove by hand,
   and so is each report downloaded from the dashboard (made in a temporary
   folder and never kept there: the browser's copy is out of reach).

Loading applies the ledger too: an export taken on or before an erasure
date is loaded without the erased people; a later one is loaded whole, so
that `erasure.not_executed` can name where they still are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets as pysecrets
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .csvsafe import line, neutralise
from .db import apply_settings, ident, insert_rows, raw_columns, transaction
from .errors import InputError, InsynError
from .files import write_private
from .ledger import (HASH_PREFIX, Erasures, Ledger, email_hash, id_hash, recorded_path, salt as get_salt,
                     stored_path)
from . import persons
from .persons import EMAIL_IN_TEXT, one_per_table, person_condition, purge
from .sources import Sources
from .text import column_key, email_key
from .texts import fill

# ---------------------------------------------------------------- the erase command


@dataclass
class Erasure:
    entry_id: str
    erased_on: dt.date
    request_id: str | None
    deleted: dict[str, int]
    tasks: Path
    task_count: int
    crm_ids: list[str] = field(default_factory=list)
    reports_removed: list[Path] = field(default_factory=list)
    reports_unreachable: list[tuple[Path, str]] = field(default_factory=list)
    reports_downloaded: list[tuple[str, str]] = field(default_factory=list)   # (by, when): the browser's copy


TASK_COLUMNS = ["system", "object", "record_id", "action", "found_in_export", "detail"]


def deletion_tasks(con: duckdb.DuckDBPyConnection, sources: Sources, key: str, crm_ids: list[str]) -> list[list]:
    """What must be deleted in the source systems (sources.toml: [kind.deletion]): the rows the
    purge deletes, as tasks with the source's own ids."""
    rows: list[list] = []
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
    salt_value = pysecrets.token_hex(16)  # a throwaway salt: the very matching the purge uses
    con.execute("create or replace temp table insyn_erased (hash varchar)")
    insert_rows(con, "insyn_erased", ["hash"],
                [(h,) for h in sorted({email_hash(salt_value, key), *(id_hash(salt_value, i) for i in crm_ids)})])
    try:
        for kind in one_per_table(sources):
            task = kind.deletion
            if task is None or kind.keep_on_erasure or kind.table not in tables:
                continue
            columns = raw_columns(con, kind.table)
            condition = person_condition(kind, set(columns), "r")
            if condition is None:
                continue
            for group, record_id, found, n in con.execute(
                    _task_sql(kind, columns, condition), {"salt": salt_value}).fetchall():
                values = {task.per: group} if task.per not in ("record", "file", "person") else {}
                rows.append([task.system, fill(task.object, values, msgid=f"{kind.name} deletion.object"),
                             record_id or "", task.action, found if found is not None else "",
                             fill(task.detail, {"email": key, "rows": n}, msgid=f"{kind.name} deletion.detail")])
    finally:
        con.execute("drop table if exists insyn_erased")
    return rows


def _task_sql(kind, columns: list[str], condition: str) -> str:
    """(group, record id, date found, rows) per task of a kind; identifiers from sources.toml, quoted."""
    task, have = kind.deletion, set(columns)
    ids = [c for c in task.record_id if c in have]
    first_id = ("coalesce(" + ", ".join(f"nullif(trim_ws(max(r.{ident(c)})), '')" for c in ids) + ", '')"
                if ids else "''")
    join = ""
    if task.per == "record":
        group = record_id = (f"trim_ws(r.{ident(ids[0])})" if len(ids) == 1 else
                             "coalesce(" + ", ".join(f"nullif(trim_ws(r.{ident(c)}), '')" for c in ids) + ")")
    elif task.per == "file":
        join, group = " join audit.files f on f.file_id = r._file_id", "f.file"
        record_id = group
    elif task.per == "person":
        group, record_id = None, first_id
    else:
        group, record_id = f"r.{ident(task.per)}", first_id
    if task.found == "export":
        found = "cast(max(r._exported_at) as date)"
    elif task.found == "none":
        found = "cast(null as date)"
    else:
        col = column_key(task.found)
        found = f"cast(max(r.{ident(col + '__utc' if col + '__utc' in have else col)}) as date)"
    if group is None:
        return (f"select null, {record_id}, {found}, count(*) from raw.{ident(kind.table)} r "
                f"where ({condition}) having count(*) > 0")
    return (f"select {group}, {record_id if task.per in ('record', 'file') else first_id}, {found}, count(*) "
            f"from raw.{ident(kind.table)} r{join} where ({condition}) group by {group} order by {group}")


def write_tasks(path: Path, rows: list[list]) -> None:
    """The deletion tasks as CSV (UTF-8 with BOM, for Excel; formulas neutralised), owner-only."""
    text = line(TASK_COLUMNS) + "".join(line([neutralise(v) for v in row]) for row in rows)
    write_private(path, text.encode("utf-8-sig"))


def scrub_history(con: duckdb.DuckDBPyConnection, key: str, hashed: str) -> None:
    """Findings history and check results keep the salted hash where the address stood."""
    label = HASH_PREFIX + hashed
    pattern = re.escape(key)
    # the text facts too (insyn.findings.TEXT_FACTS, reason): a value as recorded may hold the address
    for table, columns in (("findings_history", ["record_id", "email", "detail", "first_text", "second_text",
                                                 "reason"]),
                           ("check_results", ["description", "exception"])):
        present = {r[0] for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'audit' and table_name = $t",
            {"t": table}).fetchall()}
        for col in (c for c in columns if c in present):
            con.execute(f"update audit.{table} set {ident(col)} = regexp_replace({ident(col)}, $p, $label, 'gi') "
                        f"where strpos(lower({ident(col)}), $key) > 0",
                        {"p": pattern, "label": label, "key": key})


def scrub_files(folder: Path, key: str, hashed: str) -> int:
    """Replace the address in text files a check wrote (GX Data Docs show unexpected values)."""
    if not folder.exists():
        return 0
    pattern = re.compile(re.escape(key), re.IGNORECASE)
    changed = 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix.lower() not in (".html", ".json", ".txt", ".csv", ".md"):
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        new = pattern.sub(HASH_PREFIX + hashed, text)
        if new != text:
            path.write_text(new, encoding="utf-8", errors="surrogateescape")
            changed += 1
    return changed


def compact(db_path: Path) -> None:
    """Rewrite the warehouse into a new file, so that freed pages keep nothing, and swap it in."""
    fresh = db_path.with_name(db_path.name + ".compact")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        apply_settings(con)   # the configured memory limit holds for a rewrite of the whole file too
        con.execute("attach $p as old (read_only)", {"p": str(db_path)})
        con.execute("attach $p as fresh", {"p": str(fresh)})
        con.execute("copy from database old to fresh")
        con.execute("detach fresh")
        con.execute("detach old")
    finally:
        con.close()
    os.chmod(fresh, 0o600)
    os.replace(fresh, db_path)


def erase(ctx, email: str, *, request_id: str | None, on: dt.date, tasks_out: Path | None,
          progress=None) -> Erasure:
    """Carry out an erasure in the warehouse (see the module's doc); `ctx` is the application
    object (workbench.Workbench: its layout, settings, sources, policy, connect, publish)."""
    from .build import build, create_macros
    from .findings import built_as_of
    from .snapshot import remove_published

    say = progress or (lambda msg: None)
    key = email_key(email)
    if not key:
        raise InputError("EMAIL", "blank address: nothing to erase")
    layout = ctx.layout   # the warehouse's own paths (workbench.Layout)
    if not layout.warehouse.exists():
        raise InsynError(f"{layout.warehouse}: no warehouse yet (run `insyn load` first)")
    salt_value = get_salt(ctx.settings.secrets, create=True)
    con = ctx.connect()
    try:
        create_macros(con, ctx.settings.pipelines)
        request_crm_ids: list[str] = []
        register = _register_table(ctx.sources)
        if request_id is not None:
            found = con.execute(   # the register's columns are the policy's keys (dsar.register_columns)
                f"select email_key(email), crm_id from raw.{register} where trim_ws(request_id) = $id",
                {"id": request_id.strip()}).fetchall() if register else []
            if not found:
                raise InsynError(f"--request: no request {request_id!r} in any register export loaded")
            if all(r[0] != key for r in found):
                raise InsynError(f"--request: request {request_id!r} is not from this address")
            request_crm_ids = [r[1] for r in found if r[1]]
        crm_ids = persons.crm_ids(con, ctx.sources, key, request_crm_ids)
        request_ids = _request_ids(con, ctx.sources, key)
        tasks = deletion_tasks(con, ctx.sources, key, crm_ids)
        as_of = built_as_of(con)
    finally:
        con.close()

    ledger = Ledger(layout.ledger)
    number = len(ledger.entries()) + 1
    tasks_path = tasks_out or layout.deletion_tasks / f"L{number:05d}-deletion-tasks.csv"
    write_tasks(tasks_path, tasks)
    hashed = email_hash(salt_value, key)
    entry = ledger.append("erasure", email_sha256=hashed, request_id=request_id, erased_on=on.isoformat(),
                          crm_id_sha256=sorted({id_hash(salt_value, i) for i in crm_ids}),
                          path=stored_path(tasks_path, layout.ledger))
    say(f"erasure {entry.entry_id} recorded in {ledger.path}")
    removed, unreachable = remove_reports(layout.ledger, layout.reports, hashed, key, request_ids)
    downloaded = [(e.recorded_by, e.recorded_at) for e in ledger.entries() if e.kind == "access_report"
                  and e.email_sha256 == hashed and (e.recorded_by or "").startswith("dashboard:")]

    con = ctx.connect()
    try:
        with transaction(con):
            deleted = purge(con, ctx.sources, ctx.settings.pipelines, salt_value,
                            {hashed, *entry.crm_id_sha256})
            scrub_history(con, key, hashed)
        say("purged: " + (", ".join(f"{t} {n}" for t, n in sorted(deleted.items())) or "nothing held"))
        if as_of is not None:
            say(f"rebuilding the models as of {as_of} ...")
            build(con, pipelines=ctx.settings.pipelines, sources=ctx.sources, policy=ctx.policy, as_of=as_of,
                  erasures=ctx.erasures())
        con.execute("checkpoint")
    finally:
        con.close()
    scrub_files(layout.data_docs, key, hashed)
    compact(layout.warehouse)
    remove_published(layout.published)
    ctx.publish()
    return Erasure(entry.entry_id, on, request_id, deleted, tasks_path, len(tasks), crm_ids, removed, unreachable,
                   downloaded)


def _register_table(sources: Sources) -> str | None:
    """The request register's raw table, quoted (None when sources.toml declares no register)."""
    kind = sources.register()
    return ident(kind.table) if kind else None


def _request_ids(con: duckdb.DuckDBPyConnection, sources: Sources, key: str) -> list[str]:
    """The register's request ids from this address (report files in the reports folder carry them)."""
    register = _register_table(sources)
    if register is None:
        return []
    try:
        return sorted({r[0] for r in con.execute(
            f"select distinct trim_ws(request_id) from raw.{register} "
            "where email_key(email) = $key and request_id is not null", {"key": key}).fetchall() if r[0]})
    except duckdb.CatalogException:   # no register loaded
        return []


def _report_of(path: Path, key: str, request_ids: list[str]) -> bool:
    """A file in the reports folder made for this person: named by one of their requests
    (access_report.default_name), or a text report that holds their address."""
    from .access_report import name_prefix

    for request_id in request_ids:   # access-report-<id>-<YYYYmmdd-HHMMSS>.<format>
        if re.fullmatch(re.escape(name_prefix(request_id)) + r"\d{8}-\d{6}\.[a-z]+", path.name):
            return True
    if path.suffix.lower() in (".html", ".json"):
        try:
            return key in path.read_text(encoding="utf-8", errors="replace").casefold()
        except OSError:
            return False
    return False


def remove_reports(ledger: Path, folder: Path, hashed: str, key: str,
                   request_ids: list[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Delete the person's access reports: those the ledger (file) recorded (anywhere) and those in
    the reports `folder`. Returns (removed, [(path, why) for each copy that could not be reached])."""
    candidates: list[Path] = []   # the dashboard's reports record no path: they never stay on the server
    for entry in Ledger(ledger).entries():
        if entry.kind == "access_report" and entry.email_sha256 == hashed and entry.path:
            candidates.append(recorded_path(entry.path, ledger))
    if folder.is_dir():
        candidates += [path for path in sorted(folder.iterdir())
                       if path.is_file() and path not in candidates and _report_of(path, key, request_ids)]
    removed, unreachable = [], []
    for path in candidates:
        why = delete_copy(path)
        if why == REMOVED:
            removed.append(path)
        elif why is not None:
            unreachable.append((path, why))
    return removed, unreachable


REMOVED = "removed"


def delete_copy(path: Path) -> str | None:
    """Delete one file Insyn wrote: REMOVED, None when it is already gone, else why it
    cannot be reached (the caller names the path for the DPO to remove by hand)."""
    if path.suffix.lower() == ".pdf":   # the PDF's HTML, if its printing was cut short
        with contextlib.suppress(OSError):
            path.with_name(path.name + ".html").unlink(missing_ok=True)
    try:
        path.unlink()
        return REMOVED
    except FileNotFoundError:
        if path.parent.is_dir():
            return None   # already deleted
        return "its folder is missing (a drive not mounted?)"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


# ---------------------------------------------------------------- check-import


@dataclass
class Hit:
    line: int
    column: str
    why: str


def check_import(path: Path, erasures: Erasures) -> tuple[int, list[Hit]]:
    """Rows of a file about to be imported whose address (any column holding one) or CRM id
    is on the suppression list; returns (rows read, hits)."""
    from .readers import read_csv, read_xlsx

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})") from None
    records = read_xlsx(data, str(path)) if path.suffix.lower() in (".xlsx", ".xlsm") else read_csv(data, str(path))
    hashes = erasures.hashes()
    hits: list[Hit] = []
    finder = re.compile(EMAIL_IN_TEXT, re.IGNORECASE)
    for row_no, (line_no, row) in enumerate(zip(records.line_nos, records.rows)):
        for header, value in zip(records.header, row):
            if not value:
                continue
            candidates = {m.lower() for m in finder.findall(value)}
            if email_key(value):
                candidates.add(email_key(value))
            if any(email_hash(erasures.salt, c) in hashes for c in candidates):
                hits.append(Hit(line_no, header, "erased person's address"))
                break
            if re.fullmatch(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?", value.strip()) and \
                    id_hash(erasures.salt, value) in hashes:
                hits.append(Hit(line_no, header, "erased person's CRM id"))
                break
    return len(records.rows), hits
