"""/transfers: the sub-processor register with each transfer basis judged, and the policy text's own findings."""

import dash
from dash import Input, Output, callback, dcc, html

from insyn.findings import title_id

from dashboards import data
from dashboards.components import figures
from dashboards.components.i18n import in_language, reasons_in, t
from dashboards.components.tables import table

dash.register_page(__name__, path="/transfers", name="transfers", order=5)

REGISTER = [("subprocessor_name", "dashboard.column.subprocessor"), ("country_iso2", "dashboard.column.country"),
            ("processing_role", "dashboard.column.role"), ("transfer_mechanism", "dashboard.column.mechanism"),
            ("is_transfer_valid", "dashboard.column.valid"), ("invalid_reason", "dashboard.column.reason")]
POLICY = [("title", "dashboard.column.rule"), ("record_id", "dashboard.column.record"),
          ("count", "dashboard.column.count"), ("detail", "dashboard.column.detail")]


def layout(**_):
    return html.Div(id="transfers-body")


@callback(Output("transfers-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    register = reasons_in(data.q("subprocessors"), lang)
    register = register.assign(is_invalid=~register["is_transfer_valid"]) if not register.empty else register
    found = in_language(data.q("findings", as_of=as_of, rule=None), lang)
    policy = found[found["rule"].str.startswith("policy.")]
    policy = policy.assign(title=[t(title_id(rule), lang) for rule in policy["rule"]])   # a rule by its title
    return [
        html.H1(t("dashboard.nav.transfers", lang)),
        html.Div([
            html.Div(dcc.Graph(id="transfers-bar", figure=figures.transfers_bar(register, lang),
                               config={"displaylogo": False}), className="card"),
            html.Div([html.H2(t("dashboard.label.policy_text", lang)), table(policy, POLICY, lang, table_id="transfers-policy")],
                     className="card"),
        ], className="grid2"),
        html.Div([html.H2(t("dashboard.label.subprocessors", lang)),
                  table(register, REGISTER, lang, highlight="is_invalid", table_id="transfers-register")],
                 className="card"),
    ]
