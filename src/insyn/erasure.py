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
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .csvsafe import line, neutralise
from .db import ident, insert_rows, raw_columns
from .errors import InputError, InsynError
from .files import write_private
from .ledger import (HASH_PREFIX, Erasures, Ledger, email_hash, id_hash, ledger_path, recorded_path,
                     salt as get_salt, stored_path)
from .sources import Sources
from .text import column_key, email_key, sfid15

# An address inside free text (log lines, quarantined lines), after percent-decoding.
EMAIL_IN_TEXT = r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"


def _person_condition(kind, columns: set[str], alias: str) -> str | None:
    """SQL (no values: $salt and the temp table insyn_erased carry them) that is true for a
    raw row naming a person on the list."""
    parts = []
    for col in (column_key(c) for c in kind.person_email):
        if col in columns:
            parts.append(f"sha256($salt || email_key({alias}.{ident(col)})) in (select hash from insyn_erased)")
    for col in (column_key(c) for c in kind.person_ids):
        if col in columns:
            parts.append(f"sha256($salt || sfid15({alias}.{ident(col)})) in (select hash from insyn_erased)")
    for col in (column_key(c) for c in kind.person_text):
        if col in columns:
            parts.append(_text_condition(f"{alias}.{ident(col)}"))
    return " or ".join(f"({p})" for p in parts) if parts else None


def _text_condition(expr: str) -> str:
    return (f"list_has_any(list_transform(regexp_extract_all(lower(url_decode(coalesce({expr}, ''))), "
            f"'{EMAIL_IN_TEXT}'), lambda x: sha256($salt || x)), (select list(hash) from insyn_erased))")


def purge(con: duckdb.DuckDBPyConnection, sources: Sources, pipelines: Path, salt_value: str,
          hashes: set[str], file_ids: list[int] | None = None) -> dict[str, int]:
    """Delete the rows that name the people whose salted hashes are given (all files, or
    only `file_ids`); returns the rows deleted per table. The caller holds the transaction."""
    from .build import create_macros

    if not hashes:
        return {}
    create_macros(con, pipelines)
    con.execute("create or replace temp table insyn_erased (hash varchar)")
    insert_rows(con, "insyn_erased", ["hash"], [(h,) for h in sorted(hashes)])
    con.execute("create or replace temp table insyn_purge_files (file_id bigint)")
    insert_rows(con, "insyn_purge_files", ["file_id"], [(f,) for f in file_ids or []])
    scope = "" if file_ids is None else " and r._file_id in (select file_id from insyn_purge_files)"
    params = {"salt": salt_value}
    deleted: dict[str, int] = {}
    for table, kind in sources.tables().items():
        if kind.keep_on_erasure:
            continue
        condition = _person_condition(kind, set(raw_columns(con, table)), "r")
        if condition is None:
            continue
        if table == "esp__event":  # the event's categories go with it
            n = con.execute(
                "delete from raw.esp__event_category c where exists (select 1 from raw.esp__event r "
                f"where r._file_id = c._file_id and r._record_no = c._record_no and ({condition}){scope})",
                params).fetchone()[0]
            if n:
                deleted["raw.esp__event_category"] = n
        n = con.execute(f"delete from raw.{ident(table)} r where ({condition}){scope}", params).fetchone()[0]
        if n:
            deleted[f"raw.{table}"] = n
    quarantine_scope = "" if file_ids is None else " and r.file_id in (select file_id from insyn_purge_files)"
    n = con.execute(f"delete from audit.rejected_lines r where {_text_condition('r.line')}{quarantine_scope}",
                    params).fetchone()[0]
    if n:
        deleted["audit.rejected_lines"] = n
    con.execute("drop table insyn_erased")
    con.execute("drop table insyn_purge_files")
    return deleted


def purge_loaded(con: duckdb.DuckDBPyConnection, sources: Sources, pipelines: Path, erasures: Erasures,
                 loaded: list[dict]) -> dict[str, int]:
    """At load: drop erased people from files exported on or before their erasure date."""
    deleted: dict[str, int] = {}
    for entry in erasures.entries:
        erased_on = dt.date.fromisoformat(entry.erased_on)
        files = [f["file_id"] for f in loaded if f["exported_at"].date() <= erased_on]
        hashes = {h for h in [entry.email_sha256, *entry.crm_id_sha256] if h}
        for table, n in purge(con, sources, pipelines, erasures.salt, hashes, files).items():
            deleted[table] = deleted.get(table, 0) + n
    return deleted


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


def _crm_ids(con: duckdb.DuckDBPyConnection, key: str, request_crm_ids: list[str]) -> list[str]:
    """Every CRM id (15 characters) that carries the address, in any export loaded."""
    ids = {sfid15(i) for i in request_crm_ids if sfid15(i)}
    for table, columns in (("salesforce__contact", ["id"]), ("salesforce__lead", ["id", "convertedcontactid"])):
        have = set(raw_columns(con, table))
        for col in columns:
            if col in have and "email" in have:
                ids |= {r[0] for r in con.execute(
                    f"select distinct sfid15({ident(col)}) from raw.{ident(table)} "
                    f"where email_key(email) = $key and sfid15({ident(col)}) is not null", {"key": key}).fetchall()}
    return sorted(ids)


TASK_COLUMNS = ["system", "object", "record_id", "action", "found_in_export", "detail"]


def deletion_tasks(con: duckdb.DuckDBPyConnection, key: str, crm_ids: list[str]) -> list[list]:
    """What must be deleted in the source systems: one row per record, with the source's own id."""
    rows: list[list] = []
    ids = list(crm_ids)

    def q(sql: str, params: dict) -> list[tuple]:
        used = {k: v for k, v in params.items() if f"${k}" in sql}  # DuckDB refuses unused ones
        try:
            return con.execute(sql, used).fetchall()
        except duckdb.CatalogException:  # a source never loaded
            return []

    for obj, table, id_cols, where in (
        ("Contact", "salesforce__contact", "id", "email_key(email) = $key or sfid15(id) in (select unnest($ids))"),
        ("Lead", "salesforce__lead", "id", "email_key(email) = $key or sfid15(id) in (select unnest($ids))"),
        ("Task", "salesforce__task", "id", "sfid15(whoid) in (select unnest($ids))"),
        ("Event", "salesforce__event", "id", "sfid15(whoid) in (select unnest($ids))"),
        ("CampaignMember", "salesforce__campaignmember", "id",
         "sfid15(contactid) in (select unnest($ids)) or sfid15(leadid) in (select unnest($ids))"),
        ("OpportunityContactRole", "salesforce__opportunitycontactrole", "id", "sfid15(contactid) in (select unnest($ids))"),
        ("ContactHistory", "salesforce__contacthistory", "id", "sfid15(contactid) in (select unnest($ids))"),
    ):
        for record_id, exported in q(
                f"select trim_ws({id_cols}), cast(max(_exported_at) as date) from raw.{table} where {where} "
                "group by 1 order by 1", {"key": key, "ids": ids}):
            rows.append(["Salesforce", obj, record_id, "delete (and empty the recycle bin)", exported, ""])
    for status, euid, leid, exported in q(
            "select _status, max(euid), max(leid), cast(max(_exported_at) as date) from raw.mailchimp__audience "
            "where email_key(email_address) = $key group by 1 order by 1", {"key": key}):
        rows.append(["Mailchimp", f"audience member ({status})", euid or leid or "", "permanently delete the member",
                     exported, f"e-mail {key}"])
    for n, last in q("select count(*), cast(max(timestamp__utc) as date) from raw.esp__event "
                     "where email_key(email) = $key having count(*) > 0", {"key": key}):
        rows.append(["SendGrid", "contact and event history", "", "delete the contact; keep the address only "
                     "on the suppression list", last, f"e-mail {key}; {n} events loaded"])
    for file, n in q(
            "select f.file, count(*) from raw.weblog__access r join audit.files f on f.file_id = r._file_id "
            "where strpos(lower(url_decode(coalesce(r.line, ''))), $key) > 0 group by 1 order by 1", {"key": key}):
        rows.append(["Web server", "access log", file, "remove the lines that hold the address", "",
                     f"{n} lines"])
    return rows


def write_tasks(path: Path, rows: list[list]) -> None:
    """The deletion tasks as CSV (UTF-8 with BOM, for Excel; formulas neutralised), owner-only."""
    text = line(TASK_COLUMNS) + "".join(line([neutralise(v) for v in row]) for row in rows)
    write_private(path, text.encode("utf-8-sig"))


def scrub_history(con: duckdb.DuckDBPyConnection, key: str, hashed: str) -> None:
    """Findings history and check results keep the salted hash where the address stood."""
    label = HASH_PREFIX + hashed
    pattern = re.escape(key)
    for table, columns in (("findings_history", ["record_id", "email", "detail"]),
                           ("check_results", ["description", "exception"])):
        exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = $t",
                             {"t": table}).fetchone()[0]
        if not exists:
            continue
        for col in columns:
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
    """Carry out an erasure in the warehouse (see the module's doc)."""
    from .build import build, create_macros
    from .findings import built_as_of
    from .snapshot import remove_published

    say = progress or (lambda msg: None)
    key = email_key(email)
    if not key:
        raise InputError("EMAIL", "blank address: nothing to erase")
    if not ctx.db_path.exists():
        raise InsynError(f"{ctx.db_path}: no warehouse yet (run `insyn load` first)")
    salt_value = get_salt(ctx.workbench.secrets, create=True)
    con = ctx.connect()
    try:
        create_macros(con, ctx.workbench.pipelines)
        request_crm_ids: list[str] = []
        if request_id is not None:
            found = con.execute(
                "select email_key(email), crm_id from raw.register__requests where trim_ws(request_id) = $id",
                {"id": request_id.strip()}).fetchall()
            if not found:
                raise InsynError(f"--request: no request {request_id!r} in any register export loaded")
            if all(r[0] != key for r in found):
                raise InsynError(f"--request: request {request_id!r} is not from this address")
            request_crm_ids = [r[1] for r in found if r[1]]
        crm_ids = _crm_ids(con, key, request_crm_ids)
        request_ids = _request_ids(con, key)
        tasks = deletion_tasks(con, key, crm_ids)
        as_of = built_as_of(con)
    finally:
        con.close()

    ledger = Ledger(ledger_path(ctx.db_path))
    number = len(ledger.entries()) + 1
    tasks_path = tasks_out or ctx.db_path.parent / "deletion-tasks" / f"L{number:05d}-deletion-tasks.csv"
    write_tasks(tasks_path, tasks)
    hashed = email_hash(salt_value, key)
    entry = ledger.append("erasure", email_sha256=hashed, request_id=request_id, erased_on=on.isoformat(),
                          crm_id_sha256=sorted({id_hash(salt_value, i) for i in crm_ids}),
                          path=stored_path(tasks_path, ctx.db_path))
    say(f"erasure {entry.entry_id} recorded in {ledger.path}")
    removed, unreachable = remove_reports(ctx.db_path, hashed, key, request_ids)
    downloaded = [(e.recorded_by, e.recorded_at) for e in ledger.entries() if e.kind == "access_report"
                  and e.email_sha256 == hashed and (e.recorded_by or "").startswith("dashboard:")]

    con = ctx.connect()
    try:
        con.execute("begin transaction")
        try:
            deleted = purge(con, ctx.sources, ctx.workbench.pipelines, salt_value,
                            {hashed, *entry.crm_id_sha256})
            scrub_history(con, key, hashed)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        say("purged: " + (", ".join(f"{t} {n}" for t, n in sorted(deleted.items())) or "nothing held"))
        if as_of is not None:
            say(f"rebuilding the models as of {as_of} ...")
            build(con, pipelines=ctx.workbench.pipelines, sources=ctx.sources, policy=ctx.policy, as_of=as_of,
                  erasures=Erasures.of(ctx.db_path, ctx.workbench.secrets))
        con.execute("checkpoint")
    finally:
        con.close()
    scrub_files(ctx.db_path.parent / "data-docs", key, hashed)
    compact(ctx.db_path)
    remove_published(ctx.db_path)
    ctx.publish()
    return Erasure(entry.entry_id, on, request_id, deleted, tasks_path, len(tasks), crm_ids, removed, unreachable,
                   downloaded)


def _request_ids(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    """The register's request ids from this address (report files in the reports folder carry them)."""
    try:
        return sorted({r[0] for r in con.execute(
            "select distinct trim_ws(request_id) from raw.register__requests "
            "where email_key(email) = $key and request_id is not null", {"key": key}).fetchall() if r[0]})
    except duckdb.CatalogException:   # no register loaded
        return []


REPORTS_FOLDER = "reports"


def reports_folder(db_path: Path) -> Path:
    return db_path.parent / REPORTS_FOLDER


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


def remove_reports(db_path: Path, hashed: str, key: str,
                   request_ids: list[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Delete the person's access reports: those the ledger recorded (anywhere) and those in the
    reports folder. Returns (removed, [(path, why) for each copy that could not be reached])."""
    candidates: list[Path] = []   # the dashboard's reports record no path: they never stay on the server
    for entry in Ledger(ledger_path(db_path)).entries():
        if entry.kind == "access_report" and entry.email_sha256 == hashed and entry.path:
            candidates.append(recorded_path(entry.path, db_path))
    folder = reports_folder(db_path)
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
    for row_no, (line, row) in enumerate(zip(records.line_nos, records.rows)):
        for header, value in zip(records.header, row):
            if not value:
                continue
            candidates = {m.lower() for m in finder.findall(value)}
            if email_key(value):
                candidates.add(email_key(value))
            if any(email_hash(erasures.salt, c) in hashes for c in candidates):
                hits.append(Hit(line, header, "erased person's address"))
                break
            if re.fullmatch(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?", value.strip()) and \
                    id_hash(erasures.salt, value) in hashes:
                hits.append(Hit(line, header, "erased person's CRM id"))
                break
    return len(records.rows), hits
