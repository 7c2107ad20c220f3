"""/transfers: the sub-processor register with each transfer basis judged, and the policy text's own findings."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.i18n import t
from dashboards.components.tables import table

dash.register_page(__name__, path="/transfers", name="transfers", order=5)

REGISTER = [("subprocessor_name", "sub-processor"), ("country_iso2", "country"), ("processing_role", "role"),
            ("transfer_mechanism", "mechanism"), ("is_transfer_valid", "valid"), ("invalid_reason", "reason")]
POLICY = [("rule", "rule"), ("record_id", "record"), ("count", "count"), ("detail", "detail")]


def layout(**_):
    return html.Div(id="transfers-body")


@callback(Output("transfers-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    register = data.q("subprocessors")
    register = register.assign(is_invalid=~register["is_transfer_valid"]) if not register.empty else register
    found = data.q("findings", as_of=as_of, rule=None)
    policy = found[found["rule"].str.startswith("policy.")]
    return [
        html.H1(t("transfers", lang)),
        html.Div([
            html.Div(dcc.Graph(id="transfers-bar", figure=figures.transfers_bar(register, lang),
                               config={"displaylogo": False}), className="card"),
            html.Div([html.H2(t("policy text", lang)), table(policy, POLICY, lang, table_id="transfers-policy")],
                     className="card"),
        ], className="grid2"),
        html.Div([html.H2(t("sub-processors", lang)),
                  table(register, REGISTER, lang, highlight="is_invalid", table_id="transfers-register")],
                 className="card"),
    ]
