"""`insyn load`: exports into the raw layer, one transaction per batch.

I/O sits here; parsing is in readers.py. A file already loaded (same SHA-256)
is skipped. A bad file named on the command line, or a malformed export found
anywhere, refuses the whole batch: nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import duckdb
import pyarrow as pa

from . import __version__, readers
from .config import Policy
from .dates import outside_years
from .db import ident, insert_arrow, insert_rows, transaction
from .errors import InputError, InsynError
from .files import sha256_file
from .ledger import Erasures
from .schema import add_missing_columns, ensure_schema
from .sources import SourceKind, Sources
from .text import column_key, trim

_DATE_DIR = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass
class Item:
    """One file to load: a loose file or an archive member, read when needed."""

    name: str                      # shown in messages and in audit.files
    read: Callable[[], bytes]
    explicit: bool                 # named on the command line (not found in a folder or archive)
    exported_at: dt.datetime
    exported_at_from: str          # option | folder | archive | mtime
    archive_sha256: str | None = None
    path: Path | None = None       # a loose file, which DuckDB can read itself (bulk.py)
    size: int = 0
    _data: bytes | None = field(default=None, repr=False)
    _digest: tuple[str, int] | None = field(default=None, repr=False)   # SHA-256, physical lines

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.read()
        return self._data

    def _scan(self) -> tuple[str, int]:
        """SHA-256 and the number of physical lines, in one pass (a big file is read in blocks)."""
        if self._digest is None:
            digest, newlines, last = hashlib.sha256(), 0, b"\n"
            if self._data is None and self.path is not None and self.size > HEAD_BYTES:
                try:
                    with self.path.open("rb") as fh:
                        for block in iter(lambda: fh.read(1 << 22), b""):
                            digest.update(block)
                            newlines += block.count(b"\n")
                            last = block[-1:]
                except OSError as exc:
                    raise InputError(self.name, f"cannot read ({exc.strerror})") from None
            else:
                data = self.data
                digest.update(data)
                newlines, last = data.count(b"\n"), data[-1:] or b"\n"
            self._digest = (digest.hexdigest(), newlines + (last != b"\n"))
        return self._digest

    @property
    def sha256(self) -> str:
        return self._scan()[0]

    @property
    def physical_lines(self) -> int:
        return self._scan()[1]

    def head(self) -> bytes:
        """The file, or its first HEAD_BYTES when it is big and not read yet (enough to tell its kind)."""
        if self._data is None and self.path is not None and self.size > HEAD_BYTES:
            try:
                with self.path.open("rb") as fh:
                    return fh.read(HEAD_BYTES)
            except OSError as exc:
                raise InputError(self.name, f"cannot read ({exc.strerror})") from None
        return self.data

    def release(self) -> None:
        self._data = None


HEAD_BYTES = 1 << 20


@dataclass
class LoadReport:
    loaded: list[dict] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)   # name, why
    load_id: int | None = None
    purged: dict[str, int] = field(default_factory=dict)  # rows of erased people left out, per table
    bulk: list[str] = field(default_factory=list)          # files DuckDB read itself (bulk.py)


def parse_exported_at(value: str) -> dt.datetime:
    """--exported-at: an ISO date or date-time; without an offset it is UTC."""
    try:
        stamp = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InsynError(f"--exported-at: not an ISO date or date-time: {value!r}") from None
    if stamp.tzinfo is not None:
        try:
            stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise InsynError(f"--exported-at: {value.strip()}: outside the dates Python can hold") from None
    if outside_years(stamp):   # in UTC, as it is stored
        raise InsynError(f"--exported-at: {outside_years(stamp)}")
    return stamp


def _folder_date(parts: list[str]) -> dt.datetime | None:
    """The nearest enclosing folder named YYYY-MM-DD, as midnight UTC."""
    for part in reversed(parts):
        m = _DATE_DIR.match(part)
        if m:
            try:
                day = dt.datetime(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
            if not outside_years(day):   # a folder named 0001-01-01 is no export date
                return day
    return None


class Collector:
    """Expands the paths given to `insyn load` into Items."""

    def __init__(self, root: Path, ignore: list[str], exported_at: dt.datetime | None):
        self.root = root
        self.ignore = ignore
        self.option = exported_at
        self.items: list[Item] = []
        self.ignored: list[str] = []

    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path.resolve())

    def _ignored(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pat) for pat in self.ignore)

    def _stamp(self, folders: list[str], archive_time: dt.datetime | None, mtime: float):
        if self.option is not None:
            return self.option, "option"
        folder = _folder_date(folders)
        if folder is not None:
            return folder, "folder"
        if archive_time is not None:
            return archive_time, "archive"
        return dt.datetime.fromtimestamp(mtime, dt.timezone.utc).replace(tzinfo=None), "mtime"

    def add(self, path: Path) -> None:
        if not path.exists():
            raise InputError(str(path), "no such file or folder")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = child.relative_to(path).parts
                if any(self._ignored(part) for part in rel):
                    self.ignored.append(self.display(child))
                    continue
                self._add_file(child, explicit=False)
        else:
            self._add_file(path, explicit=True)

    def _add_file(self, path: Path, explicit: bool) -> None:
        name = self.display(path)
        try:
            mtime, size = path.stat().st_mtime, path.stat().st_size
            is_archive = path.suffix.lower() == ".zip" or (not path.suffix and zipfile.is_zipfile(path))
        except OSError as exc:
            raise InputError(name, f"cannot read ({exc.strerror})") from None
        folders = list(path.resolve().parent.parts)
        if is_archive:
            self._add_archive(path, folders, mtime)
            return

        def read() -> bytes:
            try:
                return path.read_bytes()
            except OSError as exc:
                raise InputError(name, f"cannot read ({exc.strerror})") from None

        stamp, source = self._stamp(folders, None, mtime)
        self.items.append(Item(name, read, explicit, stamp, source, path=path, size=size))

    def _add_archive(self, path: Path, folders: list[str], mtime: float) -> None:
        name = self.display(path)
        try:
            archive_sha = sha256_file(path)
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
        except (zipfile.BadZipFile, OSError):
            raise InputError(name, "not a valid ZIP archive") from None
        for info in sorted(members, key=lambda m: m.filename):
            inner = PurePosixPath(info.filename)
            member = f"{name}!{info.filename}"
            if any(self._ignored(part) for part in inner.parts) or "__MACOSX" in inner.parts:
                self.ignored.append(member)
                continue

            def read(info=info, member=member) -> bytes:
                try:
                    with zipfile.ZipFile(path) as archive:
                        return archive.read(info)
                except (zipfile.BadZipFile, RuntimeError, OSError, zlib.error, EOFError) as exc:
                    raise InputError(member, f"cannot extract ({exc.__class__.__name__})") from None

            try:
                zip_time = dt.datetime(*info.date_time)
            except ValueError:
                zip_time = None
            stamp, source = self._stamp(folders + list(inner.parent.parts), zip_time, mtime)
            self.items.append(Item(member, read, False, stamp, source, archive_sha, size=info.file_size))


# ---------------------------------------------------------------- detection


def _csv_header(data: bytes, name: str) -> list[str] | None:
    try:
        text, _ = readers.decode_text(data[: 1024 * 1024], name)
    except InputError:
        return None
    if not text.strip():
        return None
    first = text.split("\n", 1)[0]
    try:
        import csv

        row = next(csv.reader(io.StringIO(text, newline=""), delimiter=readers._sniff_delimiter(first)))
    except (csv.Error, StopIteration):
        return None
    return row


def register_mapping(header: list[str], policy: Policy) -> dict[int, str]:
    """Header position → canonical register key, from the policy's labels."""
    labels = {}
    for key, names in policy.register_columns.items():
        for label in [key, *names]:
            labels[(trim(label) or "").casefold()] = key
    out: dict[int, str] = {}
    for i, cell in enumerate(header):
        key = labels.get((trim(cell.lstrip("\ufeff")) or "").casefold())
        if key and key not in out.values():
            out[i] = key
    return out


def _register_header(policy: Policy):
    """A predicate: does this header have the register's required columns?"""
    return lambda header: set(policy.register_required) <= set(register_mapping(header, policy).values())


def detect(item: Item, sources: Sources, policy: Policy) -> tuple[SourceKind | None, str]:
    """The file's kind from its content and name, or None and why not."""
    base = item.name.rsplit("!", 1)[-1]
    lower = base.lower()
    data = item.head()
    if lower.endswith(".xlsx"):
        try:
            header = readers.read_xlsx(item.data, item.name, _register_header(policy)).header
        except InputError as exc:
            return None, exc.problem
        register = sources.register()
        if register is not None and _register_header(policy)(header):
            return register, ""
        return None, "a workbook without the request register's columns"
    if data[:2] == b"\x1f\x8b":
        try:
            data = readers.maybe_gunzip(item.data, item.name)
        except InputError as exc:
            return None, exc.problem
        lower = lower[:-3] if lower.endswith(".gz") else lower
    logs = sources.of_format("log")   # one at most (sources.py)
    is_log_name = bool(logs) and (bool(re.search(r"\.log(\.\d+)?$", lower)) or lower.startswith("access"))
    if not data.strip():
        if is_log_name:
            return logs[0], ""
        return None, "empty file: no header row"
    if readers.looks_binary(data):
        return None, "binary content, not a text export"
    head = data.lstrip()[:1]
    if head in (b"[", b"{"):
        streams = sources.of_format("json")
        try:
            records = readers.read_json_events(data[: 1 << 20] if head == b"{" else item.data, item.name, ())
        except InputError:
            records = []
            if head == b"{":
                first = data.split(b"\n", 1)[0]
                try:
                    records = readers.read_json_events(first, item.name, ())
                except InputError:
                    pass
        for kind in streams:   # the first whose required keys the first object has
            if records and all(k in records[0][1] for k in kind.required):
                return kind, ""
        wanted = "; ".join(f"{k.name}: objects with {', '.join(k.required)}" for k in streams)
        return None, f"JSON that is not an event stream of a known kind ({wanted or 'none declared'})"
    if logs and (readers.looks_like_log(data) or is_log_name):
        return logs[0], ""
    header = _csv_header(data, item.name)
    if not header:
        return None, "no header row"
    register = sources.register()
    if register is not None and _register_header(policy)(header):
        return register, ""
    keys = set(readers.unique_keys(header))
    kind = sources.detect_csv(keys, base)
    if kind is None:
        return None, "no known export has these columns (or the first line is not a header)"
    return kind, ""


# ---------------------------------------------------------------- parsing


@dataclass
class Parsed:
    columns: list[str]
    rows: list[list]
    line_nos: list[int]
    rejected: list[tuple[int, str, str]]
    encoding: str
    status: str | None = None                     # the kind's status (kinds sharing a table)
    elements: list[tuple[int, str]] = field(default_factory=list)  # a split list column: record_no, element


_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def _timestamp_utc(value: str | None) -> dt.datetime | None:
    """An ISO date-time (YYYY-MM-DD…) as naive UTC; no offset means UTC; None if unreadable.

    bulk.py's SQL reads the same values the same way."""
    text = trim(value)
    if not text or not _ISO_DATE_START.match(text):
        return None
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return stamp


def _add_timestamps(kind: SourceKind, columns: list[str], rows: list[list]) -> None:
    for ts in kind.timestamps:
        key = column_key(ts)
        if key not in columns:
            continue
        i = columns.index(key)
        columns.append(f"{key}__utc")
        for row in rows:
            row.append(_timestamp_utc(row[i]))


def parse(kind: SourceKind, item: Item, policy: Policy) -> Parsed:
    name = item.name
    if kind.format == "log":
        recs = readers.read_access_log(item.data, name)
        columns = readers.unique_keys(recs.header)
        rows = [list(r) for r in recs.rows]
        i = columns.index("time_local")
        columns.append("time_local__utc")
        for row in rows:
            row.append(readers.parse_log_time(row[i]))
        return Parsed(columns, rows, recs.line_nos, recs.rejected, "utf-8")
    if kind.format == "json":
        return _parse_events(kind, item)
    if kind.format == "register":
        return _parse_register(kind, item, policy)
    recs = readers.read_csv(item.data, name)
    keys = recs.keys
    missing = kind.missing_required(set(keys))
    if missing:
        raise InputError(name, f"missing required column {', '.join(missing)} for {kind.name}", 1)
    rows = [list(r) for r in recs.rows]
    _add_timestamps(kind, keys, rows)
    if "_lawful_basis" in kind.loader_columns:
        field_key = column_key(policy.lawful_basis_fields[kind.name.split(".", 1)[1]])
        i = keys.index(field_key) if field_key in keys else None
        keys.append("_lawful_basis")
        for row in rows:
            row.append(row[i] if i is not None else None)
    return Parsed(keys, rows, recs.line_nos, [], recs.encoding, kind.status)


def _parse_register(kind: SourceKind, item: Item, policy: Policy) -> Parsed:
    if item.name.lower().endswith(".xlsx"):
        recs = readers.read_xlsx(item.data, item.name, _register_header(policy))
    else:
        recs = readers.read_csv(item.data, item.name)
    mapping = register_mapping(recs.header, policy)
    missing = [k for k in policy.register_required if k not in mapping.values()]
    if missing:
        labels = ", ".join(f"{policy.register_columns[k][0]} ({k})" for k in missing)
        raise InputError(item.name, f"missing required register column {labels}", 1)
    other = readers.unique_keys(recs.header)
    columns = [mapping.get(i, other[i] if other[i] not in mapping.values() else f"{other[i]}_extra")
               for i in range(len(recs.header))]
    return Parsed(columns, [list(r) for r in recs.rows], recs.line_nos, [], recs.encoding)


def _parse_events(kind: SourceKind, item: Item) -> Parsed:
    records = readers.read_json_events(item.data, item.name, kind.required)
    declared = kind.declared_columns
    time_key = column_key(kind.timestamps[0])   # the event's time: unix seconds (sources.py checks it is declared)
    columns = list(declared) + ["_extra", f"{time_key}__utc"]
    by_key = {column_key(c): c for c in (*kind.required, *kind.columns)}
    rows, line_nos, elements = [], [], []
    for record_no, (line, obj) in enumerate(records, start=1):
        row = [readers.json_cell(obj.get(by_key[c])) for c in declared]
        extra = {k: v for k, v in obj.items() if column_key(k) not in by_key}
        row.append(readers.json_cell(extra) if extra else None)
        try:
            seconds = float(obj[by_key[time_key]])
            stamp = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(tzinfo=None)
        except (TypeError, ValueError, OverflowError, OSError):
            raise InputError(item.name, f"{by_key[time_key]} is not a unix time in seconds", line) from None
        row.append(stamp)
        rows.append(row)
        line_nos.append(line)
        if kind.split:   # a list column's elements, one row each in its own table
            listed = obj.get(by_key.get(kind.split[0], kind.split[0]))
            for value in (listed if isinstance(listed, list) else [listed]):
                if value is not None:
                    elements.append((record_no, readers.json_cell(value)))
    return Parsed(columns, rows, line_nos, [], "utf-8", elements=elements)


# ---------------------------------------------------------------- writing

DEFAULT_BULK_MIN_BYTES = 8 << 20


def _load_bulk(con, kind: SourceKind, item: Item, policy: Policy, load_id: int, file_id: int):
    """DuckDB reads the file itself (bulk.py); None when it is for the Python readers."""
    from . import bulk

    if kind.format not in ("csv", "json"):
        return None
    head = item.head()
    where = bulk.provenance(load_id, file_id, item.exported_at)
    if kind.format == "json":
        if head.lstrip()[:1] != b"{":
            return None  # a JSON array (a webhook batch) is small; Python reads it
        return bulk.load_json_lines(con, kind, item.path, physical_lines=item.physical_lines, provenance=where)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None  # UTF-16
    header = _csv_header(head, item.name)
    if not header:
        return None
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    lawful = None
    if "_lawful_basis" in kind.loader_columns:
        lawful = policy.lawful_basis_fields[kind.name.split(".", 1)[1]]
    return bulk.load_csv(
        con, kind, item.path, header=header, delimiter=readers._sniff_delimiter(first),
        encoding="utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8",
        physical_lines=item.physical_lines, provenance=where,
        status=kind.status,
        lawful_basis_field=lawful)


def _next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    return con.execute(f"select coalesce(max({ident(column)}), 0) + 1 from audit.{ident(table)}").fetchone()[0]


def _write(con, kind: SourceKind, parsed: Parsed, load_id: int, file_id: int, exported_at: dt.datetime) -> None:
    n = len(parsed.rows)
    columns = {
        "_load_id": pa.array([load_id] * n, pa.int64()),
        "_file_id": pa.array([file_id] * n, pa.int64()),
        "_record_no": pa.array(range(1, n + 1), pa.int64()),
        "_line_no": pa.array(parsed.line_nos, pa.int64()),
        "_exported_at": pa.array([exported_at] * n, pa.timestamp("us")),
    }
    if parsed.status is not None:
        columns["_status"] = pa.array([parsed.status] * n, pa.string())
    for i, col in enumerate(parsed.columns):
        # typed arrays: an all-NULL column must still be text (or a time stamp)
        typ = pa.timestamp("us") if col.endswith("__utc") else pa.string()
        columns[col] = pa.array([row[i] for row in parsed.rows], typ)
    add_missing_columns(con, kind.table, [c for c in parsed.columns if not c.endswith("__utc")])
    add_missing_columns(con, kind.table, [c for c in parsed.columns if c.endswith("__utc")], "TIMESTAMP")
    insert_arrow(con, f"raw.{ident(kind.table)}", pa.table(columns))
    if kind.split:
        column, child = kind.split
        insert_rows(con, f"raw.{ident(child)}", ["_load_id", "_file_id", "_record_no", "_exported_at", column],
                    [(load_id, file_id, record_no, exported_at, value) for record_no, value in parsed.elements])
    insert_rows(con, "audit.rejected_lines", ["file_id", "line_no", "reason", "line"],
                [(file_id, line_no, reason, line) for line_no, reason, line in parsed.rejected])


# CRM, audience and register exports are snapshots: the same content exported
# later still says what the system held on that later day.
SNAPSHOT_FORMATS = ("csv", "register")


def _later_export(item: Item, loaded_until: dt.datetime) -> bool:
    """A snapshot re-exported unchanged on a later, known day (not a copy dated by its mtime)."""
    return item.exported_at_from != "mtime" and item.exported_at > loaded_until


def _skip_duplicate(item: Item, report: LoadReport, say) -> None:
    item.release()
    report.duplicates.append(item.name)
    say(f"{item.name}: already loaded (same SHA-256), skipped")


class _BulkFailed(Exception):
    """DuckDB's own reader failed on a file (and so aborted the transaction)."""

    def __init__(self, name: str):
        self.name = name


def load(con: duckdb.DuckDBPyConnection, paths: list[Path], **options) -> LoadReport:
    """Load every file under `paths` in one transaction; all or nothing.

    With `erasures` (the ledger's), people erased on or after a file's export date
    are left out of it (see erasure.py); the files' row counts say what was read.
    CSV and JSON-lines files of `bulk_min_bytes` or more are read by DuckDB
    itself (bulk.py); None reads every file in Python. Where DuckDB's reader
    fails outright on a file (a failed statement ends the transaction), the load
    starts again with that file for Insyn's readers, which load it or name the line."""
    python_only: set[str] = set()
    say = options.get("progress") or (lambda msg: None)
    while True:
        try:
            return _load_once(con, paths, python_only=frozenset(python_only), **options)
        except _BulkFailed as failed:
            say(f"{failed.name}: DuckDB could not read it itself; starting again with Insyn's readers for it")
            python_only.add(failed.name)


def _load_once(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    *,
    root: Path,
    sources: Sources,
    policy: Policy,
    ignore: list[str],
    source: str | None = None,
    exported_at: dt.datetime | None = None,
    erasures: Erasures | None = None,
    pipelines: Path | None = None,
    bulk_min_bytes: int | None = DEFAULT_BULK_MIN_BYTES,
    progress: Callable[[str], None] | None = None,
    python_only: frozenset[str] = frozenset(),
) -> LoadReport:
    if source is not None and source not in sources.kinds:
        raise InsynError(f"--source: unknown kind {source!r} (known: {', '.join(sources.names())})")
    collector = Collector(root, ignore, exported_at)
    for path in paths:
        collector.add(path)
    report = LoadReport(unknown=[(name, "ignored by load.ignore") for name in collector.ignored])
    say = progress or (lambda msg: None)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with transaction(con):
        ensure_schema(con, sources)
        load_id = _next_id(con, "loads", "load_id")
        file_id = _next_id(con, "files", "file_id")
        # content already loaded, and the latest export time it was loaded for
        seen = dict(con.execute("select sha256, max(exported_at) from audit.files group by sha256").fetchall())
        total = len(collector.items)
        for n, item in enumerate(collector.items, start=1):
            sha = item.sha256
            if sha in seen and not _later_export(item, seen[sha]):
                _skip_duplicate(item, report, lambda msg: say(f"[{n}/{total}] {msg}"))
                continue
            if source is not None:
                kind = sources[source]
            else:
                kind, why = detect(item, sources, policy)
                if kind is None:
                    if item.explicit:
                        raise InputError(item.name, f"unknown kind of file: {why}; name its kind with --source KIND")
                    report.unknown.append((item.name, why))
                    say(f"[{n}/{total}] {item.name}: not an export Insyn knows ({why}), skipped")
                    continue
            if sha in seen and kind.format not in SNAPSHOT_FORMATS:
                # the same events or log lines again: a stream is loaded once
                _skip_duplicate(item, report, lambda msg: say(f"[{n}/{total}] {msg}"))
                continue
            say(f"[{n}/{total}] {item.name}: {kind.name} ...")
            bulk = None
            if bulk_min_bytes is not None and item.path is not None and item.size >= bulk_min_bytes \
                    and item.name not in python_only:
                try:
                    bulk = _load_bulk(con, kind, item, policy, load_id, file_id)
                except duckdb.Error:
                    raise _BulkFailed(item.name) from None
            if bulk is not None:
                encoding, rows, rejected = bulk.encoding, bulk.rows, 0
                report.bulk.append(item.name)
            else:
                parsed = parse(kind, item, policy)
                _write(con, kind, parsed, load_id, file_id, item.exported_at)
                encoding, rows, rejected = parsed.encoding, len(parsed.rows), len(parsed.rejected)
            entry = {
                "file_id": file_id, "load_id": load_id, "file": item.name, "sha256": sha,
                "archive_sha256": item.archive_sha256, "source": kind.name, "raw_table": f"raw.{kind.table}",
                "exported_at": item.exported_at, "exported_at_from": item.exported_at_from,
                "encoding": encoding, "rows": rows, "rejected": rejected,
                "status": "loaded_with_rejects" if rejected else "loaded", "size_bytes": item.size or len(item.data),
            }
            con.execute(
                "insert into audit.files values ($file_id, $load_id, $file, $sha256, $archive_sha256, $source, "
                "$raw_table, $exported_at, $exported_at_from, $encoding, $rows, $rejected, $status, $size_bytes)",
                entry,
            )
            report.loaded.append(entry)
            item.release()
            seen[sha] = max(seen.get(sha, item.exported_at), item.exported_at)
            file_id += 1
            say(f"[{n}/{total}] {item.name}: {kind.name}, {entry['rows']} rows"
                + (f", {entry['rejected']} lines rejected" if entry["rejected"] else ""))
        if report.loaded and erasures is not None and erasures.entries:
            from .persons import purge_loaded

            report.purged = purge_loaded(con, sources, pipelines, erasures, report.loaded)
        if report.loaded:
            con.execute(
                "insert into audit.loads values ($id, $started, $finished, $loaded, $skipped, $version)",
                {"id": load_id, "started": started,
                 "finished": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                 "loaded": len(report.loaded), "skipped": len(report.duplicates) + len(report.unknown),
                 "version": __version__},
            )
            report.load_id = load_id
    return report


def loads_listing(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """What has been loaded: one entry per file (the `insyn loads` contract)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = 'files'"
    ).fetchone()[0]
    if not exists:
        return []
    cur = con.execute(
        """select f.file_id, f.load_id, l.finished_at as loaded_at, f.file, f.sha256, f.archive_sha256,
                  f.source, f.raw_table, f.exported_at, f.exported_at_from, f.encoding, f.rows,
                  f.rejected, f.status, f.size_bytes
           from audit.files f join audit.loads l using (load_id)
           order by f.file_id"""
    )
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        entry = dict(zip(names, row))
        for key in ("exported_at", "loaded_at"):
            if entry[key] is not None:
                entry[key] = entry[key].isoformat() + "Z"
        out.append(entry)
    return out
