"""/contacts: company-initiated contacts by time since their last dialogue, the deletion list
(CSV for a Salesforce bulk delete), those coming due, and whether flagged ones are gone.

Every list grows with the warehouse: each is a grid (components/grid.py) the server pages, and
the charts and the heading's count are counted in SQL (data.counted), never read row by row."""

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboards import data
from dashboards.components import figures, roles
from dashboards.components.grid import export, grid, rows
from dashboards.components.i18n import t
from dashboards.components.tables import download

dash.register_page(__name__, path="/contacts", name="contacts", order=2)

COMING_DAYS = 90   # the "coming due" list: retention ending within this many days


def layout(**_):
    return html.Div(id="contacts-body")


@callback(Output("contacts-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, _as_of):
    stale = data.counted("stale_contacts", {}, ("months_quiet", "is_due"))
    retention = int(data.q("policy_values")["retention_inactive_months"].iloc[0])
    deletion = int(data.counted("deletion_list", {}, ())["records"].iloc[0])
    coming = data.counted("coming_due", {"days": COMING_DAYS}, ("days_left",))
    # the two charts side by side; each list the page's whole width (its columns visible at 1280 px)
    return [
        html.H1(t("dashboard.nav.contacts", lang)),
        html.Div([
            html.Div(dcc.Graph(id="contacts-stale", figure=figures.stale_histogram(stale, lang, retention),
                               config={"displaylogo": False}), className="card"),
            html.Div(dcc.Graph(id="contacts-coming", figure=figures.coming_due_bar(coming, lang),
                               config={"displaylogo": False}), className="card"),
        ], className="grid2"),
        html.Div([html.H2(f"{t('dashboard.label.due_for_deletion', lang)} ({deletion})"),
                  download("contacts-download-button", "contacts-download", lang),
                  html.Div(grid("deletion", lang, "contacts-deletion"), id="contacts-deletion-" + lang)],
                 className="card"),
        html.Div([html.H2(t("dashboard.kpi.coming_due", lang)),
                  html.Div(grid("coming_due", lang, "contacts-coming-due"), id="contacts-coming-due-" + lang)],
                 className="card"),
        html.Div([html.H2(t("dashboard.label.deletion_evidence", lang)),
                  html.Div(grid("evidence", lang, "contacts-evidence"), id="contacts-evidence-" + lang)],
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


@callback(Output("contacts-evidence", "getRowsResponse"), Input("contacts-evidence", "getRowsRequest"),
          State("lang", "value"), prevent_initial_call=True)
def evidence_rows(request, lang):
    """One page of the records flagged before, those still present first."""
    return dash.no_update if request is None else rows("evidence", request, {}, lang)


@callback(Output("contacts-download", "data"), Input("contacts-download-button", "n_clicks"),
          State("contacts-deletion", "getRowsRequest"), State("lang", "value"), prevent_initial_call=True)
def download_deletion_list(_clicks, request=None, lang="en"):
    """The deletion list as the grid shows it (its filters and sort, every page): CSV for a bulk delete."""
    if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
        return dash.no_update
    return {"content": export("deletion", request, {}, lang),
            "filename": "deletion-list.csv", "type": "text/csv"}
