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


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from insyn import snapshot

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
    snapshot.publish(db, published(db))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    application = create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries",
                             language="en")
    client = application.server.test_client()
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
    deadlines = [r["legal_due_on"] for r in shown]
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
