"""The DPO's dashboard: a Dash Pages app over the published snapshot.

`create_app(reader, queries_dir)` builds the app; `insyn dashboard` serves it
with waitress. One module per page in pages/; figures are pure functions in
components/figures.py; data comes only through data.q (named queries).
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Dash, Input, Output, callback, dcc, html

from . import data
from .components.i18n import LANGUAGES, t

HERE = Path(__file__).resolve().parent


def create_app(reader, queries_dir: Path, *, language: str = "sv", access_report=None) -> Dash:
    """`access_report(cursor, email=, lang=, fmt=, vouched_by=, recorded_by=) -> (file name, bytes)`
    produces the access report for the /people page (None: the page offers no button)."""
    data.configure(reader, queries_dir, access_report=access_report)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title="Insyn",
        update_title=None,
        serve_locally=True,             # plotly.js and Dash's bundles come from this server
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div([
        dcc.Location(id="url"),
        html.Header([
            html.Div(["Insyn", html.Span("DPO")], className="brand"),
            html.Nav(id="nav", className="pages"),
            html.Div([
                html.Div([html.Label(id="as-of-label", htmlFor="as-of"),
                          dcc.Dropdown(id="as-of", clearable=False, className="as-of",
                                       persistence=True, persistence_type="session")]),
                dcc.RadioItems(id="lang", options=[{"label": code.upper(), "value": code} for code in LANGUAGES],
                               value=language, inline=True, className="lang",
                               persistence=True, persistence_type="session"),
            ], className="controls"),
        ], className="top"),
        html.Main(dash.page_container),
        html.Footer(id="footer", className="foot"),
    ])
    return app


@callback(Output("nav", "children"), Output("as-of-label", "children"), Input("lang", "value"),
          Input("url", "pathname"))
def navigation(lang, pathname):
    links = [dcc.Link(t(page["name"], lang), href=page["relative_path"],
                      className="active" if page["relative_path"] == pathname else None)
             for page in dash.page_registry.values()]
    return links, t("as of", lang)


@callback(Output("as-of", "options"), Output("as-of", "value"), Output("footer", "children"),
          Input("url", "pathname"), Input("lang", "value"), dash.State("as-of", "value"))
def as_of_choices(_pathname, lang, chosen):
    options = [{"label": d.isoformat(), "value": d.isoformat()} for d in data.as_of_dates()]
    values = {o["value"] for o in options}
    value = chosen if chosen in values else (options[0]["value"] if options else None)
    return options, value, f"{t('snapshot', lang)}: {data.snapshot_name()}"
