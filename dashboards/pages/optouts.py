"""/optouts: marketing after opt-out, opt-outs out of sync, and first-notice gaps."""

import dash
from dash import Input, Output, callback, html

from dashboards import data
from dashboards.components.i18n import t
from dashboards.components.tables import table

dash.register_page(__name__, path="/optouts", name="optouts", order=3)

COLUMNS = [("record_id", "record"), ("email", "e-mail"), ("source", "source"), ("detail", "detail")]
SECTIONS = ["optout.marketing_after_optout", "optout.not_synced", "notice.first_mailing_missing",
            "notice.first_mailing_late"]


def layout(**_):
    return html.Div(id="optouts-body")


@callback(Output("optouts-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    found = data.q("findings", as_of=as_of, rule=None)
    catalog = data.q("rules_catalog").set_index("rule")
    title = "title_sv" if lang == "sv" else "title_en"
    body = [html.H1(t("optouts", lang)), html.P(f"{t('as of', lang)} {as_of.isoformat()}", className="lead")]
    for rule in SECTIONS:
        rows = found[found["rule"] == rule]
        heading = catalog[title].get(rule) or rule
        body.append(html.Div([html.H2(f"{heading} ({len(rows)})"),
                              table(rows, COLUMNS, lang, table_id="optouts-" + rule.replace(".", "-").replace("_", "-"))],
                             className="card"))
    return body
