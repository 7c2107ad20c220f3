"""The warehouse's schema, in one place: its layers, the lineage on every raw row,
every audit table, and one raw table per source kind of sources.toml.

raw       exports as delivered (text), one table per source kind, lineage on every row
staging   typed, normalised                 (pipelines/staging)
marts     joined facts about people and requests   (pipelines/marts)
rules     one table per rule id: one row per finding   (pipelines/rules)
params    the run's as-of date and the policy's values, for models to join
audit     loads, files, rejected lines, runs, checks, purges, scheduled runs

The tables a build replaces every time (audit.current_findings, model_docs,
column_docs) are made by the build, not here.
"""

from __future__ import annotations

import json

import duckdb

from .db import ident, raw_columns
from .sources import Sources
from .text import column_key

LAYERS = ("raw", "staging", "marts", "rules", "params", "audit")

# Lineage on every raw row: which load and file, which record, which line.
LINEAGE = [
    ("_load_id", "BIGINT"),
    ("_file_id", "BIGINT"),
    ("_record_no", "BIGINT"),
    ("_line_no", "BIGINT"),
    ("_exported_at", "TIMESTAMP"),
]

# Every audit table, created with the warehouse, so that its readers (the dashboard, the audit
# pack, findings.is_current) find a table empty rather than missing before its first writer.
AUDIT_DDL = [
    # insyn load
    """create table if not exists audit.loads (
        load_id bigint primary key, started_at timestamp, finished_at timestamp,
        files_loaded integer, files_skipped integer, insyn_version varchar)""",
    """create table if not exists audit.files (
        file_id bigint primary key, load_id bigint, file varchar, sha256 varchar,
        archive_sha256 varchar, source varchar, raw_table varchar, exported_at timestamp,
        exported_at_from varchar, encoding varchar, rows bigint, rejected bigint,
        status varchar, size_bytes bigint)""",
    """create table if not exists audit.rejected_lines (
        file_id bigint, line_no bigint, reason varchar, line varchar)""",
    # insyn build
    """create table if not exists audit.runs (
        run_id bigint primary key, command varchar, as_of date, started_at timestamp,
        finished_at timestamp, status varchar, models integer)""",
    # how each build made each model: 'full' (computed anew), 'increment' (the rows of the files
    # loaded since the last build added) or 'unchanged' (nothing new to add); the latest row of an
    # incremental model is its state: what it covers and the definition it was built with
    """create table if not exists audit.model_builds (
        run_id bigint, table_name varchar, how varchar, reason varchar, after_file_id bigint,
        through_file_id bigint, raw_rows bigint, rows_added bigint, definition_sha256 varchar)""",
    # insyn check: the check history
    """create table if not exists audit.check_runs (
        check_run_id bigint primary key, as_of date, started_at timestamp, finished_at timestamp,
        success boolean, expectations integer, failed integer, data_docs varchar)""",
    """create table if not exists audit.check_results (
        check_run_id bigint, suite varchar, expectation_type varchar, column_name varchar,
        check_name varchar, rule varchar, severity varchar, legal_reference varchar, description varchar,
        success boolean, element_count bigint, unexpected_count bigint, exception varchar)""",
    """create table if not exists audit.findings_history (
        check_run_id bigint, as_of date, rule varchar, record_id varchar, email varchar,
        source varchar, detail varchar, count bigint)""",
    # each finding's detail_id and facts (insyn.findings.FACT_COLUMNS), so that history reads in
    # any language; rows kept before have none and show their English detail as recorded
    *(f"alter table audit.findings_history add column if not exists {name} {kind}" for name, kind in (
        ("detail_id", "varchar"), ("first_date", "date"), ("second_date", "date"), ("third_date", "date"),
        ("fourth_date", "date"), ("first_number", "bigint"), ("second_number", "bigint"),
        ("first_text", "varchar"), ("second_text", "varchar"), ("reason", "varchar"),
        ("first_time", "timestamp"))),
    # rules not evaluated (their sources never loaded): by the last build (insyn.findings), and by each
    # check run, with the quality suites not evaluated, as history
    """create table if not exists audit.not_evaluated (
        rule varchar, missing_sources varchar, source varchar, detail varchar, detail_id varchar,
        first_date date, first_text varchar)""",
    """create table if not exists audit.check_not_evaluated (
        check_run_id bigint, as_of date, suite varchar, rule varchar, missing_sources varchar,
        source varchar, detail varchar, detail_id varchar, first_date date, first_text varchar)""",
    # insyn purge: what went, when and why
    """create table if not exists audit.purges (
        purge_id bigint, purged_at timestamp, as_of date, reason varchar, raw_table varchar,
        file_id bigint, file varchar, exported_at timestamp, rows_deleted bigint)""",
    # a purge is settled once the models are rebuilt without its rows, the file compacted and the
    # snapshots replaced; one that is not (a step after its commit failed) is settled by the next purge
    """create table if not exists audit.purges_settled (purge_id bigint, settled_at timestamp)""",
    # insyn schedule run: each job's runs
    """create table if not exists audit.schedule_runs (
        job varchar, period varchar, as_of date, started_at timestamp, finished_at timestamp,
        status varchar, output varchar)""",
]


def ensure_audit(con: duckdb.DuckDBPyConnection) -> None:
    """The audit schema and every audit table (an older warehouse gets what it lacks)."""
    con.execute("create schema if not exists audit")
    for ddl in AUDIT_DDL:
        con.execute(ddl)


def ensure_schema(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    """Create the layers, the audit tables and one raw table per source kind."""
    for layer in LAYERS:
        con.execute(f"create schema if not exists {ident(layer)}")
    ensure_audit(con)
    for table, kind in sources.tables().items():
        text_columns = [*kind.loader_columns, *kind.declared_columns]
        utc_columns = [column_key(c) + "__utc" for c in kind.timestamps]
        if raw_columns(con, table):
            # an older warehouse meets a newer sources.toml: add what it declares
            added = add_missing_columns(con, table, text_columns)
            add_missing_columns(con, table, utc_columns, "TIMESTAMP")
            if "_extra" in kind.loader_columns:
                _move_out_of_extra(con, table, [c for c in (*kind.required, *kind.columns) if column_key(c) in added])
            continue
        cols = [f"{ident(n)} {t}" for n, t in LINEAGE]
        cols += [f"{ident(c)} VARCHAR" for c in text_columns]
        cols += [f"{ident(c)} TIMESTAMP" for c in utc_columns]
        con.execute(f"create table raw.{ident(table)} ({', '.join(cols)})")
    for _kind, column, child in sources.split_tables():   # a list column's elements, one row each
        con.execute(
            f"create table if not exists raw.{ident(child)} ("
            f"_load_id bigint, _file_id bigint, _record_no bigint, _exported_at timestamp, {ident(column)} varchar)"
        )


def add_missing_columns(con: duckdb.DuckDBPyConnection, table: str, columns: list[str],
                        sql_type: str = "VARCHAR") -> list[str]:
    """Columns an export brings that the raw table lacks are added (as text); those added."""
    assert sql_type in ("VARCHAR", "TIMESTAMP")
    have = set(raw_columns(con, table))
    added = []
    for col in columns:
        if col not in have:
            con.execute(f"alter table raw.{ident(table)} add column {ident(col)} {sql_type}")
            have.add(col)
            added.append(col)
    return added


def _move_out_of_extra(con: duckdb.DuckDBPyConnection, table: str, keys: list[str]) -> None:
    """A key sources.toml now declares was kept in `_extra` (the keys not declared, as a JSON object)
    by earlier loads: its values move to the new column, as a load now writes them, so that a row
    reads the same whenever it was loaded (the access report shows each event once)."""
    for key in keys:
        path = "$." + json.dumps(key, ensure_ascii=False)   # DuckDB's paths read no \u escapes
        con.execute(f"""update raw.{ident(table)}
                        set {ident(column_key(key))} = json_extract_string(_extra, $path),
                            _extra = nullif(cast(json_merge_patch(_extra, $patch) as varchar), '{{}}')
                        where _extra is not null and json_exists(_extra, $path)""",
                    {"path": path, "patch": json.dumps({key: None}, ensure_ascii=False)})
