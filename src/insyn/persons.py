"""A person's rows in the raw layer, as sources.toml describes them: the columns that name
a person (an address, CRM ids compared as 15 characters, free text holding an address),
and the purge of the rows that name people on the suppression list.

Used by the load (an export taken on or before an erasure is loaded without the
erased people), by erasure and by the access report: one matching for all three.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from .db import ident, insert_rows, raw_columns
from .ledger import Erasures
from .sources import Sources
from .text import column_key, sfid15

# An address inside free text (log lines, quarantined lines), after percent-decoding.
EMAIL_IN_TEXT = r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"


def person_condition(kind, columns: set[str], alias: str) -> str | None:
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
            parts.append(text_condition(f"{alias}.{ident(col)}"))
    return " or ".join(f"({p})" for p in parts) if parts else None


def text_condition(expr: str) -> str:
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
        condition = person_condition(kind, set(raw_columns(con, table)), "r")
        if condition is None:
            continue
        if kind.split:  # the rows of its list column's own table go with it
            child = kind.split[1]
            n = con.execute(
                f"delete from raw.{ident(child)} c where exists (select 1 from raw.{ident(table)} r "
                f"where r._file_id = c._file_id and r._record_no = c._record_no and ({condition}){scope})",
                params).fetchone()[0]
            if n:
                deleted[f"raw.{child}"] = n
        n = con.execute(f"delete from raw.{ident(table)} r where ({condition}){scope}", params).fetchone()[0]
        if n:
            deleted[f"raw.{table}"] = n
    quarantine_scope = "" if file_ids is None else " and r.file_id in (select file_id from insyn_purge_files)"
    n = con.execute(f"delete from audit.rejected_lines r where {text_condition('r.line')}{quarantine_scope}",
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



def crm_ids(con: duckdb.DuckDBPyConnection, sources: Sources, key: str, extra_ids: list[str]) -> list[str]:
    """Every CRM id (15 characters) that carries the address, in any export loaded
    (sources.toml: person_ids_of_address), with `extra_ids` (a request's own CRM id)."""
    ids = {sfid15(i) for i in extra_ids if sfid15(i)}
    for kind in one_per_table(sources):
        have = set(raw_columns(con, kind.table))
        emails = [c for c in map(column_key, kind.person_email) if c in have]
        for col in (c for c in map(column_key, kind.person_ids_of_address) if c in have):
            for email in emails:
                ids |= {r[0] for r in con.execute(
                    f"select distinct sfid15({ident(col)}) from raw.{ident(kind.table)} "
                    f"where email_key({ident(email)}) = $key and sfid15({ident(col)}) is not null",
                    {"key": key}).fetchall()}
    return sorted(ids)


def register_ids(con: duckdb.DuckDBPyConnection, sources: Sources, key: str) -> list[str]:
    """The CRM ids the request register gives beside this address."""
    kind = sources.register()
    if kind is None:
        return []
    have = set(raw_columns(con, kind.table))
    out: list[str] = []
    for email in (c for c in map(column_key, kind.person_email) if c in have):
        for col in (c for c in map(column_key, kind.person_ids) if c in have):
            out += [r[0] for r in con.execute(
                f"select {ident(col)} from raw.{ident(kind.table)} where email_key({ident(email)}) = $key "
                f"and {ident(col)} is not null", {"key": key}).fetchall()]
    return out


def one_per_table(sources: Sources) -> list:
    """The kinds in sources.toml's order, one per raw table (kinds with a status share one)."""
    seen, out = set(), []
    for kind in sources.kinds.values():
        if kind.table not in seen:
            seen.add(kind.table)
            out.append(kind)
    return out
