"""The overview as the DPO's work queue (issue 18, point 1), on the demo warehouse and small built ones.

What is due or overdue, nearest first, with the days left in words; requests by their applicable
deadline (insyn dsar due's list), erasures not carried out, contacts past retention, invalid
transfers, first notices missing; the long lists one line each whatever their count; no e-mail
anywhere in the overview's response; rules not evaluated shown as such; each item's link chooses
its page's filter (the grid then starts with it and pages on the server)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
import sys

import dash
import duckdb
import pytest

from helpers import EXPECTED, REPO, SAMPLE, callback_body, published
from helpers import component_text as _text, find_component as _find

AS_OF = dt.date.fromisoformat(EXPECTED["as_of"])
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def cli(*args) -> tuple[int, str, str]:
    from insyn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def app_on(db):
    """The dashboard's app on `db`'s published snapshot (published here), and its page modules."""
    from insyn import snapshot

    if not published(db).exists():
        snapshot.publish(db, published(db))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    app = create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    return app, {entry["path"]: sys.modules[entry["module"]] for entry in dash.page_registry.values()}


@pytest.fixture(scope="module")
def demo_db(demo, tmp_path_factory):
    wb, _ = demo
    db = tmp_path_factory.mktemp("queue-demo") / "insyn.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", db)
    return db


def _items(pages, lang="en"):
    """The queue's items as (days left or None, words) in the order shown."""
    items, _ = pages["/"].queue_items(AS_OF, set(), lang)
    return [(days, words) for days, _, words, _, _, _ in items]


# ---------------------------------------------------------------- on the demo

def test_dsar_2026_021_is_due_tomorrow_and_overdue_requests_say_so(demo_db):
    _, pages = app_on(demo_db)
    items = _items(pages)
    days = {re.search(r"DSAR-\d{4}-\d{3}", words).group(0): d for d, words in items if words.startswith("Request ")}
    code, out, err = cli("--workbench", REPO, "--db", demo_db, "dsar", "due", "--as-of", AS_OF, "--format", "json")
    assert code == 0, err
    due = json.loads(out)
    due = due.get("requests", due) if isinstance(due, dict) else due
    listed = {r["request_id"]: r["days_left"] for r in due}
    assert days == {k: listed[k] for k in list(listed)[:len(days)]}   # insyn dsar due's list, nearest first
    assert days["DSAR-2026-021"] == 1
    overdue = [k for k, d in days.items() if d < 0]
    assert overdue   # the demo has requests past their deadline
    body = pages["/"].render(AS_OF.isoformat(), "en")
    queue = _text(_find(body, "overview-queue"))
    assert "due tomorrow Request DSAR-2026-021" in re.sub(r"\s+", " ", queue)
    assert f"{-days[overdue[0]]} days overdue Request {overdue[0]}" in re.sub(r"\s+", " ", queue)
    swedish = re.sub(r"\s+", " ", _text(_find(pages["/"].render(AS_OF.isoformat(), "sv"), "overview-queue")))
    assert "förfaller i morgon Begäran DSAR-2026-021" in swedish


def test_the_queue_is_nearest_first_and_names_requests_erasures_and_transfers_by_id(demo_db):
    _, pages = app_on(demo_db)
    items = _items(pages)
    dated = [d for d, _ in items if d is not None]
    assert dated == sorted(dated)
    words = " ".join(w for _, w in items)
    found = {}
    con = duckdb.connect(str(demo_db), read_only=True)
    for rule, record in con.execute("select rule, record_id from audit.current_findings where rule in "
                                    "('erasure.not_executed', 'transfer.invalid_mechanism')").fetchall():
        found.setdefault(rule, set()).add(record)
    retention = con.execute("select count(*) from audit.current_findings "
                            "where rule = 'retention.inactive_company_initiated'").fetchone()[0]
    con.close()
    assert all(f"Erasure {e}: the person is still in a later export" in words for e in found["erasure.not_executed"])
    assert all(f"The transfer to {s} has no valid basis" in words for s in found["transfer.invalid_mechanism"])
    assert f"Records past retention, to be deleted: {retention};" in words
    assert re.search(r"Records never sent a first notice: \d+; the first was due on \d{4}-\d{2}-\d{2}", words)


def test_each_list_says_which_export_it_was_judged_from(demo_db):
    _, pages = app_on(demo_db)
    judged = _text(_find(pages["/"].render(AS_OF.isoformat(), "en"), "overview-judged-from"))
    assert "dpo-register.csv, exported 2026-11-23" in judged          # requests: the latest register
    assert "subprocessors.csv, exported 2026-11-01" in judged         # transfers: the sub-processor register
    assert "Contact.csv, Lead.csv, exported 2026-11-23" in judged     # retention: the latest CRM export
    assert "/" not in judged.replace("http", "")                      # file names, not the paths they came from


def test_failing_checks_counts_the_data_quality_checks_not_the_rules_again(demo_db):
    _, pages = app_on(demo_db)
    con = duckdb.connect(str(demo_db), read_only=True)
    quality, everything = con.execute(
        "select count(*) filter (where suite <> 'compliance'), count(*) from audit.check_results "
        "where not success and check_run_id = (select max(check_run_id) from audit.check_runs)").fetchone()
    con.close()
    assert 0 < quality < everything   # the compliance suite mirrors the rules: counting it counts them twice
    card = _text(_find(pages["/"].render(AS_OF.isoformat(), "en"), "kpi-failing-checks"))
    assert card.startswith(f"{quality} ")


def test_cards_for_erasures_and_transfers_link_to_their_pages(demo_db):
    _, pages = app_on(demo_db)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    for kpi_id, rule, path in (("kpi-erasures-not-carried-out", "erasure.not_executed", "/erasures"),
                               ("kpi-invalid-transfers", "transfer.invalid_mechanism", "/transfers")):
        card = _find(body, kpi_id)
        assert _text(card).startswith(str(sum(1 for f in EXPECTED["findings"] if f["rule"] == rule)))
        assert card.className == "kpi bad"
        assert _find(card, {"type": "overview-go", "index": kpi_id}).children.href == path


def test_the_trend_appears_only_with_two_check_dates(demo_db, tmp_path):
    _, pages = app_on(demo_db)
    con = duckdb.connect(str(demo_db), read_only=True)
    dates = con.execute("select count(distinct as_of) from audit.check_runs").fetchone()[0]
    con.close()
    assert dates == 1
    assert _find(pages["/"].render(AS_OF.isoformat(), "en"), "overview-trend") is None
    db = tmp_path / "insyn.duckdb"
    shutil.copy(demo_db, db)
    code, _, err = cli("--workbench", REPO, "--db", db, "check", "--as-of", AS_OF - dt.timedelta(days=14))
    assert code in (0, 1), err
    _, pages = app_on(db)
    trend = _find(pages["/"].render(AS_OF.isoformat(), "en"), "overview-trend")
    assert trend is not None
    names = [tr.name for tr in trend.figure.data]
    assert 2 <= len(names) <= 9 and len(set(names)) == len(names)   # by area: a handful, not 17 rules
    assert len({tr.line.color for tr in trend.figure.data}) == len(names)


def test_no_e_mail_in_the_overview_s_response(demo_db):
    app, _ = app_on(demo_db)
    con = duckdb.connect(str(demo_db), read_only=True)
    emails = {e for (e,) in con.execute("select distinct email from audit.current_findings "
                                        "where email is not null").fetchall()}
    con.close()
    assert emails
    client = app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    callback = next(d for d in dependencies if d["output"] == "overview-body.children")
    for lang in ("sv", "en"):
        answer = client.post("/_dash-update-component",
                             json=callback_body(callback, {("as-of", "value"): AS_OF.isoformat(), ("lang", "value"): lang}))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        text = answer.get_data(as_text=True)
        assert "DSAR-2026-021" in text
        assert not EMAIL.findall(text)
        assert not [e for e in emails if e in text]


# ---------------------------------------------------------------- a click leads to the page, filtered

def test_an_item_s_link_starts_its_page_s_grid_filtered_to_it(demo_db):
    _, pages = app_on(demo_db)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    targets = _find(body, "overview-targets").data
    chosen = targets["q-request-DSAR-2026-021"]
    assert chosen["path"] == "/requests" and "@" not in json.dumps(chosen)
    _, table, _ = pages["/requests"].update(None, None, None, "en", AS_OF.isoformat(), chosen)
    grid = _find(table, "requests-grid")
    assert grid.filterModel == chosen["filter"]
    assert "DSAR-2026-021" in _text(_find(table, "filter-shown"))
    first = {"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": grid.filterModel}
    answer = pages["/requests"].requests_rows(first, None, None, None, "en")
    assert [r["request_id"] for r in answer["rowData"]] == ["DSAR-2026-021"] and answer["rowCount"] == 1
    # without a choice, or a choice for another page's list, the grid starts unfiltered
    _, table, _ = pages["/requests"].update(None, None, None, "en", AS_OF.isoformat(), None)
    assert not getattr(_find(table, "requests-grid"), "filterModel", None) and _find(table, "filter-shown") is None
    _, table, _ = pages["/requests"].update(None, None, None, "en", AS_OF.isoformat(),
                                            targets["kpi-erasures-not-carried-out"])
    assert not getattr(_find(table, "requests-grid"), "filterModel", None)


def test_every_filter_the_overview_chooses_is_one_a_viewer_may_use_too(demo_db):
    from dashboards.components import grid

    _, pages = app_on(demo_db)
    targets = _find(pages["/"].render(AS_OF.isoformat(), "en"), "overview-targets").data
    assert {t["list"] for t in targets.values()} == {"requests", "erasures", "subprocessors"}
    for chosen in targets.values():
        grid.check_chosen(chosen)
        columns = {c.field: c for c in grid.LISTS[chosen["list"]].columns}
        assert all(grid.for_anyone(grid.LISTS[chosen["list"]], columns[field]) for field in chosen["filter"])


def test_the_erasures_card_leads_to_the_erasures_not_carried_out(demo_db):
    _, pages = app_on(demo_db)
    targets = _find(pages["/"].render(AS_OF.isoformat(), "en"), "overview-targets").data
    page = pages["/erasures"].render("en", AS_OF.isoformat(), targets["kpi-erasures-not-carried-out"])
    grid = _find(page, "erasures-grid")
    request = {"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": grid.filterModel}
    shown = pages["/erasures"].erasure_rows(request, "en")["rowData"]
    not_done = {f["record_id"] for f in EXPECTED["findings"] if f["rule"] == "erasure.not_executed"}
    assert {r["erasure_id"] for r in shown} == not_done and all(r["is_open"] for r in shown)
    every = pages["/erasures"].erasure_rows({**request, "filterModel": {}}, "en")["rowData"]
    assert len(every) > len(shown) and every[0]["is_open"] and not every[-1]["is_open"]   # not carried out first
    assert not any(EMAIL.search(str(v)) for r in every for v in r.values())


# ---------------------------------------------------------------- many findings, no register, no CRM

def test_the_long_lists_stay_one_line_each_whatever_their_count(demo_db, tmp_path):
    db = tmp_path / "insyn.duckdb"
    shutil.copy(demo_db, db)
    con = duckdb.connect(str(db))
    con.execute("""insert into audit.current_findings (rule, record_id, email, source, detail, count, detail_id,
                       first_date, second_date)
                   select 'retention.inactive_company_initiated', 'R' || i, 'p' || i || '@example.se',
                          'salesforce.contact', 'no dialogue', 1,
                          'rule.retention.inactive_company_initiated.never', null, date '2020-01-01' + cast(i as integer)
                   from range(20000) t(i)
                   union all
                   select 'notice.first_mailing_missing', 'N' || i, 'n' || i || '@example.se', 'salesforce.lead',
                          'no mailing', 1, 'rule.notice.first_mailing_missing.no_mailing',
                          date '2026-01-01' + cast(i % 200 as integer), null
                   from range(20000) t(i)
                   union all
                   select 'erasure.not_executed', 'E-' || i, null, 'register.requests', 'still', 1,
                          'rule.erasure.not_executed.still_present', date '2026-01-01' + cast(i as integer), null
                   from range(40) t(i)
                   union all
                   select 'transfer.invalid_mechanism', 'Vendor ' || i, null, 'register.subprocessors', 'x', 1,
                          'rule.transfer.invalid_mechanism.not_recorded', null, null
                   from range(30) t(i)""")
    con.close()
    _, pages = app_on(db)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    queue = _find(body, "overview-queue")
    lines = [_text(li) for li in queue.children]
    assert len(lines) <= 30   # bounded whatever the warehouse holds
    retention = [line for line in lines if "past retention" in line]
    assert len(retention) == 1 and "to be deleted: 20010;" in retention[0]
    assert "fell due on 2021-01-01" in retention[0]   # the oldest: created 2020-01-01, plus the policy's 12 months
    assert sum("first notice" in line for line in lines) == 1
    assert sum("still in a later export" in line for line in lines) == 5   # the nearest five
    assert sum("has no valid basis" in line for line in lines) == 5
    assert any("Erasures not carried out, not listed here: 39" in line for line in lines)   # the demo's 4 + 40, 5 shown
    assert any("Transfers without a valid basis, not listed here: 29" in line for line in lines)
    assert not EMAIL.search(json.dumps(body, cls=__import__("plotly").utils.PlotlyJSONEncoder))


@pytest.fixture(scope="module")
def crm_only(tmp_path_factory):
    """The sample's CRM export and nothing else (no register, no e-mail events), checked and published."""
    db = tmp_path_factory.mktemp("queue-crm") / "insyn.duckdb"
    crm = [SAMPLE / "exports" / "2026-11-23" / "WE_00D5g000004xYzEAAU_1.zip",
           SAMPLE / "exports" / "2026-11-23" / "extract_contacthistory.csv"]
    code, _, err = cli("--workbench", REPO, "--db", db, "load", *crm)
    assert code == 0, err
    code, _, err = cli("--workbench", REPO, "--db", db, "check", "--as-of", AS_OF)
    assert code in (1, 4), err
    return db


@pytest.fixture(scope="module")
def register_only(tmp_path_factory):
    """The sample's register of requests and nothing else (no CRM), checked and published."""
    db = tmp_path_factory.mktemp("queue-register") / "insyn.duckdb"
    code, _, err = cli("--workbench", REPO, "--db", db, "load",
                       SAMPLE / "exports" / "2026-11-23" / "register" / "dpo-register.csv")
    assert code == 0, err
    code, _, err = cli("--workbench", REPO, "--db", db, "check", "--as-of", AS_OF)
    assert code in (1, 4), err
    return db


def test_without_the_register_requests_and_transfers_are_not_evaluated(crm_only):
    _, pages = app_on(crm_only)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    lines = [re.sub(r"\s+", " ", _text(li)).strip() for li in _find(body, "overview-queue").children]
    assert "Requests: not evaluated" in lines and "Transfers: not evaluated" in lines
    assert "First notices: not evaluated" in lines   # no e-mail events either
    assert not any(line.startswith(("Request DSAR", "due")) for line in lines)
    retention = sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")
    assert any(f"Records past retention, to be deleted: {retention};" in line for line in lines)
    judged = _text(_find(body, "overview-judged-from"))
    assert "Requests" not in judged and "Contact.csv" in judged


def test_without_the_crm_contacts_and_erasures_are_not_evaluated(register_only):
    _, pages = app_on(register_only)
    body = pages["/"].render(AS_OF.isoformat(), "sv")
    lines = [re.sub(r"\s+", " ", _text(li)).strip() for li in _find(body, "overview-queue").children]
    assert "Kontakter efter lagringstiden: inte bedömt" in lines
    assert "Raderingar: inte bedömt" in lines
    assert any("förfaller i morgon Begäran DSAR-2026-021" in line for line in lines)
    assert not any("kontakter har passerat" in line for line in lines)   # never a line of 0
    page = _text(pages["/erasures"].render("sv", AS_OF.isoformat(), None))
    assert "Inte bedömt" in page


# ---------------------------------------------------------------- the review's cases

FIRST_PAGE = {"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": {}}


def _card_number(body, kpi_id) -> int:
    return int(_find(body, kpi_id).children[0].children)


def test_an_erasure_no_later_export_shows_is_not_judged_never_carried_out(demo_db):
    """DSAR-2026-022 was erased on 2026-11-23, the day of the latest CRM and audience exports: no
    export taken after it can show it done yet. DSAR-2025-011 has later exports without the person."""
    _, pages = app_on(demo_db)
    from dashboards.components.i18n import label

    every = pages["/erasures"].erasure_rows(FIRST_PAGE, "en")["rowData"]
    status = {r["erasure_id"]: r["erasure_status"] for r in every}
    assert status["DSAR-2026-022"] == label("not_judged", "en") != label("carried_out", "en")
    assert status["DSAR-2025-011"] == label("carried_out", "en")


def test_without_the_crm_no_erasure_is_called_carried_out(register_only):
    _, pages = app_on(register_only)
    from dashboards.components.i18n import label

    every = pages["/erasures"].erasure_rows(FIRST_PAGE, "en")["rowData"]
    assert every and {r["erasure_status"] for r in every} == {label("not_judged", "en")}


def test_the_overdue_card_leads_to_exactly_the_overdue_requests(demo_db):
    _, pages = app_on(demo_db)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    chosen = _find(body, "overview-targets").data["kpi-overdue-requests"]
    shown = pages["/requests"].requests_rows({**FIRST_PAGE, "filterModel": chosen["filter"]}, None, None, None, "en")
    overdue = _card_number(body, "kpi-overdue-requests")
    assert overdue > 0 and shown["rowCount"] == overdue
    assert all(r["is_overdue"] and r["closed_on"] is None for r in shown["rowData"])


def test_a_transfer_item_and_the_transfers_card_narrow_the_register(demo_db):
    _, pages = app_on(demo_db)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    targets = _find(body, "overview-targets").data

    def register_rows(chosen):
        page = pages["/transfers"].render("en", AS_OF.isoformat(), chosen)
        return _find(page, "transfers-register").children[1].children   # the table's body rows

    items = [key for key in targets if key.startswith("q-transfer.invalid_mechanism-")]
    assert items
    name = items[0].removeprefix("q-transfer.invalid_mechanism-")
    one = register_rows(targets[items[0]])
    assert len(one) == 1 and _text(one[0]).startswith(name)
    invalid = register_rows(targets["kpi-invalid-transfers"])
    assert len(invalid) == _card_number(body, "kpi-invalid-transfers") < len(register_rows(None))
    assert all(row.className == "warn" for row in invalid)


def test_at_an_as_of_other_than_the_built_one_the_queue_names_the_built_date(demo_db, tmp_path):
    """The registers' deadlines and the marts are the built date's: the queue never mixes two dates.
    A check at an earlier date builds the warehouse for it; the demo's date stays on offer."""
    db = tmp_path / "insyn.duckdb"
    shutil.copy(demo_db, db)
    earlier = AS_OF - dt.timedelta(days=14)
    code, _, err = cli("--workbench", REPO, "--db", db, "check", "--as-of", earlier)
    assert code in (0, 1), err
    _, pages = app_on(db)
    body = pages["/"].render(AS_OF.isoformat(), "en")
    queue = _text(_find(body, "overview-queue"))
    assert earlier.isoformat() in queue and "DSAR-" not in queue
    assert not [key for key in _find(body, "overview-targets").data if key.startswith("q-")]
    assert "DSAR-" in _text(_find(pages["/"].render(earlier.isoformat(), "en"), "overview-queue"))


def test_optouts_says_not_evaluated_for_a_rule_that_was_not(crm_only):
    """Without the e-mail tool's exports the opt-out rules judge nothing: no "(0)" in their headings."""
    _, pages = app_on(crm_only)
    body = _text(pages["/optouts"].render("en", None))
    from dashboards.components.i18n import t

    assert "(0)" not in body and t("dashboard.kpi.not_evaluated", "en") in body
