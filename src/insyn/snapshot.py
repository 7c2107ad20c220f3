"""Published snapshots: the dashboard reads a copy, never the warehouse being written.

DuckDB allows one writing process, and a reader of the same file would block
(or be blocked by) `insyn run`. After each command that changes the
warehouse, `publish()` copies it to <published>/insyn-<time>.duckdb and then
points <published>/CURRENT at the copy (an atomic rename); the folder is the
warehouse's own (workbench.Layout.published), never shared with another one. Readers open the
pointed snapshot read-only and switch to a newer one on their next request,
with no restart; a snapshot no longer current is closed once no request uses
it, within about a second even when no request comes (SnapshotReader).

A publish is a checkpoint and a file copy, which the kernel does at the disk's
speed (2.2 GB in 1.5 s here, benchmarks/README.md); `insyn run` publishes once,
at its end. Bringing an older snapshot up to date through SQL instead (adding
the new files' rows, copying the rebuilt tables) was built and measured: 36.5 s
for the same week, as DuckDB's inserts are some 25 times slower per byte than
a copy, so it was taken out again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
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


def publish(db_path: Path, folder: Path) -> Path:
    """Checkpoint the warehouse, copy it into `folder`, and point CURRENT at the copy."""
    out = folder
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _publishing(out):
        con = duckdb.connect(str(db_path))
        try:
            con.execute("checkpoint")
        finally:
            con.close()
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
            _remove(old)
    return target


@contextlib.contextmanager
def _publishing(folder: Path):
    """Publishes of one warehouse one after another (two commands may finish at once)."""
    with open(folder / ".publishing", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove(snapshot: Path) -> None:
    """A snapshot file and whatever a reader's DuckDB or a broken publish left beside it."""
    snapshot.unlink(missing_ok=True)
    for left in (snapshot.with_name(snapshot.name + ".wal"), snapshot.with_suffix(".partial")):
        left.unlink(missing_ok=True)


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
    if not out.is_dir():
        return
    with _publishing(out):   # not beside a publish another command is making
        (out / POINTER).unlink(missing_ok=True)
        for old in out.glob("insyn-*.duckdb"):
            _remove(old)
        for left in out.glob("insyn-*.partial"):
            left.unlink(missing_ok=True)
