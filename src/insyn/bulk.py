"""Big exports straight into the raw layer with DuckDB's own readers.

The Python readers (readers.py) hold a file in memory and parse it row by
row: exact, and fast enough for a register or a weekly webhook batch, but a
CRM export of millions of contacts or a year of e-mail events would take
minutes and gigabytes. For a plain UTF-8 CSV export or a JSON-lines event
stream above `[load] bulk_min_bytes`, DuckDB reads the file itself, in
parallel and within its memory limit, into the same raw columns with the same
provenance (record and first-line numbers, export time, UTC twins).

The bulk path never fails a load by itself: whenever the file is not exactly
what it can read (a malformed or short record, a blank line, another
encoding, a non-object JSON line, an unreadable time stamp) it takes its rows
out again and returns None, and the Python reader reads the file, loading it
or naming the file, line and problem. tests/test_bulk.py loads the sample
exports both ways and compares every raw table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .db import ident, raw_columns
from .schema import add_missing_columns
from .sources import SourceKind
from .text import column_key

_NEVER_NULL = "\x01"  # the CSV reader's null string: no cell is NULL, an empty cell is '' as in readers.py


@dataclass
class Bulk:
    rows: int
    encoding: str


def _sql_text(value: str) -> str:
    """A string literal for a table function's options (DuckDB takes no parameters there)."""
    return "'" + value.replace("'", "''") + "'"


def _utc(expr: str) -> str:
    """An ISO date-time as naive UTC, NULL when unreadable (load._timestamp_utc's twin).

    The connection's time zone is UTC, so text without an offset is read as UTC."""
    return (f"case when regexp_matches(trim({expr}), '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"then cast(try_cast(trim({expr}) as timestamptz) as timestamp) end")


def _reject_count(con: duckdb.DuckDBPyConnection) -> int:
    # Any failed statement aborts the load's transaction: look before counting.
    if not con.execute("select count(*) from duckdb_tables() where temporary and table_name = 'reject_errors'"
                       ).fetchone()[0]:
        return 0
    return con.execute("select count(*) from reject_errors").fetchone()[0]


def _take_back(con: duckdb.DuckDBPyConnection, kind: SourceKind, file_id: int) -> None:
    con.execute(f"delete from raw.{ident(kind.table)} where _file_id = $f", {"f": file_id})
    if kind.split:
        con.execute(f"delete from raw.{ident(kind.split[1])} where _file_id = $f", {"f": file_id})


def _number_records(con, table: str, file_id: int, first_line: int) -> int:
    """Record numbers in file order, and first lines as if no record spanned lines.

    The rows were inserted in file order (DuckDB keeps insertion order) in this
    transaction, so their row ids follow the file: numbering them afterwards
    keeps the insert parallel, where a row_number() window would not."""
    first, rows = con.execute(f"select min(rowid), count(*) from raw.{ident(table)} where _file_id = $f",
                              {"f": file_id}).fetchone()
    con.execute(f"update raw.{ident(table)} set _record_no = rowid - $first + 1, "
                "_line_no = rowid - $first + $first_line where _file_id = $f",
                {"f": file_id, "first": first or 0, "first_line": first_line})
    return rows


def _text_columns(con, table: str) -> list[str]:
    return [c for c in raw_columns(con, table) if not c.startswith("_") and not c.endswith("__utc")]


def _shift_for_line_breaks(con, table: str, file_id: int, physical_lines: int, rows: int) -> bool:
    """Move first lines past the line breaks inside earlier records; False when lines and records disagree."""
    if physical_lines == 1 + rows:
        return True
    breaks = " + ".join(f"coalesce(length({ident(c)}) - length(replace({ident(c)}, chr(10), '')), 0)"
                        for c in _text_columns(con, table))
    # Few records span lines: number the breaks of those alone, then shift the
    # records after each by the breaks before them.
    con.execute(f"""create or replace temp table bulk_breaks as
                    select _record_no as after_record,
                           lead(_record_no, 1, 9223372036854775807) over (order by _record_no) as upto_record,
                           sum(breaks) over (order by _record_no) as shift
                    from (select _record_no, {breaks} as breaks from raw.{ident(table)}
                          where _file_id = $f and ({breaks}) > 0)""", {"f": file_id})
    total = con.execute("select coalesce(max(shift), 0) from bulk_breaks").fetchone()[0]
    if physical_lines != 1 + rows + total:
        return False   # a blank line, or a line DuckDB did not read: the Python reader reads it
    con.execute(f"""update raw.{ident(table)} set _line_no = _record_no + 1 + b.shift
                    from bulk_breaks b
                    where _file_id = $f and _record_no > b.after_record and _record_no <= b.upto_record""",
                {"f": file_id})
    con.execute("drop table bulk_breaks")
    return True


def load_csv(con, kind: SourceKind, path: Path, *, header: list[str], delimiter: str, encoding: str,
             physical_lines: int, provenance: dict, status: str | None, lawful_basis_field: str | None) -> Bulk | None:
    """One CSV export into raw.<kind.table>; None when the Python reader must read it.

    DuckDB's default longest line (2 MB) stands: its read buffers grow with it
    (a 64 MB limit asked for 256 MB blocks, beyond a 1 GB memory limit), and a
    longer record is rejected here and read by Python."""
    from .readers import unique_keys

    keys = unique_keys(header)
    if kind.missing_required(set(keys)):
        return None  # the Python path names what is missing
    names = [f"c{i}" for i in range(len(keys))]
    columns = "{" + ", ".join(f"{_sql_text(n)}: 'VARCHAR'" for n in names) + "}"
    source = (
        f"read_csv({_sql_text(str(path))}, header = false, skip = 1, auto_detect = false, "
        f"columns = {columns}, delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"', "
        f"nullstr = {_sql_text(_NEVER_NULL)}, strict_mode = true, ignore_errors = true, store_rejects = true)"
    )
    select = [f"{n} as {ident(k)}" for n, k in zip(names, keys)]
    for ts in kind.timestamps:
        key = column_key(ts)
        if key in keys:
            select.append(f"{_utc(names[keys.index(key)])} as {ident(key + '__utc')}")
    if "_lawful_basis" in kind.loader_columns:
        field = column_key(lawful_basis_field) if lawful_basis_field else None
        select.append((names[keys.index(field)] if field in keys else "cast(null as varchar)") + " as _lawful_basis")
    if status is not None:
        select.append(f"{_sql_text(status)} as _status")
    add_missing_columns(con, kind.table, keys)
    add_missing_columns(con, kind.table, [column_key(t) + "__utc" for t in kind.timestamps if column_key(t) in keys],
                        "TIMESTAMP")
    rejects_before = _reject_count(con)
    con.execute(f"""insert into raw.{ident(kind.table)} by name
                    select $load_id as _load_id, $file_id as _file_id, $exported_at as _exported_at, {', '.join(select)}
                    from {source}""", provenance)
    file_id = provenance["file_id"]
    rows = _number_records(con, kind.table, file_id, first_line=2)   # line 1 is the header
    if _reject_count(con) != rejects_before or not _shift_for_line_breaks(con, kind.table, file_id,
                                                                           physical_lines, rows):
        _take_back(con, kind, file_id)
        return None
    return Bulk(rows, encoding)


def load_json_lines(con, kind: SourceKind, path: Path, *, physical_lines: int, provenance: dict) -> Bulk | None:
    """A JSON-lines event stream into its raw table (and its split list column's); None when Python must read it."""
    by_key = {column_key(c): c for c in (*kind.required, *kind.columns)}
    declared = kind.declared_columns
    time_key = column_key(kind.timestamps[0])   # the event's time: unix seconds
    file = _sql_text(str(path))
    keys = [r[0] for r in con.execute(
        f"select distinct unnest(json_keys(json)) from read_json_objects({file}, format = 'newline_delimited', "
        "ignore_errors = true) where json_type(json) = 'OBJECT'").fetchall()]
    undeclared = [k for k in keys if by_key.get(column_key(k)) != k]
    if not undeclared:
        # The usual stream: every key is a declared column. DuckDB's own JSON
        # reader writes each value as text as readers.json_cell does.
        types = "{" + ", ".join(f"{_sql_text(by_key[c])}: 'VARCHAR'" for c in declared if c in by_key) + "}"
        select = [f"{ident(by_key[c])} as {ident(c)}" if c in by_key else f"cast(null as varchar) as {ident(c)}"
                  for c in declared]
        select.append("cast(null as varchar) as _extra")
        source = f"read_json({file}, format = 'newline_delimited', columns = {types}, ignore_errors = true)"
        seconds = f"try_cast({ident(by_key[time_key])} as double)"
    else:
        # Keys not declared go to _extra, as readers.json_cell writes an object:
        # a merge patch with null removes every key that names a declared column.
        patch = json.dumps({k: None for k in keys if column_key(k) in by_key})
        paths = "[" + ", ".join(_sql_text(json_path(by_key[c])) for c in declared if c in by_key) + "]"
        index = {c: i + 1 for i, c in enumerate(c for c in declared if c in by_key)}
        select = [f"v[{index[c]}] as {ident(c)}" if c in index else f"cast(null as varchar) as {ident(c)}"
                  for c in declared]
        select.append(f"nullif(cast(json_merge_patch(json, {_sql_text(patch)}) as varchar), '{{}}') as _extra")
        source = (f"(select json, json_extract_string(json, {paths}) as v from read_json_objects({file}, "
                  "format = 'newline_delimited', ignore_errors = true) where json_type(json) = 'OBJECT')")
        seconds = f"try_cast(v[{index[time_key]}] as double)"
    # readers: a time stamp is unix seconds; out of range or unreadable refuses the file (Python names the line)
    stamp = (f"case when {seconds} between -62135596800 and 253402300799 "
             f"then make_timestamp(cast(round({seconds} * 1000000) as bigint)) end")
    con.execute(f"""insert into raw.{ident(kind.table)} by name
                    select $load_id as _load_id, $file_id as _file_id, $exported_at as _exported_at,
                           {', '.join(select)}, {stamp} as {ident(time_key + '__utc')}
                    from {source}""", provenance)
    file_id = provenance["file_id"]
    rows = _number_records(con, kind.table, file_id, first_line=1)
    required = " or ".join(f"{ident(column_key(k))} is null" for k in kind.required)
    unreadable = con.execute(f"select count(*) from raw.{ident(kind.table)} where _file_id = $f "
                             f"and ({required} or {ident(time_key + '__utc')} is null)", {"f": file_id}).fetchone()[0]
    # A blank, malformed or non-object line, a missing or null required key, an
    # unreadable time: the Python reader loads the file, or names the line.
    if unreadable or rows != physical_lines:
        _take_back(con, kind, file_id)
        return None
    if kind.split:
        # A list column's value is a string or a list of them (readers.json_cell: lists arrive as JSON text).
        c, child = ident(kind.split[0]), ident(kind.split[1])
        con.execute(
            f"""insert into raw.{child} (_load_id, _file_id, _record_no, _exported_at, {c})
               select _load_id, _file_id, _record_no, _exported_at, {c} from (
                   select _load_id, _file_id, _record_no, _exported_at,
                          unnest(case when starts_with({c}, '[') and json_valid({c})
                                           and json_type({c}) = 'ARRAY'
                                      then json_extract_string({c}, '$[*]') else [{c}] end) as {c}
                   from raw.{ident(kind.table)} where _file_id = $f and {c} is not null)
               where {c} is not null
               order by _record_no""",
            {"f": file_id},
        )
    return Bulk(rows, "utf-8")


def json_path(key: str) -> str:
    # a key as written: DuckDB's JSON paths do not read \u escapes ("läsare" would match nothing)
    return "$." + json.dumps(key, ensure_ascii=False)


def provenance(load_id: int, file_id: int, exported_at: dt.datetime) -> dict:
    return {"load_id": load_id, "file_id": file_id, "exported_at": exported_at}
