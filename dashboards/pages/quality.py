"""/quality: check results and their history, and every file loaded with its rejected lines.

Suites and checks are shown by their names in words (the audit pack's report.suite.* and
report.check.*, a rule's title), never by their ids or the column they look at."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.i18n import check_title, suite_label, t
from dashboards.components.tables import table

dash.register_page(__name__, path="/quality", name="quality", order=4)

CHECKS = [("suite_title", "dashboard.column.suite"), ("check_title", "dashboard.column.check"),
          ("severity", "dashboard.label.severity"),
          ("unexpected_count", "dashboard.column.count"), ("success", "dashboard.column.passed")]
FILES = [("file", "dashboard.column.file"), ("source", "dashboard.column.source"),
         ("exported_at", "dashboard.column.exported"), ("rows", "dashboard.column.rows"),
         ("rejected", "dashboard.column.rejected"), ("encoding", "dashboard.column.encoding")]


def layout(**_):
    return html.Div(id="quality-body")


@callback(Output("quality-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    checks = data.q("check_results", as_of=as_of)
    history = data.q("check_history")
    files = data.q("files_quality")
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
        html.Div([html.H2(t("dashboard.label.files", lang)), table(files, FILES, lang, highlight="rejected", table_id="quality-files")],
                 className="card"),
    ]
