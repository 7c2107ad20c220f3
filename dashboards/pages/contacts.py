"""/contacts: company-initiated contacts by time since their last dialogue, the deletion list
(CSV for a Salesforce bulk delete), those coming due, and whether flagged ones are gone."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import data
from dashboards.components import figures, roles
from dashboards.components.i18n import in_language, t
from dashboards.components.tables import download, table
from insyn.csvsafe import to_csv

dash.register_page(__name__, path="/contacts", name="contacts", order=2)

DELETION = [("crm_id", "dashboard.column.crm_id"), ("sobject", "dashboard.column.object"),
            ("email", "dashboard.column.e_mail"), ("created_on", "dashboard.column.created"),
            ("detail", "dashboard.column.detail")]
COMING = [("record_id", "dashboard.column.crm_id"), ("source", "dashboard.column.source"),
          ("email_key", "dashboard.column.e_mail"), ("last_dialogue_on", "dashboard.column.last_dialogue"),
          ("due_on", "dashboard.column.due"), ("days_left", "dashboard.label.days")]
EVIDENCE = [("record_id", "dashboard.column.crm_id"), ("source", "dashboard.column.source"),
            ("first_flagged_on", "dashboard.column.first_flagged"), ("is_gone", "dashboard.column.gone")]


def layout(**_):
    return html.Div(id="contacts-body")


@callback(Output("contacts-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, _as_of):
    stale = data.q("stale_contacts")
    retention = int(data.q("policy_values")["retention_inactive_months"].iloc[0])
    deletion = in_language(data.q("deletion_list"), lang)
    coming = data.q("coming_due", days=90)
    evidence = data.q("deletion_evidence")
    return [
        html.H1(t("dashboard.nav.contacts", lang)),
        html.Div(dcc.Graph(id="contacts-stale", figure=figures.stale_histogram(stale, lang, retention),
                           config={"displaylogo": False}), className="card"),
        html.Div([html.H2(f"{t('dashboard.label.due_for_deletion', lang)} ({len(deletion)})"),
                  download("contacts-download-button", "contacts-download", lang),
                  table(deletion, DELETION, lang, table_id="contacts-deletion")], className="card"),
        html.Div([
            html.Div(dcc.Graph(id="contacts-coming", figure=figures.coming_due_bar(coming, lang),
                               config={"displaylogo": False}), className="card"),
            html.Div([html.H2(t("dashboard.kpi.coming_due", lang)), table(coming, COMING, lang)], className="card"),
        ], className="grid2"),
        html.Div([html.H2(t("dashboard.label.deletion_evidence", lang)), table(evidence, EVIDENCE, lang, highlight=None)],
                 className="card"),
    ]


@callback(Output("contacts-download", "data"), Input("contacts-download-button", "n_clicks"),
          prevent_initial_call=True)
def download_deletion_list(_clicks):
    if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
        return dash.no_update
    deletion = data.q("deletion_list")
    return {"content": to_csv(deletion[["crm_id", "sobject", "email", "created_on", "detail"]]),
            "filename": "deletion-list.csv", "type": "text/csv"}
