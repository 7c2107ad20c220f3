"""The list grids over 100,000 requests: the server pages, sorts and filters (issue 18).

A warehouse whose request mart holds 100,000 rows is built in a tmp DuckDB with one INSERT;
the app's grid callback is posted to through Flask's test client as the browser would, and
the tests read the JSON responses, never the DOM.
"""

from __future__ import annotations

import csv
import io
import sys

import duckdb
import pytest

from helpers import REPO, callback_body, published

ROWS = 100_000
FORMULA_ID = '=HYPERLINK("http://x","cmd")'
UPDATE = "/_dash-update-component"


def _client(db):
    """A Flask test client of the dashboard (English) on `db`, published here."""
    from insyn import snapshot

    snapshot.publish(db, published(db))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    application = create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries",
                             language="en")
    return application.server.test_client()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = tmp_path_factory.mktemp("grid") / "insyn.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute(f"""
        create table marts.fct_dsar_requests as
        select case when i = 7 then '{FORMULA_ID.replace("'", "''")}' else printf('R-%06d', i) end as request_id,
            case when i % 3 = 0 then 'erasure' else 'access' end as request_type,
            null::varchar as request_type_label, null::varchar as email_key,
            date '2020-01-01' + cast(i % 2000 as integer) as received_on,
            null::date as identity_verified_on, null::date as extension_notified_on, null::date as answered_on,
            case when i % 10 = 0 then null else date '2020-01-01' + cast(i % 2000 + 20 as integer) end as closed_on,
            case when i % 10 = 0 then null else 'granted' end as outcome, null::integer as fee_sek,
            i % 10 = 0 as is_open, date '2026-11-24' as judged_on, cast(i % 97 as integer) as days_elapsed,
            null::date as policy_due_on, null::date as legal_due_unrolled_on,
            date '2020-01-31' + cast(i % 2000 as integer) as legal_due_on,
            null::date as extended_due_unrolled_on, null::date as extended_due_on,
            false as has_valid_extension, date '2020-01-31' + cast(i % 2000 as integer) as applicable_due_on,
            i % 20 = 0 as is_overdue, false as is_past_policy_target
        from range(1, {ROWS + 1}) as r(i)""")
    con.close()
    client = _client(db)
    spec = next(d for d in client.get("/_dash-dependencies").get_json()
                if d["output"] == "requests-grid.getRowsResponse")
    return {"client": client, "spec": spec, "db": db}


def _ask(app, request, *, request_type=None, status=None):
    values = {("requests-grid", "getRowsRequest"): request, ("requests-year", "value"): None,
              ("requests-type", "value"): request_type, ("requests-status", "value"): status,
              ("lang", "value"): "en"}
    return app["client"].post(UPDATE, json=callback_body(app["spec"], values))


def _rows(app, request, **filters):
    answer = _ask(app, request, **filters)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"]["requests-grid"]["getRowsResponse"]


def _page(start=0, sort=(), filters=None):
    from dashboards.components.grid import PAGE_ROWS

    return {"startRow": start, "endRow": start + PAGE_ROWS, "sortModel": list(sort), "filterModel": filters or {}}


def test_each_response_carries_one_page_and_the_count_of_all(app):
    from dashboards.components.grid import PAGE_ROWS

    first = _rows(app, _page())
    assert len(first["rowData"]) == PAGE_ROWS and first["rowCount"] == ROWS
    deep = _rows(app, _page(start=ROWS - 10))
    assert len(deep["rowData"]) == 10 and deep["rowCount"] == ROWS
    assert not {r["request_id"] for r in first["rowData"]} & {r["request_id"] for r in deep["rowData"]}


def test_open_requests_come_first_nearest_deadline_first(app):
    shown = _rows(app, _page())["rowData"]
    assert all(r["closed_on"] is None for r in shown)   # open ones (a tenth) fill the first pages
    deadlines = [r["applicable_due_on"] for r in shown]
    assert deadlines == sorted(deadlines)


def test_sorting_is_done_on_the_server_over_every_row(app):
    shown = _rows(app, _page(sort=[{"colId": "request_id", "sort": "desc"}]))["rowData"]
    ids = [r["request_id"] for r in shown]
    assert ids[0] == "R-100000" and ids == sorted(ids, reverse=True)
    days = [r["days_elapsed"] for r in _rows(app, _page(sort=[{"colId": "days_elapsed", "sort": "asc"}]))["rowData"]]
    assert days[0] == 0 and days == sorted(days)


def test_filtering_is_done_on_the_server_and_counted(app):
    text = {"request_id": {"filterType": "text", "type": "startsWith", "filter": "R-0999"}}
    answer = _rows(app, _page(filters=text))
    assert answer["rowCount"] == 100 and all(r["request_id"].startswith("R-0999") for r in answer["rowData"])
    number = {"days_elapsed": {"filterType": "number", "type": "inRange", "filter": 10, "filterTo": 11}}
    answer = _rows(app, _page(filters=number))
    assert answer["rowCount"] == sum(1 for i in range(1, ROWS + 1) if i % 97 in (10, 11))
    assert {r["days_elapsed"] for r in answer["rowData"]} == {10, 11}
    # a value shown in words is filtered by its words ("Erasure"), and the page's filters apply too
    words = {"request_type": {"filterType": "text", "type": "equals", "filter": "erasure"}}
    answer = _rows(app, _page(filters=words), status="open")
    assert answer["rowCount"] == sum(1 for i in range(1, ROWS + 1) if i % 3 == 0 and i % 10 == 0)


@pytest.mark.parametrize("hostile", ["x' or '1'='1", "'); drop table marts.fct_dsar_requests; --",
                                     '" or 1=1 --', "%", "_"])
def test_a_filter_value_is_a_parameter_never_sql(app, hostile):
    answer = _rows(app, _page(filters={"request_id": {"filterType": "text", "type": "contains", "filter": hostile}}))
    assert answer["rowCount"] == 0 and answer["rowData"] == []
    con = duckdb.connect(str(app["db"]), read_only=True)
    assert con.execute("select count(*) from marts.fct_dsar_requests").fetchone()[0] == ROWS
    con.close()


@pytest.mark.parametrize("asked", [
    {"startRow": 0, "endRow": 100_000, "sortModel": [], "filterModel": {}},          # more than a page
    {"startRow": -5, "endRow": 10},
    {"startRow": "0", "endRow": 10},
    {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "email_key", "sort": "asc"}]},   # not a column shown
    {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "1; drop table x", "sort": "asc"}]},
    {"startRow": 0, "endRow": 10, "sortModel": [{"colId": "request_id", "sort": "asc; --"}]},
    {"startRow": 0, "endRow": 10, "filterModel": {"request_id\" or 1=1 --": {"filterType": "text",
                                                                             "type": "contains", "filter": "x"}}},
    {"startRow": 0, "endRow": 10, "filterModel": {"request_id": {"filterType": "text", "type": "regexp",
                                                                 "filter": "x"}}},
    {"startRow": 0, "endRow": 10, "filterModel": {"request_id": {"filterType": "text", "type": "contains",
                                                                 "filter": {"x": 1}}}},
    {"startRow": 0, "endRow": 10, "filterModel": {"days_elapsed": {"filterType": "number", "type": "equals",
                                                                   "filter": "1 or 1=1"}}},
    {"startRow": 0, "endRow": 10, "filterModel": {"received_on": {"filterType": "date", "type": "equals",
                                                                  "dateFrom": "2026-02-30"}}},
    [], "rows",
])
def test_a_request_the_grid_could_not_send_gets_a_400_never_a_500(app, asked):
    answer = _ask(app, asked)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "requests-grid.getRowsRequest" in answer.get_json()["error"]


def test_the_export_holds_the_filtered_rows_sorted_with_formulas_neutralised(app):
    spec = next(d for d in app["client"].get("/_dash-dependencies").get_json()
                if d["output"] == "requests-export.data")
    request = _page(sort=[{"colId": "request_id", "sort": "asc"}],
                    filters={"request_id": {"filterType": "text", "operator": "OR", "conditions": [
                                {"filterType": "text", "type": "contains", "filter": "cmd"},
                                {"filterType": "text", "type": "startsWith", "filter": "R-00001"}]}})
    values = {("requests-export-button", "n_clicks"): 1, ("requests-grid", "getRowsRequest"): request,
              ("requests-year", "value"): None, ("requests-type", "value"): None,
              ("requests-status", "value"): None, ("lang", "value"): "en"}
    answer = app["client"].post(UPDATE, json=callback_body(spec, values))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    download = answer.get_json()["response"]["requests-export"]["data"]
    rows = list(csv.DictReader(io.StringIO(download["content"], newline="")))
    ids = [r["request_id"] for r in rows]
    assert len(rows) == 11                               # every page: R-000010..R-000019 and the formula
    assert ids[1:] == sorted(ids[1:]) and ids[0] == "'" + FORMULA_ID   # "'=..." sorts before "R-"
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)


# ---------------------------------------------------------------- /optouts over 100,000 findings

AS_OF = "2026-11-24"
NOT_SYNCED = "optout.not_synced"
BREACH = "optout.marketing_after_optout"
FINDING_COLUMNS = ("rule varchar, record_id varchar, email varchar, source varchar, detail varchar, count bigint, "
                   "detail_id varchar, first_date date, second_date date, third_date date, fourth_date date, "
                   "first_number bigint, second_number bigint, first_text varchar, second_text varchar, "
                   "reason varchar, first_time timestamp")


@pytest.fixture(scope="module")
def optouts(tmp_path_factory):
    """A warehouse whose rules found 100,000 opt-outs out of sync and 100,000 mailings after an
    opt-out (every other one read back from the deliveries, the rest with their detail only), and
    100,000 company-initiated records due for deletion, flagged before, with 100,000 more coming due."""
    db = tmp_path_factory.mktemp("optouts") / "insyn.duckdb"
    con = duckdb.connect(str(db))
    for schema in ("marts", "audit", "params", "staging"):
        con.execute(f"create schema {schema}")
    con.execute(f"create table params.run as select date '{AS_OF}' as as_of, 12 as retention_inactive_months")
    con.execute("create table params.rules (rule varchar, severity varchar, title_id varchar, title_en varchar, "
                "title_sv varchar, legal_reference varchar)")
    con.execute("insert into params.rules (rule) values ('optout.marketing_after_optout'), ('optout.not_synced'), "
                "('notice.first_mailing_missing'), ('notice.first_mailing_late')")
    con.execute("create table audit.check_runs (check_run_id integer, as_of date)")
    con.execute("create table audit.not_evaluated (rule varchar)")
    con.execute("create table audit.check_not_evaluated (check_run_id integer, rule varchar)")
    con.execute(f"create table audit.findings_history ({FINDING_COLUMNS}, check_run_id integer, as_of date)")
    con.execute(f"create table audit.current_findings ({FINDING_COLUMNS})")
    con.execute(f"""
        insert into audit.current_findings (rule, record_id, email, source, detail)
        select '{NOT_SYNCED}', printf('p%06d@example.se', i), printf('p%06d@example.se', i),
            case when i % 4 = 0 then 'mailchimp.subscribed' else 'salesforce.contact' end,
            case when i = 7 then '{FORMULA_ID.replace("'", "''")}' else 'opted out in the CRM' end
        from range(1, {ROWS + 1}) as r(i)""")
    con.execute(f"""
        insert into audit.current_findings (rule, record_id, email, source, detail, first_text)
        select '{BREACH}', printf('b%06d@example.se', i), printf('b%06d@example.se', i), 'esp.events',
            'a mailing after opt-out', printf('E%06d', i)
        from range(1, {ROWS + 1}) as r(i)""")
    con.execute(f"""
        create table marts.fct_email_deliveries as
        select printf('E%06d', i) as event_id, printf('b%06d@example.se', i) as email_key,
            timestamp '2026-01-01 08:00' + to_days(cast(i % 300 as integer)) as occurred_at
        from range(1, {ROWS + 1}) as r(i) where i % 2 = 0""")
    con.execute("create table staging.stg_esp__events as select event_id, 'Newsletter ' || event_id "
                "as marketing_campaign_name from marts.fct_email_deliveries")
    con.execute("create table marts.fct_optout_intervals as select email_key, timestamp '2025-12-01' as started_at, "
                "null::timestamp as ended_at, 'crm' as optout_source from marts.fct_email_deliveries")
    con.execute(f"""
        create table marts.fct_retention_clock as
        select printf('003%07d', i) as record_id, printf('k%07d', i) as record_key,
            case when i % 2 = 0 then 'salesforce.contact' else 'salesforce.lead' end as source,
            printf('c%07d@example.se', i) as email_key, date '2024-01-01' as created_on,
            date '{AS_OF}' - to_days(cast(365 - i % 500 + 250 as integer)) as last_dialogue_on,
            date '{AS_OF}' + to_days(cast(i % 500 - 250 as integer)) as due_on, cast(i % 500 - 250 as bigint) as days_left
        from range(1, {2 * ROWS + 1}) as r(i)""")
    con.execute(f"""
        insert into audit.current_findings (rule, record_id, email, source, detail)
        select 'retention.inactive_company_initiated', record_id, email_key, source, 'quiet too long'
        from marts.fct_retention_clock where days_left < 0 limit {ROWS}""")
    con.execute("""
        insert into audit.findings_history (rule, record_id, email, source, detail, check_run_id, as_of)
        select rule, record_id, email, source, detail, 1, date '2026-10-01' from audit.current_findings
        where rule = 'retention.inactive_company_initiated'""")
    con.execute("create table marts.dim_crm_records as select source, record_id, email_key as email, created_on "
                "from marts.fct_retention_clock")
    con.close()
    client = _client(db)
    specs = {d["output"]: d for d in client.get("/_dash-dependencies").get_json()}
    return {"client": client, "specs": specs}


def _optouts_rows(optouts, grid, request):
    spec = optouts["specs"][f"{grid}.getRowsResponse"]
    values = {(grid, "getRowsRequest"): request, ("as-of", "value"): AS_OF, ("lang", "value"): "sv"}
    answer = optouts["client"].post(UPDATE, json=callback_body(spec, values))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"][grid]["getRowsResponse"]


def test_optouts_page_counts_in_sql_and_sends_no_list(optouts):
    """The page's own callback: each heading's count of 100,000, and not one row of the lists."""
    spec = optouts["specs"]["optouts-body.children"]
    answer = optouts["client"].post(UPDATE, json=callback_body(spec, {("lang", "value"): "en",
                                                                      ("as-of", "value"): AS_OF}))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_data(as_text=True)
    assert body.count(f"({ROWS})") == 2 and "(0)" in body
    assert "@example.se" not in body and len(body) < 60_000


@pytest.mark.parametrize("grid", ["optouts-not-synced-grid", "optouts-breaches-grid"])
def test_optouts_grids_send_one_page_of_100000(optouts, grid):
    from dashboards.components.grid import PAGE_ROWS

    first = _optouts_rows(optouts, grid, _page())
    assert len(first["rowData"]) == PAGE_ROWS and first["rowCount"] == ROWS
    deep = _optouts_rows(optouts, grid, _page(start=ROWS - 5))
    assert len(deep["rowData"]) == 5 and deep["rowCount"] == ROWS
    assert not {r["record_id"] for r in first["rowData"]} & {r["record_id"] for r in deep["rowData"]}


def test_optouts_breaches_latest_mailing_first_then_those_not_read_back(optouts):
    shown = _optouts_rows(optouts, "optouts-breaches-grid", _page())["rowData"]
    mailed = [r["mailed_on"] for r in shown]
    assert all(mailed) and mailed == sorted(mailed, reverse=True)
    assert all(r["campaign"].startswith("Newsletter E") and r["detail"] == "" for r in shown)
    last = _optouts_rows(optouts, "optouts-breaches-grid", _page(start=ROWS - 5))["rowData"]
    assert all(r["mailed_on"] is None and r["detail"] == "a mailing after opt-out" for r in last)


def test_optouts_sort_and_filter_on_the_server_sources_by_their_names(optouts):
    grid = "optouts-not-synced-grid"
    shown = _optouts_rows(optouts, grid, _page(sort=[{"colId": "record_id", "sort": "desc"}]))["rowData"]
    assert shown[0]["record_id"] == "p100000@example.se"
    assert [r["record_id"] for r in shown] == sorted((r["record_id"] for r in shown), reverse=True)
    # the source is shown and filtered by its name in words ("E-postverktyget: prenumeration"), not its id
    words = {"source": {"filterType": "text", "type": "contains", "filter": "e-postverktyget"}}
    answer = _optouts_rows(optouts, grid, _page(filters=words))
    assert answer["rowCount"] == ROWS // 4
    assert {r["source"] for r in answer["rowData"]} == {"E-postverktyget: prenumeration"}
    text = {"email": {"filterType": "text", "type": "startsWith", "filter": "p0999"}}
    assert _optouts_rows(optouts, grid, _page(filters=text))["rowCount"] == 100
    # the detail is shown in words of the page's language, so it is neither sorted nor filtered on
    for asked in (_page(sort=[{"colId": "detail", "sort": "asc"}]),
                  _page(filters={"detail": {"filterType": "text", "type": "contains", "filter": "x"}})):
        spec = optouts["specs"][f"{grid}.getRowsResponse"]
        values = {(grid, "getRowsRequest"): asked, ("as-of", "value"): AS_OF, ("lang", "value"): "sv"}
        assert optouts["client"].post(UPDATE, json=callback_body(spec, values)).status_code == 400


def test_optouts_export_is_the_filtered_list_with_formulas_neutralised(optouts):
    spec = optouts["specs"]["optouts-not-synced-export.data"]
    request = _page(filters={"record_id": {"filterType": "text", "type": "startsWith", "filter": "p00000"}})
    values = {("optouts-not-synced-export-button", "n_clicks"): 1, ("optouts-not-synced-grid", "getRowsRequest"): request,
              ("as-of", "value"): AS_OF, ("lang", "value"): "en"}
    answer = optouts["client"].post(UPDATE, json=callback_body(spec, values))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(answer.get_json()["response"]["optouts-not-synced-export"]["data"]["content"],
                                           newline="")))
    assert [r["record_id"] for r in rows] == [f"p{i:06d}@example.se" for i in range(1, 10)]
    assert rows[6]["detail"] == "'" + FORMULA_ID


def test_contacts_page_counts_and_charts_in_sql_and_sends_no_list(optouts):
    """/contacts over 100,000 records due and 200,000 on the clock: the heading's count and the
    charts' bars come counted; the page's answer carries no record."""
    spec = optouts["specs"]["contacts-body.children"]
    answer = optouts["client"].post(UPDATE, json=callback_body(spec, {("lang", "value"): "en",
                                                                      ("as-of", "value"): AS_OF}))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_data(as_text=True)
    assert f"({ROWS})" in body and "@example.se" not in body and "003000" not in body and len(body) < 80_000
    figures = {c["props"]["id"]: c["props"]["figure"] for c in _components(answer.get_json()) if "figure" in c["props"]}
    stale = figures["contacts-stale"]
    assert sum(sum(trace["y"]) for trace in stale["data"]) == 2 * ROWS
    coming = figures["contacts-coming"]["data"][0]
    assert coming["y"] == [sum(1 for i in range(1, 2 * ROWS + 1) if 0 <= i % 500 - 250 <= b) for b in (30, 60, 90)]


def _components(node):
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)


@pytest.mark.parametrize("grid", ["contacts-deletion", "contacts-coming-due", "contacts-evidence"])
def test_contacts_grids_send_one_page(optouts, grid):
    from dashboards.components.grid import PAGE_ROWS

    spec = optouts["specs"][f"{grid}.getRowsResponse"]
    answer = optouts["client"].post(UPDATE, json=callback_body(spec, {(grid, "getRowsRequest"): _page(),
                                                                      ("lang", "value"): "sv"}))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    shown = answer.get_json()["response"][grid]["getRowsResponse"]
    assert len(shown["rowData"]) == PAGE_ROWS and shown["rowCount"] >= ROWS // 5
    sources = {r.get("source") or r.get("sobject") for r in shown["rowData"]}
    assert sources and sources <= {"CRM: kontakt", "CRM: lead", "Kontakt", "Lead"}   # words, never kind ids


def test_a_list_too_large_to_keep_is_paged_from_the_snapshot_with_the_same_rows(app, monkeypatch):
    """A list's answer is kept whole for its snapshot (dashboards/data.py); one over the limit is not,
    and each page asks the snapshot again: the same rows, counts, sorts and filters either way."""
    from dashboards import data

    asked = [_page(start=50, sort=[{"colId": "received_on", "sort": "desc"}]),
             _page(filters={"request_type": {"filterType": "text", "type": "contains", "filter": "eras"}})]
    kept = [_rows(app, request) for request in asked]
    monkeypatch.setattr(data, "KEPT_LISTING_BYTES", 0)
    data._answers.clear()
    data._too_large.clear()
    again = [_rows(app, request) for request in asked]
    assert data._too_large and not [k for k in data._answers if k[1].startswith("listing:")]
    assert again == kept
    assert kept[1]["rowCount"] == ROWS // 3 and kept[0]["rowCount"] == ROWS
