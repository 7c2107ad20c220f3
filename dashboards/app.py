"""The DPO's dashboard: a Dash Pages app over the published snapshot.

`create_app(reader, queries_dir)` builds the app; `insyn dashboard` serves it
with waitress. One module per page in pages/; figures are pure functions in
components/figures.py; data comes only through data.q (named queries).
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash import _callback as dash_callbacks

from . import data
from .components import grid, inputs, roles
from .components import i18n
from .components.i18n import SHOWN, t

HERE = Path(__file__).resolve().parent


def create_app(reader, queries_dir: Path, *, language: str = "sv", access_report=None, access_log=None,
               locale_dir: Path | None = None, sources=None) -> Dash:
    """`locale_dir` holds the workbench's catalogs (insyn.texts; None: the reference workbench's), and
    `language` may be the pseudo-language (insyn.texts.PSEUDO), which marks every word.
    `access_report(cursor, email=, lang=, fmt=, vouched_by=, recorded_by=) -> (file name, bytes, vouched)`
    produces the access report for the /people page (None: the page offers no button);
    `access_log` (insyn.accesslog.AccessLog) records each person look-up and report;
    `sources` (insyn.sources.Sources; None: the sources.toml beside `queries_dir`) says where /people looks."""
    state = data.configure(reader, queries_dir, access_report=access_report, access_log=access_log,
                           sources=sources)
    _drop_unclaimed_callbacks()
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
    i18n.configure(app.server, locale_dir)   # before the layout: the header is in words too
    # what the switch offers is all a client may ask for (the pseudo-language only where a test
    # made the app with it: a report in it is no letter to a person)
    offered = SHOWN + ((language,) if language not in SHOWN else ())
    app.server.extensions[i18n.OFFERED] = offered
    # the page's language for a screen reader from the first byte; assets/a11y.js follows the switch
    app.index_string = app.index_string.replace("<html>", f'<html lang="{_html_lang(language)}">', 1)
    # Dash's template holds its scripts in a <footer>: a second contentinfo landmark beside the
    # shell's own footer (axe: landmark-no-duplicate-contentinfo); scripts need no landmark
    app.index_string = app.index_string.replace("<footer>", "<div>", 1).replace("</footer>", "</div>", 1)
    app.layout = html.Div([
        dcc.Location(id="url"),
        # the as-of chosen, for this tab's next page load: Dash's own persistence left the menu
        # blank when the remembered date was no longer offered (the dropdown drops a value it does
        # not list, and the callbacks were refused the stale date)
        dcc.Store(id="as-of-chosen", storage_type="session"),
        # a filter chosen on the overview for the page it leads to (components/grid.py FILTER_STORE;
        # assets/filters.js): in the tab's state, never in a URL
        dcc.Store(id=grid.FILTER_STORE, storage_type="session"),
        html.Header([
            html.Div([t("dashboard.brand.name", language), html.Span(t("dashboard.brand.role", language))],
                     className="brand"),
            html.Nav(id="nav", className="pages"),
            html.Div([
                html.Div([html.Label(id="as-of-label", htmlFor="as-of"),
                          dcc.Dropdown(id="as-of", clearable=False, className="as-of")]),
                html.Div([
                    html.Span(id="lang-label", className="visually-hidden"),   # the switch's name (a11y.js)
                    dcc.RadioItems(id="lang", options=[{"label": code.upper(), "value": code} for code in offered],
                                   value=language, inline=True, className="lang",
                                   persistence=True, persistence_type="session"),
                ]),
            ], className="controls"),
        ], className="top"),
        html.Main(dash.page_container),
        html.Footer(id="footer", className="foot"),
    ], id="shell")
    app.server.extensions[data.EXTENSION] = state   # this app's data, when several run in one process
    app.callback(Output("nav", "children"), Output("as-of-label", "children"), Output("lang-label", "children"),
                 Input("lang", "value"), Input("url", "pathname"))(navigation)
    app.callback(Output("as-of", "options"), Output("as-of", "value"), Output("footer", "children"),
                 Input("url", "pathname"), Input("lang", "value"), State("as-of", "value"),
                 State("as-of-chosen", "data"))(as_of_choices)
    app.callback(Output("as-of-chosen", "data"), Input("as-of", "value"), prevent_initial_call=True)(remember_as_of)
    app.clientside_callback(ClientsideFunction("insyn", "setLanguage"), Output("shell", "lang"), Input("lang", "value"))
    chosen = Output(grid.FILTER_STORE, "data", allow_duplicate=True)
    app.clientside_callback(ClientsideFunction("insyn_filter", "choose"), chosen,
                            Input({"type": "overview-go", "index": ALL}, "n_clicks"),
                            State("overview-targets", "data"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("insyn_filter", "forget"), chosen, Input("url", "pathname"),
                            State(grid.FILTER_STORE, "data"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("insyn_filter", "clear"), chosen,
                            Input(grid.CLEAR_BUTTON, "n_clicks"), prevent_initial_call=True)
    _claim_page_callbacks(app)
    inputs.install(app)
    app.server.register_error_handler(Exception, _unexpected)
    return app


def _unexpected(exc):
    """A bug answers 500 and is logged by its type only: a traceback could quote a person's data
    (Flask would print it whole). A file Dash does not have is a 404, not a bug."""
    import logging

    import flask
    from dash.exceptions import DependencyException
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, HTTPException):
        return exc
    if isinstance(exc, DependencyException):
        return flask.Response("not found\n", status=404, mimetype="text/plain")
    logging.getLogger("insyn.dashboard").error("internal error (%s)", type(exc).__name__)
    return flask.jsonify({"error": "internal error"}), 500


# Dash Pages runs the page modules again for each app, and they register their callbacks with
# dash.callback, in Dash's global list, which the first app to serve a request takes. Each app
# takes its own at once, so that several apps in one process (the tests) each have theirs.

def _drop_unclaimed_callbacks() -> None:
    dash_callbacks.GLOBAL_CALLBACK_LIST.clear()
    dash_callbacks.GLOBAL_CALLBACK_MAP.clear()


def _claim_page_callbacks(app: Dash) -> None:
    app.callback_map.update(dash_callbacks.GLOBAL_CALLBACK_MAP)
    app._callback_list.extend(dash_callbacks.GLOBAL_CALLBACK_LIST)
    _drop_unclaimed_callbacks()


def navigation(lang, pathname):
    links = [dcc.Link(t(f"dashboard.nav.{page['name']}", lang), href=page["relative_path"],
                      className="active" if page["relative_path"] == pathname else None)
             for page in dash.page_registry.values() if roles.may_see_page(page["path"])]
    return links, t("dashboard.label.as_of", lang), t("dashboard.label.language", lang)


def as_of_choices(_pathname, lang, shown, remembered):
    """The dates offered, and the one shown: the menu's, else the one remembered for this tab,
    else the newest; never one the snapshot does not offer (a stale remembered date is dropped)."""
    options = [{"label": d.isoformat(), "value": d.isoformat()} for d in data.as_of_dates()]
    values = {o["value"] for o in options}
    value = next((v for v in (shown, remembered) if v in values), options[0]["value"] if options else None)
    return options, value, f"{t('dashboard.label.snapshot', lang)}: {data.snapshot_name()}"


def remember_as_of(value):
    return value if value is not None else dash.no_update


def _html_lang(language: str) -> str:
    """The BCP 47 tag for <html lang>: a language of the switch, else (the pseudo-language) English."""
    return language if language in SHOWN else "en"
