"""/optouts: marketing after opt-out, opt-outs out of sync, and first-notice gaps.

A marketing mailing after an opt-out is shown one row per mailing (query optout_breaches: the
opt-out's date, the mailing's date and its campaign, read back from the event ids the rule named);
a finding whose mailings cannot be read back keeps its detail."""

import dash
from dash import Input, Output, callback, html

from insyn.findings import title_id

from dashboards import data
from dashboards.components.i18n import in_language, t
from dashboards.components.tables import table

dash.register_page(__name__, path="/optouts", name="optouts", order=3)

COLUMNS = [("record_id", "dashboard.column.record"), ("email", "dashboard.column.e_mail"),
           ("source", "dashboard.column.source"), ("detail", "dashboard.column.detail")]
BREACH = "optout.marketing_after_optout"
BREACHES = [("record_id", "dashboard.column.record"), ("opted_out_on", "dashboard.column.opted_out_on"),
            ("mailed_on", "dashboard.column.mailed_on"), ("campaign", "dashboard.column.campaign"),
            ("event_id", "dashboard.column.event_id")]
SECTIONS = ["optout.marketing_after_optout", "optout.not_synced", "notice.first_mailing_missing",
            "notice.first_mailing_late"]


def layout(**_):
    return html.Div(id="optouts-body")


@callback(Output("optouts-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    found = in_language(data.q("findings", as_of=as_of, rule=None), lang)
    body = [html.H1(t("dashboard.nav.optouts", lang)),
            html.P(f"{t('dashboard.label.as_of', lang)} {as_of.isoformat()}", className="lead")]
    for rule in SECTIONS:
        rows = found[found["rule"] == rule]
        heading = t(title_id(rule), lang)
        table_id = "optouts-" + rule.replace(".", "-").replace("_", "-")
        shown = breaches(rows, as_of, lang, table_id) if rule == BREACH else table(rows, COLUMNS, lang, table_id=table_id)
        body.append(html.Div([html.H2(f"{heading} ({len(rows)})"), shown], className="card"))
    return body


def breaches(rows, as_of, lang: str, table_id: str):
    """The rule's findings one row per mailing, with the dates and campaign; a finding whose
    mailings were not found (no event id) keeps its detail in a column of its own."""
    if rows.empty:
        return table(rows, BREACHES, lang, table_id=table_id)
    mailings = data.q("optout_breaches", as_of=as_of)
    merged = rows[["record_id", "detail"]].merge(mailings.drop(columns=["email"], errors="ignore"),
                                                 on="record_id", how="left")
    unread = merged["mailed_on"].isna()
    columns = BREACHES + ([("detail", "dashboard.column.detail")] if unread.any() else [])
    merged.loc[~unread, "detail"] = None
    return table(merged, columns, lang, table_id=table_id)
