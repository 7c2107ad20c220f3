"""/people: look a person up by e-mail. The address travels in the callback, never in the URL."""

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboards import data
from dashboards.components.i18n import t
from dashboards.components.tables import table

dash.register_page(__name__, path="/people", name="people", order=6)

COLUMNS = [("area", "area"), ("source", "source"), ("record_id", "record"), ("detail", "detail"), ("on_date", "date")]


def layout(**_):
    return html.Div([
        html.H1(id="people-title"),
        html.Div([dcc.Input(id="people-email", type="email", autoComplete="off", debounce=False),
                  html.Button(id="people-search", className="button", n_clicks=0)], className="search"),
        html.Div(id="people-result"),
    ])


@callback(Output("people-title", "children"), Output("people-search", "children"),
          Output("people-email", "placeholder"), Input("lang", "value"))
def labels(lang):
    return t("people", lang), t("search", lang), t("e-mail", lang)


@callback(Output("people-result", "children"), Input("people-search", "n_clicks"),
          State("people-email", "value"), State("lang", "value"), prevent_initial_call=True)
def look_up(_clicks, email, lang):
    if not email or not email.strip():
        return html.P(t("enter an address", lang), className="empty")
    rows = data.q("person", email=email)
    if rows.empty:
        return html.P(t("nothing held", lang), className="empty")
    return table(rows, COLUMNS, lang, table_id="people-rows")
