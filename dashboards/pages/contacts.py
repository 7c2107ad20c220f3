"""/contacts: company-initiated contacts by time since their last dialogue, the deletion list
(CSV for a Salesforce bulk delete), those coming due, and whether flagged ones are gone."""

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboards import data
from dashboards.components import figures, roles
from dashboards.components.grid import export, grid, rows
from dashboards.components.i18n import t
from dashboards.components.tables import download, table

dash.register_page(__name__, path="/contacts", name="contacts", order=2)

COMING_DAYS = 90   # the "coming due" list: retention ending within this many days
EVIDENCE = [("record_id", "dashboard.column.crm_id"), ("source", "dashboard.column.source"),
            ("first_flagged_on", "dashboard.column.first_flagged"), ("is_gone", "dashboard.column.gone")]


def layout(**_):
    return html.Div(id="contacts-body")


@callback(Output("contacts-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, _as_of):
    stale = data.q("stale_contacts")
    retention = int(data.q("policy_values")["retention_inactive_months"].iloc[0])
    deletion = data.q("deletion_list")
    coming = data.q("coming_due", days=COMING_DAYS)
    evidence = data.q("deletion_evidence")
    return [
        html.H1(t("dashboard.nav.contacts", lang)),
        html.Div(dcc.Graph(id="contacts-stale", figure=figures.stale_histogram(stale, lang, retention),
                           config={"displaylogo": False}), className="card"),
        html.Div([html.H2(f"{t('dashboard.label.due_for_deletion', lang)} ({len(deletion)})"),
                  download("contacts-download-button", "contacts-download", lang),
                  html.Div(grid("deletion", lang, "contacts-deletion"), id="contacts-deletion-" + lang)],
                 className="card"),
        html.Div([
            html.Div(dcc.Graph(id="contacts-coming", figure=figures.coming_due_bar(coming, lang),
                               config={"displaylogo": False}), className="card"),
            html.Div([html.H2(t("dashboard.kpi.coming_due", lang)),
                      html.Div(grid("coming_due", lang, "contacts-coming-due"), id="contacts-coming-due-" + lang)],
                     className="card"),
        ], className="grid2"),
        html.Div([html.H2(t("dashboard.label.deletion_evidence", lang)), table(evidence, EVIDENCE, lang, highlight=None)],
                 className="card"),
    ]


@callback(Output("contacts-deletion", "getRowsResponse"), Input("contacts-deletion", "getRowsRequest"),
          State("lang", "value"), prevent_initial_call=True)
def deletion_rows(request, lang):
    """One page of the deletion list, sorted and filtered here; a viewer sees e-mails abbreviated."""
    return dash.no_update if request is None else rows("deletion", request, {}, lang)


@callback(Output("contacts-coming-due", "getRowsResponse"), Input("contacts-coming-due", "getRowsRequest"),
          State("lang", "value"), prevent_initial_call=True)
def coming_due_rows(request, lang):
    """One page of the records coming due, nearest first."""
    return dash.no_update if request is None else rows("coming_due", request, {"days": COMING_DAYS}, lang)


@callback(Output("contacts-download", "data"), Input("contacts-download-button", "n_clicks"),
          State("contacts-deletion", "getRowsRequest"), State("lang", "value"), prevent_initial_call=True)
def download_deletion_list(_clicks, request=None, lang="en"):
    """The deletion list as the grid shows it (its filters and sort, every page): CSV for a bulk delete."""
    if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
        return dash.no_update
    return {"content": export("deletion", request, {}, lang),
            "filename": "deletion-list.csv", "type": "text/csv"}
