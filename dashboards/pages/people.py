"""/people: look a person up by e-mail, and produce their access report.

What is held is found per source kind of the workbench's sources.toml (insyn.people: the
same matching as the access report and erasure), each kind by its name in the catalog, with
its category, records and dates; then the person's requests and findings. The address travels in the callback, never in the URL. The report follows the
same rule as `insyn dsar report`: only when the register holds the person's
request with identity verified, or when the DPO names who verified it
(recorded in the ledger with the dashboard user). Each look-up and each report is
recorded in the access log (who, when, the address's salted hash) before anything
is shown; the page and its callbacks are the DPO's only (components/roles.py).
"""

import logging

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from insyn.auth import current_user
from insyn.access_report import FORMATS, IdentityNotVerified
from insyn.errors import InsynError

from dashboards import data
from dashboards.components import roles
from dashboards.components.i18n import catalog, t
from dashboards.components.tables import table

dash.register_page(__name__, path="/people", name="people", order=6)

log = logging.getLogger(__name__)

# a source by its name in words ("CRM: kontakt"), never its kind's id ("register.requests")
SOURCES = [("category", "dashboard.column.category"), ("source", "dashboard.column.source"),
           ("records", "dashboard.column.records"),
           ("first_on", "dashboard.column.first_on"), ("last_on", "dashboard.column.last_on")]
REQUESTS = [("request_id", "dashboard.column.request_id"), ("request_type", "dashboard.label.type"),
            ("received_on", "dashboard.column.received"), ("outcome", "dashboard.column.outcome")]
FINDINGS = [("title", "dashboard.column.finding"), ("record_id", "dashboard.column.record"),
            ("detail", "dashboard.column.detail")]


def layout(**_):
    if not roles.is_dpo():
        return html.Div(id="people-refused")
    return html.Div([
        html.H1(id="people-title"),
        html.Div([dcc.Input(id="people-email", type="email", autoComplete="off", debounce=False),
                  html.Button(id="people-search", className="button", n_clicks=0)], className="search"),
        html.Div(id="people-result"),
        html.Section([
            html.H2(id="report-title"),
            html.Div([
                dcc.Input(id="report-vouched-by", type="text", autoComplete="off"),
                dcc.Dropdown(id="report-format", options=[{"label": f.upper(), "value": f} for f in FORMATS],
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
    return t("dashboard.nav.people", lang), t("dashboard.label.search", lang), t("dashboard.column.e_mail", lang)


@callback(Output("people-refused", "children"), Input("lang", "value"))
def refused(lang):
    return [html.H1(t("dashboard.nav.people", lang)), html.P(t("dashboard.message.dpo_only", lang), className="error")]


@callback(Output("report-title", "children"), Output("report-produce", "children"),
          Output("report-vouched-by", "placeholder"), Output("report-format", "options"), Input("lang", "value"))
def report_labels(lang):
    formats = [{"label": t(f"dashboard.people.format.{f}", lang), "value": f} for f in FORMATS]
    return (t("dashboard.people.report_title", lang), t("dashboard.people.produce_report", lang),
            t("dashboard.people.vouched_by", lang), formats)


@callback(Output("report-download", "data"), Output("report-status", "children"),
          Input("report-produce", "n_clicks"), State("people-email", "value"), State("report-vouched-by", "value"),
          State("report-format", "value"), State("lang", "value"), prevent_initial_call=True)
def produce_report(_clicks, email, vouched_by, fmt, lang):
    if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
        return dash.no_update, html.P(t("dashboard.message.dpo_only", lang), className="error")
    if not isinstance(email, str) or not email.strip():
        return dash.no_update, html.P(t("dashboard.message.enter_an_address", lang), className="empty")
    if not data.can_report():
        return dash.no_update, html.P(t("dashboard.message.not_offered", lang), className="error")
    try:
        name, content, vouched = data.access_report(email=email, lang=lang, fmt=fmt, vouched_by=vouched_by,
                                           recorded_by=f"dashboard:{current_user() or 'local'}")
    except IdentityNotVerified:
        recorded("report", email, False, fmt)
        return dash.no_update, html.P(t("dashboard.message.identity_not_verified", lang), className="error")
    except InsynError as exc:  # a broken template and the like: say why, produce nothing
        recorded("report", email, False, fmt)
        return dash.no_update, html.P(exc.message, className="error")
    if (vouched and not recorded("vouch", email, True)) or not recorded("report", email, True, fmt):
        return dash.no_update, html.P(t("dashboard.message.not_recorded", lang), className="error")
    # the maker names the file (access_report.default_name: [A-Za-z0-9._-] of the request id only)
    return dcc.send_bytes(content, name), html.P(t("dashboard.message.report_ready", lang), className="note")


@callback(Output("people-result", "children"), Input("people-search", "n_clicks"),
          State("people-email", "value"), State("lang", "value"), prevent_initial_call=True)
def look_up(_clicks, email, lang):
    if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
        return html.P(t("dashboard.message.dpo_only", lang), className="error")
    if not isinstance(email, str) or not email.strip():
        return html.P(t("dashboard.message.enter_an_address", lang), className="empty")
    held = data.person(email, catalog(lang))
    if not recorded("lookup", email, not held.empty):
        return html.P(t("dashboard.message.not_recorded", lang), className="error")
    no_raw_layer = html.P(t("dashboard.people.no_raw_layer", lang), className="note")
    if held.empty:
        return no_raw_layer if not held.raw_layer else html.P(t("dashboard.message.nothing_held", lang),
                                                             className="empty")
    return html.Div([
        html.H2(t("dashboard.people.held", lang)),
        table(pd.DataFrame(held.sources), SOURCES, lang, table_id="people-rows") if held.raw_layer
        else no_raw_layer,
        html.H2(t("dashboard.people.requests", lang)),
        table(pd.DataFrame(held.requests), REQUESTS, lang, table_id="people-requests"),
        html.H2(t("dashboard.people.findings", lang)),
        table(pd.DataFrame(held.findings), FINDINGS, lang, table_id="people-findings"),
    ])


def recorded(event: str, email: str, success: bool, detail: str | None = None) -> bool:
    """Record a look-up or report in the access log; False when it could not be recorded
    (then nothing is shown: a look-up nobody can account for does not happen)."""
    access_log = data.access_log()
    if access_log is None:   # a bare app without a log (tests); `insyn dashboard` always has one
        return True
    try:
        access_log.record(event, user=current_user() or "local", email=email, success=success, detail=detail)
    except Exception as exc:  # noqa: BLE001 - whatever failed, the look-up stays unshown
        log.error("access log: a %s could not be recorded (%s)", event, type(exc).__name__)
        return False
    return True

