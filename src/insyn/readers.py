"""Parsing export files into records, with the line each record starts on.

Pure functions of bytes: no database, no file system. A structured export
(CSV, JSON, XLSX) with a malformed record raises InputError naming the file,
line and problem; a web log quarantines lines it cannot parse.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from .errors import InputError
from .text import column_key

csv.field_size_limit(64 * 1024 * 1024)


@dataclass
class Records:
    """The records of one file: header as delivered, rows of text cells."""

    header: list[str]
    rows: list[list[str | None]] = field(default_factory=list)
    line_nos: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, reason, text
    encoding: str = "utf-8"
    extra: dict = field(default_factory=dict)   # per-format side tables

    @property
    def keys(self) -> list[str]:
        return unique_keys(self.header)


def unique_keys(header: list[str]) -> list[str]:
    """Column keys for a header; a repeated or blank name gets a suffix."""
    keys: list[str] = []
    for i, cell in enumerate(header, start=1):
        key = column_key(cell) or f"column_{i}"
        base, n = key, 2
        while key in keys:
            key = f"{base}_{n}"
            n += 1
        keys.append(key)
    return keys


def looks_binary(data: bytes) -> bool:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return False  # UTF-16 text with its byte-order mark
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return len(head) > 0 and control / len(head) > 0.05


def decode_text(data: bytes, file: str) -> tuple[str, str]:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1252 (Swedish Windows)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(file, "invalid UTF-16 text", data[: exc.start].count(b"\n\x00") + 1) from None
    if looks_binary(data):
        raise InputError(file, "binary content, not a text export")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputError(file, f"invalid UTF-8 after a UTF-8 byte-order mark ({exc.reason})",
                             data[: 3 + exc.start].count(b"\n") + 1) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(file, "neither UTF-8 nor cp1252 text", line) from None


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: 0 for d in (",", ";", "\t", "|")}
    in_quotes = False
    for ch in first_line:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes, file: str) -> Records:
    """RFC 4180 CSV: quoted fields may hold delimiters, quotes and line breaks."""
    text, encoding = decode_text(data, file)
    if not text.strip():
        raise InputError(file, "empty file: no header row", 1)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line), strict=True)
    header: list[str] | None = None
    out = Records(header=[], encoding=encoding)
    try:
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            if not row or (len(row) == 1 and not row[0].strip() and header is not None and len(header) > 1):
                continue  # blank line
            if header is None:
                header = row
                out.header = header
                if not any(c.strip() for c in header):
                    raise InputError(file, "no header row", start)
                continue
            if len(row) != len(header):
                raise InputError(file, f"record has {len(row)} fields, the header has {len(header)}", start)
            out.rows.append(row)
            out.line_nos.append(start)
    except csv.Error as exc:
        raise InputError(file, f"malformed CSV ({exc})", reader.line_num or 1) from None
    if header is None:
        raise InputError(file, "empty file: no header row", 1)
    return out


def read_json_events(data: bytes, file: str, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """JSON lines, or a JSON array of objects: (first line, object) each."""
    text, _ = decode_text(data, file)
    stripped = text.lstrip()
    records: list[tuple[int, dict]] = []
    if stripped.startswith("["):
        decoder = json.JSONDecoder()
        pos = len(text) - len(stripped) + 1
        n = len(text)

        def skip_ws(p: int) -> int:
            while p < n and text[p] in " \t\r\n":
                p += 1
            return p

        pos = skip_ws(pos)
        if pos < n and text[pos] == "]":
            return records
        while True:
            line = text.count("\n", 0, pos) + 1
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise InputError(file, f"malformed JSON ({exc.msg}, column {exc.colno})", exc.lineno) from None
            records.append((line, obj))
            pos = skip_ws(pos)
            if pos < n and text[pos] == ",":
                pos = skip_ws(pos + 1)
                continue
            if pos < n and text[pos] == "]":
                if skip_ws(pos + 1) != n:
                    raise InputError(file, "text after the end of the JSON array", text.count("\n", 0, pos) + 1)
                break
            raise InputError(file, "malformed JSON array (expected ',' or ']')", text.count("\n", 0, pos) + 1)
    else:
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(file, f"malformed JSON ({exc.msg}, column {exc.colno})", line_no) from None
            records.append((line_no, obj))
    for line_no, obj in records:
        if not isinstance(obj, dict):
            raise InputError(file, "record is not a JSON object", line_no)
        missing = [k for k in required if k not in obj]
        if missing:
            raise InputError(file, f"record lacks {', '.join(repr(m) for m in missing)}", line_no)
    return records


def json_cell(value) -> str | None:
    """A JSON value as text, as delivered: strings as-is, others as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Combined log format: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
_LOG_LINE = re.compile(
    r'^(?P<remote_host>\S+) (?P<ident>\S+) (?P<remote_user>\S+) \[(?P<time_local>[^\]]+)\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes_sent>\d+|-)'
    r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<user_agent>(?:[^"\\]|\\.)*)")?\s*$'
)
_REQUEST = re.compile(r"^(?P<method>[A-Z]{3,10}) (?P<target>\S+)(?: (?P<protocol>HTTP/\d(?:\.\d)?))?$")
_LOG_TIME = "%d/%b/%Y:%H:%M:%S %z"
LOG_COLUMNS = ["line", "remote_host", "remote_user", "time_local", "request", "method", "target",
               "protocol", "status", "bytes_sent", "referer", "user_agent"]


def parse_log_time(value: str) -> dt.datetime | None:
    """A log time with its own UTC offset, as naive UTC."""
    try:
        stamp = dt.datetime.strptime(value, _LOG_TIME)
    except ValueError:
        return None
    return stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)


# A quarantined line's head, %h %l %u [%t]: strict, so that the SQL twin
# (pipelines/staging/stg_weblog__quarantined_lines.sql) reads the same lines.
_QUARANTINED_HEAD = re.compile(
    r"^([^ ]+) [^ ]+ [^ ]+ \[([0-9]{1,2}/[A-Za-z]{3}/[1-9][0-9]{3}:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]) "
    r"([+-](?:[01][0-9]|2[0-3])):?([0-5][0-9])\]"
)


def quarantined_line_head(line: str) -> tuple[str, dt.datetime] | None:
    """The client address and UTC time a quarantined log line begins with
    (a TLS handshake to the plain-HTTP port logs both); None when it has not both."""
    m = _QUARANTINED_HEAD.match(line)
    if not m:
        return None
    at = parse_log_time(f"{m[2]} {m[3]}{m[4]}")
    return (m[1], at) if at is not None else None


def maybe_gunzip(data: bytes, file: str) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(file, f"not a valid gzip file ({exc.__class__.__name__})") from None


def read_access_log(data: bytes, file: str) -> Records:
    """Combined-format lines; junk lines are quarantined, not fatal."""
    data = maybe_gunzip(data, file)
    if b"\x00" in data[:8192]:
        raise InputError(file, "binary content, not a web server log")
    out = Records(header=list(LOG_COLUMNS))
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for line_no, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            out.rejected.append((line_no, "not UTF-8 text", raw.decode("latin-1")))
            continue
        m = _LOG_LINE.match(line)
        if not m:
            reason = "blank line" if not line.strip() else "not a combined-format log line"
            out.rejected.append((line_no, reason, line))
            continue
        req = _REQUEST.match(m["request"])
        if not req:
            out.rejected.append((line_no, "request is not an HTTP request line", line))
            continue
        if parse_log_time(m["time_local"]) is None:
            out.rejected.append((line_no, "unreadable time stamp", line))
            continue
        out.rows.append([line, m["remote_host"], m["remote_user"], m["time_local"], m["request"],
                         req["method"], req["target"], req["protocol"], m["status"], m["bytes_sent"],
                         m["referer"], m["user_agent"]])
        out.line_nos.append(line_no)
    return out


def looks_like_log(data: bytes) -> bool:
    for raw in data[:65536].split(b"\n")[:20]:
        if raw.strip():
            return bool(_LOG_LINE.match(raw.decode("utf-8", "replace").rstrip("\r")))
    return False


def _xlsx_cell(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def read_xlsx(data: bytes, file: str, accept=None) -> Records:
    """The first worksheet whose header `accept` takes (default: the first
    with a header); a sheet's first non-empty row is its header."""
    import openpyxl

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(file, "not a valid .xlsx workbook")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken workbooks
        raise InputError(file, f"not a valid .xlsx workbook ({exc.__class__.__name__})") from None
    try:
        sheets = [_read_sheet(sheet, file) for sheet in book.worksheets]
    finally:
        book.close()
    with_header = [s for s in sheets if s.header]
    if not with_header:
        raise InputError(file, "empty workbook: no header row", 1)
    return next((s for s in with_header if accept is None or accept(s.header)), with_header[0])


def _read_sheet(sheet, file: str) -> Records:
    out = Records(header=[], encoding="xlsx")
    for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_xlsx_cell(v) for v in values]
        if not any(c is not None and str(c).strip() for c in cells):
            continue
        if not out.header:
            out.header = [c or "" for c in cells]
            continue
        width = len(out.header)
        if len(cells) > width:
            if any(c is not None and str(c).strip() for c in cells[width:]):
                raise InputError(file, f"row has values beyond the header's {width} columns", row_no)
            cells = cells[:width]
        cells += [None] * (width - len(cells))
        out.rows.append(cells)
        out.line_nos.append(row_no)
    # trailing blank header cells (formatting only) are not columns
    while out.header and not str(out.header[-1]).strip() and not any(
        r[-1] is not None and str(r[-1]).strip() for r in out.rows
    ):
        out.header.pop()
        for r in out.rows:
            r.pop()
    return out
