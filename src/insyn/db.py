"""The warehouse: one DuckDB file with a schema per layer.

raw       exports as delivered (text), one table per source kind, lineage on every row
staging   typed, normalised                 (pipelines/staging)
marts     joined facts about people and requests   (pipelines/marts)
rules     one table per rule id: one row per finding   (pipelines/rules)
params    the run's as-of date and the policy's values, for models to join
audit     loads, files, rejected lines, runs
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pyarrow as pa

from .errors import InsynError, WarehouseBusy
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

AUDIT_DDL = [
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
    """create table if not exists audit.runs (
        run_id bigint primary key, command varchar, as_of date, started_at timestamp,
        finished_at timestamp, status varchar, models integer)""",
]


# The check history (insyn check writes it): created with the warehouse, so that its readers
# (the dashboard, the audit pack) find it empty rather than missing before the first check.
CHECK_DDL = [
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
]


def ident(name: str) -> str:
    """A quoted SQL identifier (names only: values always travel as parameters)."""
    return '"' + name.replace('"', '""') + '"'


# The installation's DuckDB settings ([duckdb] in insyn.toml), set once by the CLI.
SETTINGS: dict = {}


def configure(settings: dict) -> None:
    SETTINGS.clear()
    SETTINGS.update({k: str(v) for k, v in settings.items()})


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise InsynError(f"{path}: no warehouse yet (run `insyn load` and `insyn build` first)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(f"{path}: the warehouse is in use by another writer; try again when it has finished") from None
        raise InsynError(f"{path}: cannot open the warehouse ({str(exc).splitlines()[0]})") from None
    except duckdb.Error as exc:
        raise InsynError(f"{path}: not a DuckDB warehouse ({str(exc).splitlines()[0]})") from None
    con.execute("set TimeZone = 'UTC'")
    # no progress bar: it would draw on the terminal of every command and the server's log
    # (in a Jupyter kernel DuckDB refuses to touch the setting without ipywidgets; it draws none there)
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("set enable_progress_bar = false")
    for name, value in SETTINGS.items():   # names from config.DUCKDB_SETTINGS only
        con.execute(f"set {name} = $value", {"value": value})
    return con


@contextlib.contextmanager
def run_lock(path: Path):
    """One `insyn run` at a time per warehouse: a second one is refused at once (exit 3),
    before it loads anything, rather than interleaving its steps with the first's."""
    import fcntl
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".run.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(f"{path}: another `insyn run` is working on this warehouse; "
                                "try again when it has finished") from None
        yield
    finally:
        os.close(fd)   # releases the lock, also when the process dies


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where schema_name = $s and table_name = $t",
                       {"s": schema, "t": table}).fetchone()[0] > 0


def raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = $t order by column_index",
        {"t": table},
    ).fetchall()
    return [r[0] for r in rows]


def ensure_schema(con: duckdb.DuckDBPyConnection, sources: Sources) -> None:
    """Create the layers, the audit tables and one raw table per source kind."""
    for layer in LAYERS:
        con.execute(f"create schema if not exists {ident(layer)}")
    for ddl in AUDIT_DDL + CHECK_DDL:
        con.execute(ddl)
    for table, kind in sources.tables().items():
        text_columns = [*kind.loader_columns, *kind.declared_columns]
        utc_columns = [column_key(c) + "__utc" for c in kind.timestamps]
        if raw_columns(con, table):
            # an older warehouse meets a newer sources.toml: add what it declares
            add_missing_columns(con, table, text_columns)
            add_missing_columns(con, table, utc_columns, "TIMESTAMP")
            continue
        cols = [f"{ident(n)} {t}" for n, t in LINEAGE]
        cols += [f"{ident(c)} VARCHAR" for c in text_columns]
        cols += [f"{ident(c)} TIMESTAMP" for c in utc_columns]
        con.execute(f"create table raw.{ident(table)} ({', '.join(cols)})")
    con.execute(
        "create table if not exists raw.esp__event_category ("
        "_load_id bigint, _file_id bigint, _record_no bigint, _exported_at timestamp, category varchar)"
    )


def add_missing_columns(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], sql_type: str = "VARCHAR") -> None:
    """Columns an export brings that the raw table lacks are added (as text)."""
    assert sql_type in ("VARCHAR", "TIMESTAMP")
    have = set(raw_columns(con, table))
    for col in columns:
        if col not in have:
            con.execute(f"alter table raw.{ident(table)} add column {ident(col)} {sql_type}")
            have.add(col)


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table) -> None:
    """Insert an Arrow table by column name (`table` is a quoted, qualified name)."""
    if batch.num_rows == 0:
        return
    con.register("insyn_batch", batch)
    try:
        names = ", ".join(ident(c) for c in batch.column_names)
        con.execute(f"insert into {table} ({names}) select {names} from insyn_batch")
    finally:
        con.unregister("insyn_batch")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows at once (as an Arrow table, not row by row)."""
    if rows:
        insert_arrow(con, table, pa.Table.from_pylist([dict(zip(columns, r)) for r in rows]))
