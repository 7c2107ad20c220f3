"""Page callbacks as plain functions, on the demo data (no browser)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys

import dash
import pytest

from helpers import EXPECTED, REPO, published
from helpers import component_text as _text, find_component as _find


@pytest.fixture(scope="module")
def pages(demo, tmp_path_factory):
    """The app's page modules, reading a snapshot of the demo warehouse."""
    from insyn import snapshot

    wb, _ = demo
    db = tmp_path_factory.mktemp("callbacks") / "insyn.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", db)
    snapshot.publish(db, published(db))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    return {entry["path"]: sys.modules[entry["module"]] for entry in dash.page_registry.values()}






def _expected(rule):
    return sum(1 for f in EXPECTED["findings"] if f["rule"] == rule)


def test_overview_kpis_come_from_the_rules(pages):
    body = pages["/"].render(EXPECTED["as_of"], "en")
    card = _find(body, "kpi-contacts-due-for-deletion")
    assert _text(card).startswith(str(_expected("retention.inactive_company_initiated")))
    card = _find(body, "kpi-first-notice-gaps")
    assert _text(card).startswith(str(_expected("notice.first_mailing_late") + _expected("notice.first_mailing_missing")))
    assert _text(body).startswith("Overview")


def test_overview_speaks_swedish(pages):
    assert _text(pages["/"].render(EXPECTED["as_of"], "sv")).startswith("Översikt")


def test_request_filters_narrow_the_timeline_and_table(pages):
    update, rows = pages["/requests"].update, pages["/requests"].requests_rows
    every, _, _ = update(None, None, None, "en", EXPECTED["as_of"])
    erasures, grid_erasures, _ = update(None, "erasure", None, "en", EXPECTED["as_of"])
    assert _find(grid_erasures, "requests-grid") is not None
    first = {"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": {}}
    count = lambda request_type: rows(first, None, request_type, None, "en")["rowCount"]  # noqa: E731
    assert 0 < count("erasure") < count(None)
    ids = {cd for trace in erasures.data for cd in (trace.customdata or []) if isinstance(cd, str)}
    assert ids and all(i.startswith("DSAR-") for i in ids)


def test_request_history_needs_a_click(pages):
    history = pages["/requests"].history
    assert "click" in _text(history(None, "en")).lower()
    shown = history({"points": [{"customdata": "DSAR-2026-010"}]}, "en")
    assert _text(shown).startswith("DSAR-2026-010")


def test_deletion_list_csv_holds_exactly_the_flagged_records(pages):
    result = pages["/contacts"].download_deletion_list(1)
    rows = list(csv.DictReader(io.StringIO(result["content"], newline="")))
    assert result["filename"] == "deletion-list.csv"
    assert {r["crm_id"] for r in rows} == {f["record_id"] for f in EXPECTED["findings"]
                                           if f["rule"] == "retention.inactive_company_initiated"}
    assert {r["sobject"] for r in rows} <= {"Contact", "Lead"}


def test_person_look_up_handles_blank_unknown_and_known_addresses(pages):
    look_up = pages["/people"].look_up
    assert "address" in _text(look_up(1, "   ", "en")).lower()
    assert _text(look_up(1, "nobody@example.invalid", "en"))
    known = next(f["email"] for f in EXPECTED["findings"] if f["rule"] == "dsar.repeat_free_access")
    shown = _text(look_up(1, f"  {known.upper()} ", "en"))
    assert "DSAR-" in shown and "register.requests" not in shown   # the register's rows, by name, not kind id


def test_transfers_page_lists_invalid_bases(pages):
    body = pages["/transfers"].render("en", EXPECTED["as_of"])
    text = _text(body)
    for f in EXPECTED["findings"]:
        if f["rule"] == "transfer.invalid_mechanism":
            assert f["record_id"] in text


def test_answers_are_kept_per_snapshot_and_a_new_snapshot_shows_at_once(demo, tmp_path):
    import duckdb

    from insyn import snapshot

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards import data

    wb, _ = demo
    db = tmp_path / "insyn.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", db)
    snapshot.publish(db, published(db))
    data.configure(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    try:
        first = data.q("subprocessors")
        first.loc[:, "subprocessor_name"] = "changed by a page"          # a page may change its copy ...
        assert (data.q("subprocessors")["subprocessor_name"] != "changed by a page").all()   # ... not the kept answer
        con = duckdb.connect(str(db))
        con.execute("delete from marts.dim_subprocessors where country_iso2 = 'US'")
        con.close()
        assert len(data.q("subprocessors")) == len(first)   # the published snapshot has not changed
        snapshot.publish(db, published(db))
        assert len(data.q("subprocessors")) < len(first)    # the new one shows on the next call
    finally:
        data._answers.clear()


@pytest.mark.parametrize("request_id", ["DSAR/../../etc/passwd", '<a href="https://x">x</a>', "..\\..\\x",
                                        "\x00\r\n", "../", ""])
def test_the_report_download_name_keeps_only_safe_characters(request_id):
    """The name the dashboard offers is the report maker's (access_report.default_name)."""
    from insyn.access_report import default_name

    safe = default_name(request_id, "pdf")
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", safe), safe
    assert ".." not in safe.split("_") and not safe.startswith(".")


def test_e_mails_are_abbreviated_for_anyone_but_the_dpo():
    from insyn.masking import mask_in_text   # what tables.table shows a viewer

    assert mask_in_text("anna.ek@example.se") == "a…@example.se"
    assert mask_in_text("to Åsa.Ö@stenbygg.se, then b@x.nu") == "to Å…@stenbygg.se, then b…@x.nu"
    assert mask_in_text("003AB12 at 2026-01-01, 12 rows") == "003AB12 at 2026-01-01, 12 rows"


@pytest.mark.parametrize("address", ["cia.hemlig@localhost", "gun.hemlig@evil", "dan.hemlig＠evil.se",
                                     "anna.o'brien@evil.se", "bo.hemlig;x@evil.se", "ida.hemlig,x@evil.se",
                                     "fia.hemlig x@evil.se", 'eva.hemlig"x@evil.se'])
def test_a_viewer_sees_no_part_of_an_address_but_its_first_letter_and_domain(address):
    """Whatever an export put in an address column, a viewer's table shows "x…@domain" only
    (an opt-out's record id, the address in other text, is abbreviated too)."""
    import flask
    import pandas as pd

    from dashboards.components.tables import table

    app = flask.Flask(__name__)
    app.extensions["insyn.auth"] = {}   # a served dashboard: roles apply
    frame = pd.DataFrame({"crm_id": ["0035g00000AbCdEAAV"], "email": [address], "record_id": [address]})
    with app.test_request_context():
        flask.g.insyn_user, flask.g.insyn_role = "vera", "viewer"
        shown = _text(table(frame, [("crm_id", "record"), ("email", "e-mail"), ("record_id", "record")], "en"))
    assert "hemlig" not in shown and "o'brien" not in shown, shown
    assert "0035g00000AbCdEAAV" in shown   # ids stay
