"""The warehouse: one DuckDB file (its layers and tables: schema.py).

Opening it, one writer's locks, one transaction, and the few helpers every
module that writes to it shares.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pyarrow as pa

from .errors import InsynError, WarehouseBusy


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
    apply_settings(con)
    return con


def apply_settings(con: duckdb.DuckDBPyConnection) -> None:
    """The installation's memory limit, threads and spill folder, on any connection Insyn opens."""
    for name, value in SETTINGS.items():   # names from config.DUCKDB_SETTINGS only
        con.execute(f"set {name} = $value", {"value": value})


@contextlib.contextmanager
def run_lock(path: Path, command: str = "insyn run"):
    """One `insyn run` (or purge, or erasure: each rebuilds and rewrites) at a time per warehouse:
    another is refused at once (exit 3), before it changes anything, rather than interleaving its
    steps with the first's. The lock file names its holder for that message."""
    import fcntl
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".run.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "insyn run"
            raise WarehouseBusy(f"{path}: another `{holder}` is working on this warehouse; "
                                "try again when it has finished") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, command.encode("ascii"), 0)
        yield
    finally:
        os.close(fd)   # releases the lock, also when the process dies


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """One transaction: committed when the block ends, rolled back on any exception
    (an interrupt too), which is raised again."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from duckdb_tables() where schema_name = $s and table_name = $t",
                       {"s": schema, "t": table}).fetchone()[0] > 0


def raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = $t order by column_index",
        {"t": table},
    ).fetchall()
    return [r[0] for r in rows]


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
