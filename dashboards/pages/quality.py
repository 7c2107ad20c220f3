"""/quality: check results and their history, and every file loaded with its rejected lines.

Suites and checks are shown by their names in words (the audit pack's report.suite.* and
report.check.*, a rule's title), never by their ids or the column they look at. The files loaded
grow with every load: a grid the server pages (components/grid.py); the checks are one row per
check of the suites, bounded by the suites themselves, so a plain table."""

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.grid import grid, rows
from dashboards.components.i18n import check_title, suite_label, t
from dashboards.components.tables import table

dash.register_page(__name__, path="/quality", name="quality", order=4)

CHECKS = [("suite_title", "dashboard.column.suite"), ("check_title", "dashboard.column.check"),
          ("severity", "dashboard.label.severity"),
          ("unexpected_count", "dashboard.column.count"), ("success", "dashboard.column.passed")]


def layout(**_):
    return html.Div(id="quality-body")


@callback(Output("quality-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    checks = data.q("check_results", as_of=as_of)
    history = data.q("check_history")
    if not checks.empty:
        checks = checks.assign(
            failed=~checks["success"],
            suite_title=[suite_label(s, lang) for s in checks["suite"]],
            check_title=[check_title(r["suite"], r["check_name"], r["description"], lang)
                         for r in checks.to_dict("records")])
    unable = data.q("not_evaluated", as_of=as_of)
    # suites over sources never loaded were not run: listed, never counted as passed
    skipped = [t("dashboard.overview.suite_not_evaluated", lang, suite=suite_label(r["suite"], lang),
                 sources=", ".join(str(r["missing_sources"] or "").split(",")))
               for r in unable.to_dict("records") if not isinstance(r["rule"], str)]
    return [
        html.H1(t("dashboard.nav.quality", lang)),
        html.Div([
            html.Div(dcc.Graph(id="quality-results", figure=figures.check_results_bar(checks, lang),
                               config={"displaylogo": False}), className="card"),
            html.Div(dcc.Graph(id="quality-history", figure=figures.check_history_line(history, lang),
                               config={"displaylogo": False}), className="card"),
        ], className="grid2"),
        html.Div([html.H2(t("dashboard.label.checks", lang)), table(checks, CHECKS, lang, highlight="failed", table_id="quality-checks"),
                  *([html.H2(t("dashboard.overview.not_evaluated_heading", lang)),
                     html.Ul([html.Li(line) for line in skipped], id="quality-not-evaluated")] if skipped else [])],
                 className="card"),
        html.Div([html.H2(t("dashboard.label.files", lang)),
                  html.Div(grid("files", lang, "quality-files"), id="quality-files-" + lang)], className="card"),
    ]


@callback(Output("quality-files", "getRowsResponse"), Input("quality-files", "getRowsRequest"),
          State("lang", "value"), prevent_initial_call=True)
def files_rows(request, lang):
    """One page of the files loaded, those with rejected lines first."""
    return dash.no_update if request is None else rows("files", request, {}, lang)
