"""Published snapshots: the dashboard reads a copy, never the warehouse being written.

DuckDB allows one writing process, and a reader of the same file would block
(or be blocked by) `insyn run`. After each command that changes the
warehouse, `publish()` copies it to <published>/insyn-<time>.duckdb and then
points <published>/CURRENT at the copy (an atomic rename); the folder is the
warehouse's own (workbench.Layout.published), never shared with another one. Readers open the
pointed snapshot read-only and switch to a newer one on their next request,
with no restart; a snapshot no longer current is closed once no request uses
it, within about a second even when no request comes (SnapshotReader).

A publish is a checkpoint and a copy. What a weekly run changes is a small
part of the file (in a 500 k-contact warehouse, 2,449 of its 10,532 blocks of
256 KiB), and most of the rest has left the page cache since earlier weeks
wrote it, so a full copy mostly reads cold disk (benchmarks/README.md). So
publish() first brings an older snapshot that no reader holds up to date, in
place: DuckDB's file is three 4 KiB headers and then blocks that each begin
with the checksum of their contents, so comparing the 8 checksum bytes of each
block of the two files finds the blocks that differ, and only those are
copied (then the headers, and the length). The result is the warehouse byte
for byte (tests/test_snapshot.py compares them), is renamed to the new
snapshot's name, and replaces the older one. An older snapshot is "not held"
when no process has it open: DuckDB takes a shared lock on a file it opens,
and the publish takes an exclusive one for the whole patch (a reader that
tries to open it meanwhile is refused, rather than reading half a file);
SnapshotReader also remembers the files it holds in this process, where locks
do not exclude each other. When no older snapshot is free, or the file is not
laid out as expected, the publish copies the whole file as before.
`insyn run` publishes once, at its end. Bringing an older snapshot up to date
through SQL instead (adding the new files' rows, copying the rebuilt tables)
was built and measured: 36.5 s for the same week, as DuckDB's inserts are some
25 times slower per byte than a copy, so it was taken out again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import shutil
import struct
import threading
import time
import weakref
from pathlib import Path

import duckdb

POINTER = "CURRENT"
PUBLISH_WAIT_SECONDS = 30   # how long a request waits for the snapshot that replaces a removed one
KEEP = 3  # snapshots kept: the current one and the ones readers may still hold


def publish(db_path: Path, folder: Path, stats: dict | None = None) -> Path:
    """Checkpoint the warehouse, make its snapshot in `folder` (an older one brought up to date,
    else a copy), and point CURRENT at it. `stats`, when given, gets the bytes written and
    the snapshot it was made from (None: a full copy)."""
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
        made_from, written = None, None
        latest = current(out)
        for older in sorted(out.glob("insyn-*.duckdb"), reverse=True):   # newest first: fewest changes
            if older != latest:
                written = _patch(db_path, older, partial)
                if written is not None:
                    made_from = older.name
                    break
        if written is None:
            shutil.copyfile(db_path, partial)
            written = partial.stat().st_size
        os.chmod(partial, 0o600)
        os.replace(partial, target)
        pointer = out / (POINTER + ".tmp")
        pointer.write_text(target.name + "\n", encoding="utf-8")
        os.replace(pointer, out / POINTER)
        for old in sorted(out.glob("insyn-*.duckdb"))[:-KEEP]:
            _remove(old)
    if stats is not None:
        stats.update(written=written, made_from=made_from)
    return target


# ---------------------------------------------------------------- bringing an older snapshot up to date

HEADERS = 3 * 4096   # DuckDB's main header and its two database headers
CHECKSUM = 8         # each block begins with the checksum of the rest of it


def _block_size(fd: int) -> int | None:
    """The block size a DuckDB file says it uses (its newer database header's), or None when
    the file does not look like one (then it is copied whole)."""
    head = os.pread(fd, HEADERS, 0)
    if len(head) < HEADERS or head[8:12] != b"DUCK":
        return None
    # each database header: checksum, iteration, meta block, free list, block count, block size
    newer = max((struct.unpack_from("<6Q", head, at) for at in (4096, 8192)), key=lambda h: h[1])
    size = newer[5]
    return size if 4096 <= size <= 1 << 26 and size & (size - 1) == 0 else None


def _patch(source: Path, older: Path, partial: Path) -> int | None:
    """Make the snapshot `older` byte for byte the warehouse `source` by rewriting only the blocks
    whose checksums differ, and move it to `partial`; the bytes written, or None when it cannot
    be (a reader holds it, or either file is not laid out as expected): `older` is then as it was."""
    if older.resolve() in _held_here:
        return None
    try:
        fd = os.open(older, os.O_RDWR)
    except OSError:
        return None
    try:
        # never close another descriptor of `older` while patching: that drops this lock
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None   # a DuckDB reader has it open (a shared lock)
        src = os.open(source, os.O_RDONLY)
        try:
            block = _block_size(src)
            if block is None or _block_size(fd) != block:
                return None
            os.replace(older, partial)   # from here on it is the new snapshot being written
            try:
                return _copy_changed(src, fd, block)
            except OSError:
                partial.unlink(missing_ok=True)   # half patched: the caller copies the whole file
                return None
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        finally:
            os.close(src)
    finally:
        os.close(fd)


def _copy_changed(src: int, dst: int, block: int) -> int:
    """Copy into `dst` the headers and every block of `src` whose checksum differs (or that `dst`
    lacks), and give `dst` the length of `src`; the bytes written."""
    size, had = os.fstat(src).st_size, os.fstat(dst).st_size
    for fd in (src, dst):
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)   # read the checksums, not the blocks around them
    written = _copy_range(src, dst, 0, min(HEADERS, size))
    start = None   # the first block of a run of differing blocks
    offset = HEADERS
    while offset < size:
        end = min(offset + block, size)
        differs = (end - offset < block or offset + block > had
                   or os.pread(src, CHECKSUM, offset) != os.pread(dst, CHECKSUM, offset))
        if differs and start is None:
            start = offset
        elif not differs and start is not None:
            written += _copy_range(src, dst, start, offset - start)
            start = None
        offset = end
    if start is not None:
        written += _copy_range(src, dst, start, size - start)
    os.ftruncate(dst, size)
    return written


def _copy_range(src: int, dst: int, offset: int, length: int) -> int:
    """Bytes [offset, offset + length) of `src` to the same place in `dst`, by the kernel."""
    done = 0
    while done < length:
        try:
            n = os.copy_file_range(src, dst, length - done, offset + done, offset + done)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            chunk = os.pread(src, min(length - done, 1 << 23), offset + done)
            n = os.pwrite(dst, chunk, offset + done)
        if n == 0:
            raise OSError(errno.EIO, "the warehouse ended while being copied")
        done += n
    return done


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


_held_here: set[Path] = set()   # snapshots this process's readers have open (locks do not exclude them)


class _Snapshot:
    """One open snapshot: its connection and how many cursors requests hold on it."""

    def __init__(self, path: Path):
        self.path = path
        _held_here.add(path.resolve())
        try:
            self.con = duckdb.connect(str(path), read_only=True)
            self.con.execute("set TimeZone = 'UTC'")
        except BaseException:
            _held_here.discard(path.resolve())
            raise
        self.in_use = 0

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            _held_here.discard(self.path.resolve())


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
            snap.close()
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
