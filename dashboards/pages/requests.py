"""/requests: every request from received to closed, with its deadlines; click one for its history."""

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.grid import FILTER_STORE, afresh, export, filtered_to, grid, rows
from dashboards.components.i18n import label, t
from dashboards.components.inputs import REQUEST_STATUSES
from dashboards.components.tables import table

dash.register_page(__name__, path="/requests", name="requests", order=1)

HISTORY = [("exported_at", "dashboard.column.export"), ("received_text", "dashboard.column.received"),
           ("identity_verified_text", "dashboard.column.identity_verified"),
           ("answered_text", "dashboard.column.answered"), ("closed_text", "value.closed"),
           ("outcome_label", "dashboard.column.outcome"), ("fee_text", "dashboard.column.fee"),
           ("handler", "dashboard.column.handler")]


def layout(**_):
    return html.Div([
        html.H1(id="requests-title"),
        html.Div([
            html.Div(dcc.Dropdown(id="requests-year", clearable=True)),
            html.Div(dcc.Dropdown(id="requests-type", clearable=True)),
            html.Div(dcc.Dropdown(id="requests-status", clearable=True)),
        ], className="filters"),
        html.Div(dcc.Graph(id="requests-timeline", config={"displaylogo": False}), className="card"),
        html.Div([
            html.Div([html.H2(id="requests-table-title"),
                      html.Div([html.Button(id="requests-export-button", className="button"),
                                dcc.Download(id="requests-export")], className="download"),
                      html.Div(id="requests-table")], className="card"),
            html.Div([html.H2(id="requests-history-title"), html.Div(id="requests-history")], className="card"),
        ], className="grid2"),
        html.Div(dcc.Graph(id="requests-by-month", config={"displaylogo": False}), className="card"),
    ])


@callback(Output("requests-title", "children"), Output("requests-year", "options"),
          Output("requests-type", "options"), Output("requests-status", "options"),
          Output("requests-year", "placeholder"), Output("requests-type", "placeholder"),
          Output("requests-status", "placeholder"), Output("requests-table-title", "children"),
          Output("requests-history-title", "children"), Output("requests-export-button", "children"),
          Input("lang", "value"), Input("as-of", "value"))
def filters(lang, _as_of):
    all_requests = data.q("dsar_timeline", year=None, request_type=None, status=None)
    years = sorted({d.year for d in all_requests["received_on"]}, reverse=True)
    types = sorted(set(all_requests["request_type"]))
    return (t("dashboard.nav.requests", lang), [{"label": str(y), "value": y} for y in years],
            [{"label": label(x, lang), "value": x} for x in types],
            [{"label": label(s, lang), "value": s} for s in REQUEST_STATUSES],
            t("dashboard.label.year", lang), t("dashboard.label.type", lang), t("dashboard.label.status", lang),
            t("dashboard.nav.requests", lang), t("dashboard.label.history", lang),
            t("dashboard.label.download_csv", lang))


@callback(Output("requests-timeline", "figure"), Output("requests-table", "children"),
          Output("requests-by-month", "figure"),
          Input("requests-year", "value"), Input("requests-type", "value"), Input("requests-status", "value"),
          Input("lang", "value"), Input("as-of", "value"), Input(FILTER_STORE, "data"))
def update(year, request_type, status, lang, as_of_value, chosen=None):
    as_of = data.parse_as_of(as_of_value)
    requests = data.q("dsar_timeline", year=year, request_type=request_type, status=status)
    return (figures.request_timeline(requests, lang, as_of),
            # a filter chosen on the overview: the grid starts with it, and says so
            afresh([part for part in (filtered_to(chosen, "requests", lang),
                                      grid("requests", lang, "requests-grid", chosen)) if part is not None],
                   "requests-grid", year, request_type, status, lang, chosen),
            figures.requests_by_month(requests, lang))


def _params(year, request_type, status) -> dict:
    return {"year": year, "request_type": request_type, "status": status}


@callback(Output("requests-grid", "getRowsResponse"), Input("requests-grid", "getRowsRequest"),
          State("requests-year", "value"), State("requests-type", "value"), State("requests-status", "value"),
          State("lang", "value"), prevent_initial_call=True)
def requests_rows(request, year, request_type, status, lang):
    """One page of the requests, open ones first (nearest deadline first), sorted and filtered here."""
    if request is None:
        return dash.no_update
    return rows("requests", request, _params(year, request_type, status), lang)


@callback(Output("requests-export", "data"), Input("requests-export-button", "n_clicks"),
          State("requests-grid", "getRowsRequest"), State("requests-year", "value"),
          State("requests-type", "value"), State("requests-status", "value"), State("lang", "value"),
          prevent_initial_call=True)
def export_requests(_clicks, request, year, request_type, status, lang):
    """The requests as the grid shows them (its filters and sort), every page, as CSV."""
    return {"content": export("requests", request, _params(year, request_type, status), lang),
            "filename": "requests.csv", "type": "text/csv"}


@callback(Output("requests-history", "children"), Input("requests-timeline", "clickData"), State("lang", "value"))
def history(click, lang):
    if not click or not click.get("points"):
        return html.P(t("dashboard.message.click_a_request", lang), className="empty")
    point = click["points"][0]
    request_id = point.get("customdata")
    if isinstance(request_id, list):
        request_id = request_id[0]
    return [html.H3(str(request_id), id="requests-history-id"),
            table(data.q("dsar_request_history", request_id=request_id), HISTORY, lang)]
