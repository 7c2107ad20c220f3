"""Big exports read by DuckDB itself (bulk.py) land exactly as the Python readers land them.

The bulk path is taken for CSV and JSON-lines files of `[load] bulk_min_bytes`
or more; these tests force it on (0) and off (None) and compare what each
wrote, and show that a file DuckDB cannot read exactly goes to the Python
readers, which load it or refuse it naming the line.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from insyn.config import Settings
from insyn.db import connect
from insyn.errors import InputError
from insyn.load import load
from insyn.sources import Sources

from helpers import REPO, SAMPLE

PROVENANCE = ("_load_id",)   # the same in both warehouses but for nothing else


@pytest.fixture(scope="module")
def workbench():
    wb = Settings.load(REPO)
    return wb, Sources.load(wb.pipelines / "sources.toml"), wb.policy()


def _load(workbench, db: Path, paths: list[Path], bulk_min_bytes):
    wb, sources, policy = workbench
    con = connect(db)
    try:
        return load(con, paths, root=wb.root, sources=sources, policy=policy, ignore=wb.ignore,
                    bulk_min_bytes=bulk_min_bytes)
    finally:
        con.close()


def _raw_differences(python_db: Path, bulk_db: Path) -> dict[str, tuple[int, int, int]]:
    """Per raw table: rows, rows only the Python load has, rows only the bulk load has."""
    con = duckdb.connect()
    con.execute(f"attach '{python_db}' as a (read_only)")
    con.execute(f"attach '{bulk_db}' as b (read_only)")
    out = {}
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'a' and schema_name = 'raw'").fetchall()]
    for table in tables:
        def columns(db):
            return [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = ? and schema_name = 'raw' "
                "and table_name = ? order by column_index", [db, table]).fetchall()]
        assert columns("a") == columns("b"), table
        cols = ", ".join(f'"{c}"' for c in columns("a") if c not in PROVENANCE)
        only = [con.execute(f"select count(*) from (select {cols} from {x}.raw.{table} except all "
                            f"select {cols} from {y}.raw.{table})").fetchone()[0] for x, y in (("a", "b"), ("b", "a"))]
        out[table] = (con.execute(f"select count(*) from a.raw.{table}").fetchone()[0], *only)
    con.close()
    return out


def test_sample_exports_land_the_same_through_duckdb_and_python(workbench, tmp_path):
    exports = SAMPLE / "exports"
    python = _load(workbench, tmp_path / "python.duckdb", [exports], None)
    bulk = _load(workbench, tmp_path / "bulk.duckdb", [exports], 0)
    assert python.bulk == []
    # the loose UTF-8 audience and event files go the bulk way; the cp1252
    # history extract, the ZIPs' members, the register and the logs do not
    assert any(name.endswith(".jsonl") for name in bulk.bulk)
    assert any("subscribed_email_audience_export" in name for name in bulk.bulk)
    assert not any(name.endswith("extract_contacthistory.csv") for name in bulk.bulk)
    assert [(e["file"], e["rows"], e["encoding"]) for e in python.loaded] == \
           [(e["file"], e["rows"], e["encoding"]) for e in bulk.loaded]
    differences = _raw_differences(tmp_path / "python.duckdb", tmp_path / "bulk.duckdb")
    assert all(rows for rows, _, _ in differences.values())
    assert {t: d for t, d in differences.items() if d[1] or d[2]} == {}


CONTACTS = (
    '\ufeff"Id","IsDeleted","Email","LeadSource","CreatedDate","HasOptedOutOfEmail","Description"\r\n'
    '"0035g00000AbCdE","false","Per@Example.se","Web  Research","2024-01-31T09:00:00.000+0100","false",""\r\n'
    '"0035g00000AbCdEAAA","false","","Webinar","2024-02-29T23:30:00.000Z","true","two\r\nlines"\r\n'
    '"0035g00000XyZwVAAA","false","åsa@exempel.se","Web","2024-03-01","false","three\nlines\nhere"\r\n'
    '"0035g00000QqQqQAAA","true","ola@exempel.se","Web","not a date","false",""\r\n'
)


def test_quoted_line_breaks_bom_and_crlf_keep_records_and_first_lines(workbench, tmp_path):
    path = tmp_path / "2026-11-23" / "Contact.csv"
    path.parent.mkdir()
    path.write_bytes(CONTACTS.encode("utf-8"))
    python = _load(workbench, tmp_path / "python.duckdb", [path], None)
    bulk = _load(workbench, tmp_path / "bulk.duckdb", [path], 0)
    assert bulk.bulk == [python.loaded[0]["file"]]
    assert bulk.loaded[0]["rows"] == python.loaded[0]["rows"] == 4
    assert bulk.loaded[0]["encoding"] == "utf-8-sig"
    con = duckdb.connect(str(tmp_path / "bulk.duckdb"), read_only=True)
    rows = con.execute("select _record_no, _line_no, id, email, description, createddate__utc "
                       "from raw.salesforce__contact order by _record_no").fetchall()
    con.close()
    assert [(r[0], r[1]) for r in rows] == [(1, 2), (2, 3), (3, 5), (4, 8)]
    assert rows[0][2] == "0035g00000AbCdE" and rows[1][3] == ""            # 15-character id, blank e-mail kept as ''
    assert rows[1][4] == "two\r\nlines" and rows[2][3] == "åsa@exempel.se"
    assert str(rows[0][5]) == "2024-01-31 08:00:00" and rows[3][5] is None  # +01:00 to UTC; unreadable → NULL
    assert {t: d for t, d in _raw_differences(tmp_path / "python.duckdb", tmp_path / "bulk.duckdb").items()
            if d[1] or d[2]} == {}


@pytest.mark.parametrize("content, line", [
    ('"Id","IsDeleted","Email","LeadSource","CreatedDate","HasOptedOutOfEmail"\n"1","false","a@b.se","Web"\n', 2),
    ('"Id","IsDeleted","Email","LeadSource","CreatedDate","HasOptedOutOfEmail"\n'
     '"1","false","a@b.se","Web","2024-01-01","false"\n"2","false","unterminated,"Web","2024","false"\n', 3),
])
def test_a_malformed_csv_goes_to_the_python_reader_which_names_the_line(workbench, tmp_path, content, line):
    path = tmp_path / "Contact.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        _load(workbench, tmp_path / "bulk.duckdb", [path], 0)
    assert exc.value.line == line
    con = duckdb.connect(str(tmp_path / "bulk.duckdb"), read_only=True)
    assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0   # nothing of the batch kept
    con.close()


def test_a_blank_line_or_cp1252_falls_back_and_loads_exactly(workbench, tmp_path):
    blank = tmp_path / "a" / "Contact.csv"
    blank.parent.mkdir()
    blank.write_text(CONTACTS.replace("\ufeff", "").replace('"Web","not a date"', '"Web","x"') + "\r\n\r\n"
                     '"0035g00000ZzZzZAAA","false","sist@exempel.se","Web","2024-01-01","false",""\r\n',
                     encoding="utf-8")
    latin = tmp_path / "b" / "Contact.csv"
    latin.parent.mkdir()
    latin.write_bytes(CONTACTS.replace("\ufeff", "").encode("cp1252"))
    report = _load(workbench, tmp_path / "bulk.duckdb", [blank, latin], 0)
    assert report.bulk == []
    assert [e["rows"] for e in report.loaded] == [5, 4] and report.loaded[1]["encoding"] == "cp1252"
    con = duckdb.connect(str(tmp_path / "bulk.duckdb"), read_only=True)
    assert con.execute("select max(_line_no) from raw.salesforce__contact where _file_id = 1").fetchone()[0] == 11
    assert con.execute("select email from raw.salesforce__contact where _file_id = 2 and _record_no = 3"
                       ).fetchone()[0] == "åsa@exempel.se"
    con.close()


def _event(**fields) -> str:
    return json.dumps({"email": "per@example.se", "timestamp": 1700000000, "event": "delivered", **fields},
                      ensure_ascii=False)


def test_json_lines_events_with_categories_and_extra_keys_land_the_same(workbench, tmp_path):
    lines = [
        _event(sg_event_id="e1", category=["newsletter", "2026-11"], Email="shadow", custom={"å": [1, 2.5]}),
        _event(sg_event_id="e2", category="transactional", timestamp="1700000001.25", **{"smtp-id": "<m@x>"}),
        _event(sg_event_id="e3", event="group_unsubscribe", asm_group_id=17, category=None, flag=True),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    python = _load(workbench, tmp_path / "python.duckdb", [path], None)
    bulk = _load(workbench, tmp_path / "bulk.duckdb", [path], 0)
    assert bulk.bulk and python.loaded[0]["rows"] == bulk.loaded[0]["rows"] == 3
    differences = _raw_differences(tmp_path / "python.duckdb", tmp_path / "bulk.duckdb")
    assert differences["esp__event_category"][0] == 3
    assert {t: d for t, d in differences.items() if d[1] or d[2]} == {}


def test_sendgrids_documented_keys_are_columns_and_land_as_python_writes_them(workbench, tmp_path):
    """tls, sg_machine_open and bounce_classification are SendGrid's own keys (export-formats.md 3.1):
    declared columns, so a stream of only documented keys keeps nothing in _extra, and DuckDB's
    columnar reader writes a number, a boolean and a string as Python's reader does."""
    lines = [_event(sg_event_id="e1", tls=1, ip="192.0.2.1"),
             _event(sg_event_id="e2", event="open", sg_machine_open=False, useragent="Mozilla/5.0"),
             _event(sg_event_id="e3", event="bounce", type="bounce", status="5.1.1",
                    bounce_classification="Invalid Address", attempt="1", tls=0)]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    python = _load(workbench, tmp_path / "python.duckdb", [path], None)
    bulk = _load(workbench, tmp_path / "bulk.duckdb", [path], 0)
    assert bulk.bulk and python.loaded[0]["rows"] == bulk.loaded[0]["rows"] == 3
    assert {t: d for t, d in _raw_differences(tmp_path / "python.duckdb", tmp_path / "bulk.duckdb").items()
            if d[1] or d[2]} == {}
    con = duckdb.connect(str(tmp_path / "bulk.duckdb"), read_only=True)
    try:
        assert con.execute("select sg_event_id, tls, sg_machine_open, bounce_classification, _extra "
                           "from raw.esp__event order by 1").fetchall() == [
            ("e1", "1", None, None, None), ("e2", None, "false", None, None),
            ("e3", "0", None, "Invalid Address", None)]
    finally:
        con.close()


@pytest.mark.parametrize("bad, problem", [("not json", "malformed JSON"), ('{"email": "a@b.se"}', "lacks"),
                                          ("", None), ('[1]', "not a JSON object"),
                                          (_event(timestamp="yesterday"), "unix time")])
def test_json_lines_that_duckdb_cannot_take_exactly_go_to_python(workbench, tmp_path, bad, problem):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([_event(sg_event_id="e1"), bad, _event(sg_event_id="e3")]) + "\n", encoding="utf-8")
    if problem is None:   # a blank line: loaded by Python, with the third record on line 3
        report = _load(workbench, tmp_path / "bulk.duckdb", [path], 0)
        assert report.bulk == [] and report.loaded[0]["rows"] == 2
        con = duckdb.connect(str(tmp_path / "bulk.duckdb"), read_only=True)
        assert con.execute("select max(_line_no) from raw.esp__event").fetchone()[0] == 3
        con.close()
        return
    with pytest.raises(InputError) as exc:
        _load(workbench, tmp_path / "bulk.duckdb", [path], 0)
    assert exc.value.line == 2 and problem in exc.value.problem


def test_the_cli_takes_the_threshold_from_insyn_toml(tmp_path, monkeypatch):
    """`[load] bulk_min_bytes`: 8 MiB by default; 0 sends every CSV and JSON-lines file to DuckDB, false none."""
    import contextlib
    import io

    from insyn.cli import main

    from helpers import copy_workbench

    assert Settings.load(REPO).bulk_min_bytes == 8 << 20
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_event(sg_event_id=f"e{i}") for i in range(5)) + "\n", encoding="utf-8")
    from insyn import bulk

    read_by_duckdb = []
    real = bulk.load_json_lines
    monkeypatch.setattr(bulk, "load_json_lines", lambda *a, **k: read_by_duckdb.append(a[2].name) or real(*a, **k))
    said = {}
    for setting in ("0", "false"):
        wb, db = copy_workbench(tmp_path / f"wb-{setting}")
        toml = wb / "insyn.toml"
        toml.write_text(toml.read_text(encoding="utf-8").replace("bulk_min_bytes = 8388608",
                                                                  f"bulk_min_bytes = {setting}"), encoding="utf-8")
        assert Settings.load(wb).bulk_min_bytes == (0 if setting == "0" else None)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["--workbench", str(wb), "--db", str(db), "load", str(path)]) == 0
        con = duckdb.connect(str(db), read_only=True)
        said[setting] = con.execute("select count(*), max(_line_no) from raw.esp__event").fetchone()
        con.close()
    assert said == {"0": (5, 5), "false": (5, 5)}
    assert read_by_duckdb == ["events.jsonl"]      # with 0 only


def test_record_numbers_follow_the_file_when_duckdb_reads_in_parallel(workbench, tmp_path):
    """Big enough for several threads and row groups: record n is the file's n-th record, on its line."""
    folder = tmp_path / "2026-11-24"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(f"""copy (select 'p' || i || '@example.se' as email, 1700000000 + i as timestamp, 'delivered' as event,
                               'e' || i as sg_event_id from range(1, 300001) t(i))
                    to '{folder / "events.jsonl"}' (format json)""")
    con.execute(f"""copy (select 'C' || i as Id, 'false' as IsDeleted, 'p' || i || '@example.se' as Email,
                               'Web' as LeadSource, '2024-01-01' as CreatedDate, 'false' as HasOptedOutOfEmail,
                               case when i % 50000 = 0 then 'two' || chr(10) || 'lines' else '' end as Description
                        from range(1, 200001) t(i)) to '{folder / "Contact.csv"}' (header)""")
    con.close()
    report = _load(workbench, tmp_path / "bulk.duckdb", [folder], 0)
    assert len(report.bulk) == 2
    con = duckdb.connect(str(tmp_path / "bulk.duckdb"), read_only=True)
    assert con.execute("select count(*), count(*) filter (where 'e' || _record_no <> sg_event_id or _line_no <> "
                       "_record_no) from raw.esp__event").fetchone() == (300000, 0)
    # four records span two lines: each moves every later record one line down
    assert con.execute("select count(*), count(*) filter (where 'C' || _record_no <> id or _line_no <> _record_no + 1 "
                       "+ (_record_no - 1) // 50000) from raw.salesforce__contact").fetchone() == (200000, 0)
    con.close()


@pytest.mark.parametrize("key", ["läsare", "smtp-id", 'a"b', "ключ"])
def test_a_json_path_finds_its_key_as_written_non_ascii_included(key):
    """DuckDB's JSON paths read no \\u escapes: a declared key "läsare" written as "l\\u00e4sare" found
    nothing, and its value was lost from both its column and _extra."""
    from insyn.bulk import json_path

    con = duckdb.connect()
    assert con.execute("select json_extract_string($doc, $path)",
                       {"doc": json.dumps({key: "x", "other": 1}), "path": json_path(key)}).fetchone() == ("x",)
