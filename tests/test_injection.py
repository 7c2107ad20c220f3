"""Injection and paths: values reach SQL only as parameters, derived file names stay in their
folder, and every CSV Insyn prints neutralises spreadsheet formulas."""

from __future__ import annotations

import contextlib
import io
import sys

import dash
import duckdb
import pytest

from insyn.access_report import default_name
from insyn.cli import main
from insyn.output import print_csv

from helpers import EXPECTED, REPO, published

HOSTILE = [
    "x'; drop table raw.salesforce__contact; --@example.se",
    "' or '1'='1",
    "\" or \"\"=\"",
    "anna@example.se'); delete from audit.files; --",
    "$as_of",
    "%' --",
]
# a real address of the sample, and the same with Unicode look-alikes
KNOWN = next(f["email"] for f in EXPECTED["findings"] if f["rule"] == "dsar.repeat_free_access")
LOOK_ALIKES = [KNOWN.replace("a", "\u0430", 1),          # Cyrillic a
               KNOWN.replace("@", "\uff20"),              # full-width @
               KNOWN.replace(".", "\u2024", 1)]           # one-dot leader


def _state(db) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("select schema_name, table_name, estimated_size from duckdb_tables() "
                             "order by 1, 2").fetchall()
        return tables, con.execute("select count(*) from audit.files").fetchone()[0]
    finally:
        con.close()


def _cli(wb, db, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--workbench", str(wb), "--db", str(db), *args])
        except SystemExit as exc:   # argparse refuses a usage error itself (exit 2)
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def warehouse(demo):
    wb, _ = demo
    return wb, wb / "data" / "demo" / "insyn.duckdb"


@pytest.mark.parametrize("value", HOSTILE + LOOK_ALIKES)
def test_hostile_person_look_ups_on_the_command_line_change_nothing_and_find_no_one(warehouse, value):
    wb, db = warehouse
    before = _state(db)
    code, out, err = _cli(wb, db, "dsar", "report", value, "--as-of", EXPECTED["as_of"], "--format", "json")
    assert code == 2 and "Traceback" not in err
    assert _state(db) == before


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_cli_values_are_refused_as_values(warehouse, value):
    wb, db = warehouse
    before = _state(db)
    code, _, err = _cli(wb, db, "findings", "--rule", value, "--as-of", EXPECTED["as_of"])
    assert code == 2 and "unknown rule id" in err
    code, _, err = _cli(wb, db, "dsar", "due", "--as-of", value)
    assert code == 2 and "not a date" in err
    assert _state(db) == before


def test_the_dashboard_look_up_takes_any_text_as_a_value(warehouse):
    wb, db = warehouse
    from insyn import snapshot

    snapshot.publish(db, published(db))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    people = next(sys.modules[p["module"]] for p in dash.page_registry.values() if p["path"] == "/people")
    before = _state(db)
    held = "What is held, per source"   # the heading of a look-up that found the person
    found = str(people.look_up(1, KNOWN, "en"))
    assert held in found and "DSAR-" in found
    for value in HOSTILE + LOOK_ALIKES:
        answer = str(people.look_up(1, value, "en"))
        assert held not in answer and "DSAR-" not in answer, value
    assert _state(db) == before


@pytest.mark.parametrize("request_id", ["../../etc/passwd", "..", "/abs/path", "a\\b", "x\x00y", "DSAR/../../z"])
def test_a_report_name_from_the_register_stays_in_its_folder(tmp_path, request_id):
    folder = tmp_path / "reports"
    path = (folder / default_name(request_id, "html")).resolve()
    assert path.parent == folder.resolve() and path.name.startswith("access-report-")
    assert "/" not in default_name(request_id, "html") and "\\" not in default_name(request_id, "html")


def test_csv_output_neutralises_formulas_but_keeps_numbers():
    out = io.StringIO()
    print_csv(["=cmd", "n"], [["=HYPERLINK(\"http://x\")", -5], ["+1", 2.5], ["@SUM(A1)", None],
                              ["-2+3", 0], ["plain", 1]], out)
    assert out.getvalue().splitlines() == [
        "'=cmd,n", "\"'=HYPERLINK(\"\"http://x\"\")\",-5", "'+1,2.5", "'@SUM(A1),", "'-2+3,0", "plain,1"]


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u200f"])
def test_a_bidi_control_is_written_out_not_obeyed_in_csv_and_abbreviations(control):
    """"\u202eek.lnkpets@dehlundr" shows as another address (the attack of issue 18's review):
    a CSV cell, an abbreviated address and text with an address in it name the character instead."""
    from insyn.csvsafe import neutralise
    from insyn.masking import mask_email, mask_in_text

    hostile = control + "ek.lnkpets@dehlundr.se"
    name = f"<U+{ord(control):04X}>"
    assert neutralise(hostile) == name + "ek.lnkpets@dehlundr.se"
    assert control not in mask_email(hostile) and mask_email(hostile) == name[:1] + "…@dehlundr.se"
    assert mask_in_text("from " + hostile) == "from <…@dehlundr.se"
    assert neutralise("Anna Ek") == "Anna Ek"   # text without one is unchanged


def test_a_semicolon_cannot_start_a_formula_in_swedish_excel(tmp_path):
    """Swedish Excel splits on semicolons: an address `x;=cmd|' /C calc'!A0;@evil.se` must stay one quoted
    cell in every CSV Insyn writes (the dashboard's deletion list, the command line, deletion tasks)."""
    import csv

    import pandas as pd

    from insyn.csvsafe import to_csv
    from insyn.erasure import write_tasks

    hostile = "y;=cmd|' /C calc'!A0;@evil.se"
    out = io.StringIO()
    print_csv(["email", "n"], [[hostile, 1]], out)
    task = tmp_path / "tasks.csv"
    write_tasks(task, [["salesforce", "Contact", "0035g00000AbCdEAAV", "delete", hostile, ""]])
    for text in (to_csv(pd.DataFrame({"email": [hostile], "n": [1]})), out.getvalue(),
                 task.read_text(encoding="utf-8-sig")):
        for row in csv.reader(io.StringIO(text), delimiter=";"):   # as Swedish Excel reads it
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), text
        # read as CSV, the value is all there, an apostrophe before each character a spreadsheet would run
        assert "y;'=cmd|' /C calc'!A0;'@evil.se" in [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_the_commands_csv_output_goes_through_the_neutralising(warehouse):
    wb, db = warehouse
    code, out, _ = _cli(wb, db, "sql", "select '=1+1' as total, '@x' as who, -3 as n", "--format", "csv")
    assert code == 0 and out.splitlines() == ["total,who,n", "'=1+1,'@x,-3"]
    code, out, _ = _cli(wb, db, "findings", "--as-of", EXPECTED["as_of"], "--format", "csv")
    assert code == 0 and out.startswith("rule,record_id,email,source,detail,count")
    assert not any(cell.startswith(("=", "+", "@")) for line in out.splitlines() for cell in line.split(","))


@pytest.mark.parametrize("field", ["review_month", "as_of", "language"])
def test_hostile_notebook_parameters_reach_no_sql(warehouse, field):
    """What the audit notebooks' parameters cell feeds: parsed or refused before any query."""
    from insyn import report

    wb, db = warehouse
    before = _state(db)
    params = {"review_month": "2026-11", "as_of": EXPECTED["as_of"], "language": "sv"}
    params[field] = "2026-11'; drop table raw.salesforce__contact; --"
    with pytest.raises((ValueError, KeyError)):
        report.RetentionReview.load(str(db), str(REPO / "pipelines" / "queries"), params["review_month"],
                                    params["as_of"], params["language"])
    assert _state(db) == before
