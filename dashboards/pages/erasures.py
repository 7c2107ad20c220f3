"""/erasures: each erasure carried out on paper and whether the systems show it done: every place a
later export still holds the person (the rule erasure.not_executed), those not carried out first.

The list is a grid the server pages (components/grid.py "erasures"); it names a request or
ledger entry and the source's own record id, never an e-mail. Its CSV is the DPO's only (record
ids of people who asked to be erased). The overview's links start it filtered (FILTER_STORE)."""

import dash
from dash import Input, Output, State, callback, html

from dashboards import data
from dashboards.components import roles
from dashboards.components.exports import judged_from, rule_sources
from dashboards.components.grid import FILTER_STORE, afresh, export, filtered_to, grid, rows
from dashboards.components.i18n import t
from dashboards.components.tables import download

dash.register_page(__name__, path="/erasures", name="erasures", order=1.5)

RULE = "erasure.not_executed"


def layout(**_):
    return html.Div(id="erasures-body")


@callback(Output("erasures-body", "children"), Input("lang", "value"), Input("as-of", "value"),
          Input(FILTER_STORE, "data"))
def render(lang, _as_of_value, chosen=None):
    # the erasures and the exports holding people are the snapshot's marts: judged at the date it
    # was built for, whatever date the menu shows (the page says which)
    as_of = data.built_as_of()
    by_rule = data.q("findings_by_rule", as_of=as_of)
    rule = by_rule[by_rule["rule"] == RULE]
    unable = not rule.empty and bool(rule["not_evaluated"].iloc[0])
    source = judged_from(RULE, lang)
    intro = [html.P(f"{t('dashboard.label.as_of', lang)} {as_of.isoformat()}", className="lead"),
             html.P(t("dashboard.erasures.intro", lang)),
             html.P(f"{t('dashboard.queue.judged_from', lang)}: {source or t('dashboard.queue.no_export', lang)}",
                    className="note", id="erasures-judged-from")]
    if unable:
        intro.append(html.P(t("dashboard.erasures.not_evaluated", lang), className="empty",
                            id="erasures-not-evaluated"))
    return [
        html.H1(t("dashboard.nav.erasures", lang)),
        *intro,
        html.Div([part for part in (html.H2(t("dashboard.erasures.heading", lang)),
                                    download("erasures-download-button", "erasures-download", lang),
                                    filtered_to(chosen, "erasures", lang),
                                    afresh(grid("erasures", lang, "erasures-grid", chosen), "erasures-grid",
                                           lang, chosen)) if part is not None],
                 className="card"),
    ]


@callback(Output("erasures-grid", "getRowsResponse"), Input("erasures-grid", "getRowsRequest"),
          State("lang", "value"), prevent_initial_call=True)
def erasure_rows(request, lang):
    """One page of the erasures, those not carried out first, sorted and filtered here."""
    return dash.no_update if request is None else rows("erasures", request, _params(), lang)


def _params() -> dict:
    """What the list needs: the source kinds the rule reads (an erasure no later export of them
    shows is carried out only once each has an export after it)."""
    return {"sources": list(rule_sources(RULE))}


@callback(Output("erasures-download", "data"), Input("erasures-download-button", "n_clicks"),
          State("erasures-grid", "getRowsRequest"), State("lang", "value"), prevent_initial_call=True)
def download_erasures(_clicks, request=None, lang="en"):
    """The erasures as the grid shows them (its filters and sort, every page), as CSV."""
    if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
        return dash.no_update
    return {"content": export("erasures", request, _params(), lang), "filename": "erasures.csv", "type": "text/csv"}
