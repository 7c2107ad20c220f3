"""/transfers: the sub-processor register with each transfer basis judged, and the policy text's own findings.

Both tables stay plain HTML tables: they are bounded by nature, not by the warehouse's size (the
sub-processors a company contracts, a few dozen at most; the findings of one policy text, a line each
at most), so every row is sent. Mechanisms and reasons are shown in words (i18n.label, reasons_in),
rules by their titles, never their ids. The overview's links narrow the register to a sub-processor
or to those without a valid basis (grid.FILTER_STORE, as a grid's filter)."""

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboards.components.grid import FILTER_STORE, filtered_to, narrowed

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


@callback(Output("transfers-body", "children"), Input("lang", "value"), Input("as-of", "value"),
          Input(FILTER_STORE, "data"))
def render(lang, as_of_value, chosen=None):
    as_of = data.parse_as_of(as_of_value)
    whole = data.q("subprocessors")   # the chart: every sub-processor, whatever the table shows
    register = reasons_in(narrowed("subprocessors", chosen, {}, lang), lang)
    register = register.assign(is_invalid=~register["is_transfer_valid"]) if not register.empty else register
    # the policy text's rules' findings only: every finding of the warehouse would be hundreds
    # of thousands of rows read for a table of a few
    rules = [r for r in data.q("rules_catalog")["rule"] if r.startswith("policy.")]
    found = [data.q("findings", as_of=as_of, rule=rule) for rule in rules] \
        or [data.q("findings", as_of=as_of, rule="")]   # no such rule: the table empty, with its columns
    policy = in_language(pd.concat(found, ignore_index=True), lang)
    policy = policy.assign(title=[t(title_id(rule), lang) for rule in policy["rule"]])   # a rule by its title
    # each table the page's whole width: a file's path and a finding's detail need it at 1280 px
    return [
        html.H1(t("dashboard.nav.transfers", lang)),
        html.Div(dcc.Graph(id="transfers-bar", figure=figures.transfers_bar(whole, lang),
                           config={"displaylogo": False}), className="card"),
        html.Div([part for part in (html.H2(t("dashboard.label.subprocessors", lang)),
                                    filtered_to(chosen, "subprocessors", lang),
                                    table(register, REGISTER, lang, highlight="is_invalid", table_id="transfers-register"))
                  if part is not None], className="card"),
        html.Div([html.H2(t("dashboard.label.policy_text", lang)), table(policy, POLICY, lang, table_id="transfers-policy")],
                 className="card"),
    ]
