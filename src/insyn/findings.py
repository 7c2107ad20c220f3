"""Findings: the rows of the rule models, for people (table, CSV) and programs (JSON).

Every reader of findings (this CLI, the dashboard, the audit pack) reads the
rule tables; a rule lives once, in pipelines/rules/.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from .db import ident, table_exists

FINDING_COLUMNS = ["rule", "record_id", "email", "source", "detail", "count"]


def built_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date the models were last built for, or None."""
    if not table_exists(con, "params", "run"):
        return None
    row = con.execute("select as_of from params.run").fetchone()
    return row[0] if row else None


def is_current(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> bool:
    """Built for this as-of, after the last load."""
    if built_as_of(con) != as_of or not table_exists(con, "audit", "runs"):
        return False
    last_build = con.execute("select max(finished_at) from audit.runs where command = 'build'").fetchone()[0]
    last_load = con.execute("select max(finished_at) from audit.loads").fetchone()[0] \
        if table_exists(con, "audit", "loads") else None
    last_purge = con.execute("select max(purged_at) from audit.purges").fetchone()[0] \
        if table_exists(con, "audit", "purges") else None
    return last_build is not None and all(t is None or last_build >= t for t in (last_load, last_purge))


def rule_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'rules' order by table_name").fetchall()]


def rule_ids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Rule id -> rule table."""
    return {table.replace("__", "."): table for table in rule_tables(con)}


def read(con: duckdb.DuckDBPyConnection, rule: str | None = None) -> list[dict]:
    """Every finding (or one rule's), sorted by rule, then record_id."""
    tables = rule_ids(con)
    chosen = [tables[rule]] if rule else list(tables.values())
    rows: list[dict] = []
    for table in chosen:
        cur = con.execute(f"select rule, record_id, email, source, detail, count from rules.{ident(table)}")
        rows += [dict(zip(FINDING_COLUMNS, r)) for r in cur.fetchall()]
    rows.sort(key=lambda f: (f["rule"], f["record_id"] or ""))
    return rows


def as_json(findings: list[dict], as_of: dt.date) -> dict:
    """The `findings --format json` contract: count only when it is not 1."""
    out = []
    for f in findings:
        item = {k: f[k] for k in ("rule", "record_id", "email", "source", "detail")}
        if f["count"] != 1:
            item["count"] = f["count"]
        out.append(item)
    return {"as_of": as_of.isoformat(), "findings": out}


def summary(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(rule, number of findings) for every rule, zeros included."""
    return [(rule, con.execute(f"select count(*) from rules.{ident(table)}").fetchone()[0])
            for rule, table in rule_ids(con).items()]
