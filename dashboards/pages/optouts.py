"""/optouts: marketing after opt-out, opt-outs out of sync, and first-notice gaps."""

import dash
from dash import Input, Output, callback, html

from insyn.findings import title_id

from dashboards import data
from dashboards.components.i18n import in_language, t
from dashboards.components.tables import table

dash.register_page(__name__, path="/optouts", name="optouts", order=3)

COLUMNS = [("record_id", "dashboard.column.record"), ("email", "dashboard.column.e_mail"),
           ("source", "dashboard.column.source"), ("detail", "dashboard.column.detail")]
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
        body.append(html.Div([html.H2(f"{heading} ({len(rows)})"),
                              table(rows, COLUMNS, lang, table_id="optouts-" + rule.replace(".", "-").replace("_", "-"))],
                             className="card"))
    return body
