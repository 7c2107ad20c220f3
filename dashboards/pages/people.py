"""/people: look a person up by e-mail, and produce their access report.

The address travels in the callback, never in the URL. The report follows the
same rule as `insyn dsar report`: only when the register holds the person's
request with identity verified, or when the DPO names who verified it
(recorded in the ledger with the dashboard user).
"""

import dash
from dash import Input, Output, State, callback, dcc, html

from insyn.auth import current_user
from insyn.access_report import IdentityNotVerified
from insyn.errors import InsynError

from dashboards import data
from dashboards.components.i18n import t
from dashboards.components.tables import table

dash.register_page(__name__, path="/people", name="people", order=6)

COLUMNS = [("area", "area"), ("source", "source"), ("record_id", "record"), ("detail", "detail"), ("on_date", "date")]


def layout(**_):
    return html.Div([
        html.H1(id="people-title"),
        html.Div([dcc.Input(id="people-email", type="email", autoComplete="off", debounce=False),
                  html.Button(id="people-search", className="button", n_clicks=0)], className="search"),
        html.Div(id="people-result"),
        html.Section([
            html.H2(id="report-title"),
            html.Div([
                dcc.Input(id="report-vouched-by", type="text", autoComplete="off"),
                dcc.Dropdown(id="report-format", options=[{"label": f.upper(), "value": f} for f in ("pdf", "html", "json")],
                             value="pdf", clearable=False, className="format"),
                html.Button(id="report-produce", className="button", n_clicks=0),
            ], className="search"),
            html.Div(id="report-status", role="status"),
            dcc.Download(id="report-download"),
        ], id="report-panel", hidden=not data.can_report()),
    ])


@callback(Output("people-title", "children"), Output("people-search", "children"),
          Output("people-email", "placeholder"), Input("lang", "value"))
def labels(lang):
    return t("people", lang), t("search", lang), t("e-mail", lang)


@callback(Output("report-title", "children"), Output("report-produce", "children"),
          Output("report-vouched-by", "placeholder"), Input("lang", "value"))
def report_labels(lang):
    return t("art. 15 report", lang), t("produce report", lang), t("vouched by", lang)


@callback(Output("report-download", "data"), Output("report-status", "children"),
          Input("report-produce", "n_clicks"), State("people-email", "value"), State("report-vouched-by", "value"),
          State("report-format", "value"), State("lang", "value"), prevent_initial_call=True)
def produce_report(_clicks, email, vouched_by, fmt, lang):
    if not email or not email.strip():
        return dash.no_update, html.P(t("enter an address", lang), className="empty")
    try:
        name, content = data.access_report(email=email, lang=lang, fmt=fmt, vouched_by=vouched_by,
                                           recorded_by=f"dashboard:{current_user() or 'local'}")
    except IdentityNotVerified:
        return dash.no_update, html.P(t("identity not verified", lang), className="error")
    except InsynError as exc:  # a broken template and the like: say why, produce nothing
        return dash.no_update, html.P(exc.message, className="error")
    return dcc.send_bytes(content, name), html.P(t("report ready", lang), className="note")


@callback(Output("people-result", "children"), Input("people-search", "n_clicks"),
          State("people-email", "value"), State("lang", "value"), prevent_initial_call=True)
def look_up(_clicks, email, lang):
    if not email or not email.strip():
        return html.P(t("enter an address", lang), className="empty")
    rows = data.q("person", email=email)
    if rows.empty:
        return html.P(t("nothing held", lang), className="empty")
    return table(rows, COLUMNS, lang, table_id="people-rows")
