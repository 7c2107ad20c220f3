"""Published snapshots: the dashboard reads a copy, never the warehouse being written.

DuckDB allows one writing process, and a reader of the same file would block
(or be blocked by) `insyn run`. After each command that changes the
warehouse, `publish()` makes <published>/insyn-<time>.duckdb hold what the
warehouse holds and then points <published>/CURRENT at it (an atomic rename);
the folder is the warehouse's own (workbench.Layout.published), never shared
with another one. Readers open the pointed snapshot read-only and switch to a
newer one on their next request, with no restart; a snapshot no longer
current is closed once no request uses it, within about a second even when no
request comes (SnapshotReader).

Copying the whole warehouse each time would cost as much as the raw layer
holds, however little changed. So publish() brings an older snapshot that no
reader holds up to date instead (sync): an append-only table (a raw table,
or a model built incrementally since) gets the rows of the files loaded
since, every other table (marts, rules, audit, params: what a build
recomputes) is copied anew, and the file is renamed as the newest. Only
when no older snapshot is free, or rows were removed from a raw table (an
erasure, a purge: a reused file could keep them in its free blocks), or the
warehouse is small (COPY_BELOW_BYTES), is the warehouse file copied whole.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
import weakref
from pathlib import Path

import duckdb

POINTER = "CURRENT"
PUBLISH_WAIT_SECONDS = 30   # how long a request waits for the snapshot that replaces a removed one
KEEP = 3  # snapshots kept: the current one and the ones readers may still hold
# Below this a warehouse is copied whole: quicker than bringing a snapshot up to date, whose
# statements cost about 0.7 s whatever the size (measured: a 14 MB warehouse copies in 0.07 s)
COPY_BELOW_BYTES = 64 * 2**20


def publish(db_path: Path, folder: Path, macros: list[str] | None = None, stats: dict | None = None) -> Path:
    """Checkpoint the warehouse, make a snapshot of it in `folder` (an older one brought up to
    date, else a copy), and point CURRENT at it. `macros`: the warehouse's macro statements, made
    again in a reused snapshot. `stats`, when given, is filled with how it was made."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    out = folder
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = out / f"insyn-{stamp}.duckdb"
    made = _reuse(db_path, out, target, macros or []) if db_path.stat().st_size >= COPY_BELOW_BYTES else None
    if made is None:
        partial = target.with_suffix(".partial")
        shutil.copyfile(db_path, partial)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
        made = {"how": "copied"}
    if stats is not None:
        stats.update(made)
    pointer = out / (POINTER + ".tmp")
    pointer.write_text(target.name + "\n", encoding="utf-8")
    os.replace(pointer, out / POINTER)
    for old in sorted(out.glob("insyn-*.duckdb"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return target


class _NotReusable(Exception):
    """This snapshot must not be reused: rows left a raw table since it was made."""


def _reuse(db_path: Path, folder: Path, target: Path, macros: list[str]) -> dict | None:
    """Bring the newest older snapshot no reader holds up to date and rename it `target`;
    None when there is none (or it may not be reused)."""
    latest = current(folder)
    for older in sorted((p for p in folder.glob("insyn-*.duckdb") if p != latest), reverse=True):
        try:
            con = duckdb.connect(str(older))   # refused while any reader holds it
        except duckdb.Error:
            continue
        try:
            made = _sync(con, db_path, macros)
            con.execute("checkpoint")
        except (_NotReusable, duckdb.Error):
            con.close()
            older.unlink(missing_ok=True)
            return None
        con.close()
        os.chmod(older, 0o600)
        os.replace(older, target)
        return made
    return None


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Every table of `database` with its columns (name, type), in order."""
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in con.execute(
            "select schema_name, table_name, column_name, data_type from duckdb_columns() "
            "where database_name = $d and not internal order by schema_name, table_name, column_index",
            {"d": database}).fetchall():
        tables.setdefault((schema, table), []).append((column, kind))
    return tables


def _sync(con: duckdb.DuckDBPyConnection, db_path: Path, macros: list[str]) -> dict:
    """Make the snapshot open on `con` hold what the warehouse holds, in one transaction."""
    con.execute("attach $p as insyn_source (read_only)", {"p": str(db_path)})
    here = con.execute("select current_database()").fetchone()[0]
    source, mine = _tables(con, "insyn_source"), _tables(con, here)
    history = _build_history(con, mine)
    appended, copied = 0, []
    con.execute("begin transaction")
    try:
        for schema, table in sorted(set(mine) - set(source)):
            con.execute(f"drop table {_q(schema)}.{_q(table)}")
        for schema in sorted({s for s, _ in source}):
            con.execute(f"create schema if not exists {_q(schema)}")
        for (schema, table), columns in sorted(source.items()):
            name = f"{_q(schema)}.{_q(table)}"
            key = _append_key(f"{schema}.{table}", [c for c, _ in columns], history)
            if key and mine.get((schema, table)) == columns:
                kept, through = con.execute(f"select count(*), coalesce(max({_q(key)}), 0) from {name}").fetchone()
                still = con.execute(f"select count(*) from insyn_source.{name} where {_q(key)} <= $f",
                                    {"f": through}).fetchone()[0]
                if still == kept:
                    con.execute(f"insert into {name} select * from insyn_source.{name} where {_q(key)} > $f",
                                {"f": through})
                    appended += 1
                    continue
                if key == "_file_id":
                    raise _NotReusable(f"{schema}.{table}")
            con.execute(f"create or replace table {name} as select * from insyn_source.{name}")
            copied.append((schema, table))
        _comments(con, copied)
        for statement in macros:
            con.execute(statement)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("detach insyn_source")
    return {"how": "synced", "tables_appended": appended, "tables_copied": len(copied)}


def _build_history(con: duckdb.DuckDBPyConnection, mine: dict) -> tuple[set[str], set[str]] | None:
    """From audit.model_builds: (every table a build makes, those computed anew rather than
    extended since the snapshot's last recorded build); None when the snapshot has no record."""
    if ("audit", "model_builds") not in mine:
        return None
    since = con.execute("select coalesce(max(run_id), 0) from audit.model_builds").fetchone()[0]
    built = {t for (t,) in con.execute("select distinct table_name from insyn_source.audit.model_builds").fetchall()}
    rebuilt = {t for (t,) in con.execute(
        "select distinct table_name from insyn_source.audit.model_builds where run_id > $r and how = 'full'",
        {"r": since}).fetchall()}
    return built, rebuilt


def _append_key(table: str, columns: list[str], history: tuple[set[str], set[str]] | None) -> str | None:
    """The file column by which `table` only ever grew since the snapshot was made, if it did."""
    if "_file_id" in columns:
        return "_file_id"      # raw: a load adds rows of new files; only erasures and purges remove any
    if "file_id" in columns and history is not None and table in history[0] and table not in history[1]:
        return "file_id"       # a model that builds since only extended (build.py: incremental models)
    return None


def _comments(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    """The descriptions (COMMENT ON) of `tables` and their columns, as the warehouse has them."""
    wanted = set(tables)
    for schema, table, column, text in con.execute(
            "select schema_name, table_name, null, comment from duckdb_tables() "
            "where database_name = 'insyn_source' and comment is not null "
            "union all select schema_name, table_name, column_name, comment from duckdb_columns() "
            "where database_name = 'insyn_source' and comment is not null").fetchall():
        if (schema, table) in wanted and text:
            name = f"{_q(schema)}.{_q(table)}"
            con.execute(f"comment on column {name}.{_q(column)} is {_literal(text)}" if column
                        else f"comment on table {name} is {_literal(text)}")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:   # COMMENT ON takes no parameters
    return "'" + text.replace("'", "''") + "'"


def current(folder: Path) -> Path | None:
    """The snapshot CURRENT in `folder` points at, if it exists."""
    pointer = folder / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder / name
    return path if path.exists() else None


class _Snapshot:
    """One open snapshot: its connection and how many cursors requests hold on it."""

    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path), read_only=True)
        self.con.execute("set TimeZone = 'UTC'")
        self.in_use = 0


class _Cursor:
    """A request's cursor; closing it (or losing it) tells the reader the snapshot is free."""

    def __init__(self, reader: "SnapshotReader", snap: _Snapshot):
        self._cur = snap.con.cursor()
        self._release = weakref.finalize(self, reader._release, snap, self._cur)

    def close(self) -> None:
        self._release()

    def __getattr__(self, name):
        attr = getattr(self._cur, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):   # holds this wrapper (and so its snapshot) for the call's length
            result = attr(*args, **kwargs)
            return self if result is self._cur else result

        return call

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SnapshotReader:
    """Thread-safe read-only access to the latest published snapshot.

    A request takes a cursor on the newest snapshot and closes it when done. A
    snapshot that is no longer current (a newer one was published, or it was
    deleted, as after an erasure) is closed once no request uses it: on the
    last cursor's close, or by a watcher thread that looks at CURRENT about
    once a second, so that the process lets go of a deleted file within
    seconds even when no request comes.
    """

    WATCH_SECONDS = 1.0

    def __init__(self, folder: Path):
        self.folder = folder   # the warehouse's published/ folder
        # re-entrant: a cursor the garbage collector finalizes may release itself in a thread holding the lock
        self._lock = threading.RLock()
        self._snap: _Snapshot | None = None
        self._retired: list[_Snapshot] = []
        self._opened = False
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=_watch, args=(weakref.ref(self), self._stop),
                                         name="insyn-snapshot-watcher", daemon=True)
        self._watcher.start()

    def cursor(self) -> _Cursor:
        """A cursor on the newest snapshot (one per request; close it when done)."""
        latest = current(self.folder)
        waited = 0.0
        while latest is None and self._opened and waited < PUBLISH_WAIT_SECONDS:
            time.sleep(0.2)   # snapshots removed and the next one being copied (an erasure): wait for it
            waited += 0.2
            latest = current(self.folder)
        with self._lock:
            if latest is not None and (self._snap is None or latest != self._snap.path):
                fresh = _Snapshot(latest)
                self._retire()
                self._snap = fresh
                self._opened = True
            if self._snap is None:
                raise FileNotFoundError("no published snapshot yet: run `insyn build` or `insyn run` first")
            self._snap.in_use += 1
            return _Cursor(self, self._snap)

    @property
    def path(self) -> Path | None:
        snap = self._snap
        return snap.path if snap is not None else None

    def let_go(self) -> None:
        """Close every snapshot that is no longer the current one (or is deleted) and unused."""
        latest = current(self.folder)
        with self._lock:
            if self._snap is not None and (latest != self._snap.path or not self._snap.path.exists()):
                self._retire()
            self._close_unused()

    def close(self) -> None:
        """Stop watching and close every snapshot (cursors still open keep theirs until closed)."""
        self._stop.set()
        with self._lock:
            self._retire()
            self._close_unused()

    def _retire(self) -> None:   # holding the lock
        if self._snap is not None:
            self._retired.append(self._snap)
            self._snap = None
        self._close_unused()

    def _close_unused(self) -> None:   # holding the lock
        for snap in [s for s in self._retired if s.in_use == 0]:
            snap.con.close()
            self._retired.remove(snap)

    def _release(self, snap: _Snapshot, cur) -> None:
        try:
            cur.close()
        finally:
            with self._lock:
                snap.in_use -= 1
                self._close_unused()


def _watch(reader_ref, stop: threading.Event) -> None:
    """Poll CURRENT; ends with the reader (a weak reference: the thread keeps no reader alive)."""
    while not stop.wait(SnapshotReader.WATCH_SECONDS):
        reader = reader_ref()
        if reader is None:
            return
        try:
            reader.let_go()
        except Exception:   # a pointer being replaced, a file vanishing: look again next time
            pass
        del reader


def remove_published(folder: Path) -> None:
    """Delete every published snapshot (after an erasure they hold the erased person);
    the next publish() makes a fresh one. A dashboard holding an old one switches to it."""
    out = folder
    (out / POINTER).unlink(missing_ok=True)
    for old in out.glob("insyn-*.duckdb"):
        old.unlink(missing_ok=True)
