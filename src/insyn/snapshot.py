"""Published snapshots: the dashboard reads a copy, never the warehouse being written.

DuckDB allows one writing process, and a reader of the same file would block
(or be blocked by) `insyn run`. After each command that changes the
warehouse, `publish()` copies it to published/insyn-<time>.duckdb and then
points published/CURRENT at the copy (an atomic rename). Readers open the
pointed snapshot read-only and switch to a newer one on their next request,
with no restart.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import duckdb

POINTER = "CURRENT"
KEEP = 3  # snapshots kept: the current one and the ones readers may still hold


def folder(db_path: Path) -> Path:
    return db_path.parent / "published"


def publish(db_path: Path) -> Path:
    """Checkpoint the warehouse, copy it, and point CURRENT at the copy."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    out = folder(db_path)
    out.mkdir(mode=0o700, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = out / f"insyn-{stamp}.duckdb"
    partial = target.with_suffix(".partial")
    shutil.copyfile(db_path, partial)
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    pointer = out / (POINTER + ".tmp")
    pointer.write_text(target.name + "\n", encoding="utf-8")
    os.replace(pointer, out / POINTER)
    for old in sorted(out.glob("insyn-*.duckdb"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return target


def current(db_path: Path) -> Path | None:
    pointer = folder(db_path) / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = folder(db_path) / name
    return path if path.exists() else None


class SnapshotReader:
    """Thread-safe read-only access to the latest published snapshot."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._previous: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest snapshot (one per request; cursors are thread-safe)."""
        latest = current(self.db_path)
        with self._lock:
            if latest is None and self._con is None:
                raise FileNotFoundError("no published snapshot yet: run `insyn build` or `insyn run` first")
            if latest is not None and latest != self._path:
                con = duckdb.connect(str(latest), read_only=True)
                con.execute("set TimeZone = 'UTC'")
                # the connection before the previous one is no longer in use by any request
                if self._previous is not None:
                    self._previous.close()
                self._previous, self._con, self._path = self._con, con, latest
            return self._con.cursor()

    @property
    def path(self) -> Path | None:
        return self._path


def remove_published(db_path: Path) -> None:
    """Delete every published snapshot (after an erasure they hold the erased person);
    the next publish() makes a fresh one. A dashboard holding an old one switches to it."""
    out = folder(db_path)
    (out / POINTER).unlink(missing_ok=True)
    for old in out.glob("insyn-*.duckdb"):
        old.unlink(missing_ok=True)
