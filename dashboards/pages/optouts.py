"""/optouts: marketing after opt-out, opt-outs out of sync, and first-notice gaps.

Each list is a grid (components/grid.py) the server pages, sorts and filters: it grows with the
warehouse, so no callback sends more than a page of it; a heading's count is counted in SQL.
A marketing mailing after an opt-out is shown one row per mailing (query optout_breach_list: the
opt-out's date, the mailing's date and its campaign, read back from the event ids the rule named);
a finding whose mailings cannot be read back keeps its detail. The lists name people: only the
DPO exports them (components/roles.py)."""

from dataclasses import dataclass

import dash
from dash import Input, Output, State, callback, html

from insyn.findings import title_id

from dashboards import data
from dashboards.components import roles
from dashboards.components.grid import afresh, export, grid, rows
from dashboards.components.i18n import t
from dashboards.components.tables import download

dash.register_page(__name__, path="/optouts", name="optouts", order=3)


@dataclass(frozen=True)
class Section:
    rule: str
    listing: str        # its list in grid.LISTS
    slug: str           # its components' ids: <slug>-grid, <slug>-export-button, <slug>-export

    def params(self, as_of) -> dict:
        return {"as_of": as_of} | ({"rule": self.rule} if self.listing == "rule_findings" else {})


SECTIONS = (Section("optout.marketing_after_optout", "optout_breaches", "optouts-breaches"),
            Section("optout.not_synced", "rule_findings", "optouts-not-synced"),
            Section("notice.first_mailing_missing", "rule_findings", "optouts-notice-missing"),
            Section("notice.first_mailing_late", "rule_findings", "optouts-notice-late"))


def layout(**_):
    return html.Div(id="optouts-body")


@callback(Output("optouts-body", "children"), Input("lang", "value"), Input("as-of", "value"))
def render(lang, as_of_value):
    as_of = data.parse_as_of(as_of_value)
    counts = data.q("findings_by_rule", as_of=as_of)
    counted = dict(zip(counts["rule"], counts["findings"]))
    unable = set(counts.loc[counts["not_evaluated"].astype(bool), "rule"]) if not counts.empty else set()
    body = [html.H1(t("dashboard.nav.optouts", lang)),
            html.P(f"{t('dashboard.label.as_of', lang)} {as_of.isoformat()}", className="lead")]
    for section in SECTIONS:
        heading = f"{t(title_id(section.rule), lang)} ({how_many(section.rule, counted, unable, lang)})"
        body.append(html.Div([
            html.H2(heading),
            download(section.slug + "-export-button", section.slug + "-export", lang),
            afresh(grid(section.listing, lang, section.slug + "-grid"), section.slug, as_of.isoformat(), lang),
        ], className="card"))
    return body


def how_many(rule, counted, unable, lang) -> str:
    """A list's count for its heading; a rule not evaluated has none (its 0 is no answer)."""
    found = int(counted.get(rule, 0))
    if rule not in unable:
        return str(found)
    not_evaluated = t("dashboard.kpi.not_evaluated", lang)
    return f"{found}, {t('dashboard.kpi.partly_not_evaluated', lang)}" if found else not_evaluated


def _page(section: Section):
    def page_rows(request, as_of_value, lang):
        """One page of the section's list, sorted and filtered here; a viewer sees e-mails abbreviated."""
        if request is None:
            return dash.no_update
        return rows(section.listing, request, section.params(data.parse_as_of(as_of_value)), lang)
    return page_rows


def _export(section: Section):
    def export_rows(_clicks, request, as_of_value, lang):
        """The list as the grid shows it (its filters and sort, every page) as CSV: the DPO's only."""
        if not roles.is_dpo():   # the request hook has answered 403 already; a second lock on the door
            return dash.no_update
        content = export(section.listing, request, section.params(data.parse_as_of(as_of_value)), lang)
        return {"content": content, "filename": section.slug.removeprefix("optouts-") + ".csv",
                "type": "text/csv"}
    return export_rows


# one rows callback and one export callback per list (named *_rows: tests and benchmarks find them)
for _section in SECTIONS:
    _name = _section.slug.removeprefix("optouts-").replace("-", "_")
    globals()[_name + "_rows"] = callback(
        Output(_section.slug + "-grid", "getRowsResponse"), Input(_section.slug + "-grid", "getRowsRequest"),
        State("as-of", "value"), State("lang", "value"), prevent_initial_call=True)(_page(_section))
    globals()[_name + "_export"] = callback(
        Output(_section.slug + "-export", "data"), Input(_section.slug + "-export-button", "n_clicks"),
        State(_section.slug + "-grid", "getRowsRequest"), State("as-of", "value"), State("lang", "value"),
        prevent_initial_call=True)(_export(_section))
