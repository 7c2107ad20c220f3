"""/ : the state of each promise at the as-of date, with the change since the last check.

A promise whose rules were not evaluated (what they need was never loaded) shows "not
evaluated", never a green 0; the rules and suites not evaluated are listed below the cards."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.i18n import catalog, suite_label, t
from dashboards.components.tables import kpi
from insyn import findings

dash.register_page(__name__, path="/", name="overview", order=0)

# KPI: (its id, its words' message id, rules whose findings it counts)
PROMISES = [
    ("contacts-due-for-deletion", "dashboard.kpi.contacts_due_for_deletion", ["retention.inactive_company_initiated"]),
    ("opt-out-breaches", "dashboard.kpi.opt_out_breaches", ["optout.marketing_after_optout", "optout.not_synced"]),
    ("first-notice-gaps", "dashboard.kpi.first_notice_gaps",
     ["notice.first_mailing_late", "notice.first_mailing_missing"]),
    ("request-deadlines-missed", "dashboard.kpi.request_deadlines_missed",
     ["dsar.legal_deadline_missed", "dsar.extended_deadline_missed"]),
]


REQUESTS_RULE = "dsar.legal_deadline_missed"   # judges the register: the request cards rest on it
NOT_EVALUATED_TONE = "not-evaluated"


def not_evaluated_card(unable, lang):
    """The rules and suites not evaluated at the as-of, and why, in `lang` (None when there are none)."""
    if unable.empty:
        return None
    words = catalog(lang)
    rows = unable.to_dict("records")
    rules = findings.not_evaluated_lines([r for r in rows if isinstance(r["rule"], str)], words)
    suites = [t("dashboard.overview.suite_not_evaluated", lang, suite=suite_label(r["suite"], lang),
                sources=", ".join(str(r["missing_sources"] or "").split(",")))
              for r in rows if not isinstance(r["rule"], str)]   # a suite (rule NULL)
    return html.Div([html.H2(t("dashboard.overview.not_evaluated_heading", lang)),
                     html.P(t("dashboard.overview.not_evaluated_intro", lang)),
                     html.Ul([html.Li(line) for line in rules + suites])],
                    className="card", id="overview-not-evaluated")


def promise_card(label, rules, counts, before, unable, lang, kpi_id):
    """A promise's card: its findings, or "not evaluated" when a rule behind it was not and found
    nothing (a 0 there is no answer); with findings, it says the count may be partial."""
    value = sum(int(counts.get(r, 0)) for r in rules)
    missing = [r for r in rules if r in unable]
    if missing and not value:
        return kpi(label, t("dashboard.kpi.not_evaluated", lang), tone=NOT_EVALUATED_TONE, kpi_id=kpi_id)
    delta = value - sum(int(before.get(r, 0)) for r in rules) if before else None
    if missing:
        label = f"{label} ({t('dashboard.kpi.partly_not_evaluated', lang)})"
    return kpi(label, value, delta=delta, tone="bad" if value else "good", kpi_id=kpi_id)


def layout(**_):
    return html.Div(id="overview-body", className="page")


def previous_counts(trend, as_of):
    """Findings per rule at the checked as-of before this one (empty when none)."""
    if trend.empty:   # never checked yet (an empty frame's dates are not dates)
        return {}
    days = trend["as_of"].map(data.to_date)
    earlier = trend[days < as_of]
    if earlier.empty:
        return {}
    last = earlier[days[earlier.index] == days[earlier.index].max()]
    return dict(zip(last["rule"], last["findings"]))


@callback(Output("overview-body", "children"), Input("as-of", "value"), Input("lang", "value"))
def render(as_of_value, lang):
    as_of = data.parse_as_of(as_of_value)
    by_rule = data.q("findings_by_rule", as_of=as_of)
    counts = dict(zip(by_rule["rule"], by_rule["findings"]))
    trend = data.q("findings_trend")
    before = previous_counts(trend, as_of)
    requests = data.q("dsar_timeline", year=None, request_type=None, status=None)
    checks = data.q("check_results", as_of=as_of)
    unable_rows = data.q("not_evaluated", as_of=as_of)
    unable = set(by_rule.loc[by_rule["not_evaluated"].astype(bool), "rule"]) if not by_rule.empty else set()
    not_evaluated = t("dashboard.kpi.not_evaluated", lang)
    if REQUESTS_RULE in unable:   # no register loaded: no request is known, none is overdue
        cards = [kpi(t("dashboard.kpi.open_requests", lang), not_evaluated, tone=NOT_EVALUATED_TONE,
                     kpi_id="kpi-open-requests"),
                 kpi(t("dashboard.kpi.overdue_requests", lang), not_evaluated, tone=NOT_EVALUATED_TONE)]
    else:
        cards = [
            kpi(t("dashboard.kpi.open_requests", lang), int(requests["is_open"].sum()), kpi_id="kpi-open-requests"),
            kpi(t("dashboard.kpi.overdue_requests", lang), int((requests["is_open"] & requests["is_overdue"]).sum()),
                tone="bad" if (requests["is_open"] & requests["is_overdue"]).any() else "good"),
        ]
    for name, msgid, rules in PROMISES:
        cards.append(promise_card(t(msgid, lang), rules, counts, before, unable, lang, "kpi-" + name))
    failing = int((checks["success"] == False).sum()) if not checks.empty else 0  # noqa: E712 (a column)
    if not failing and (checks.empty or not unable_rows.empty):   # never run, or run in part: no green 0
        cards.append(kpi(t("dashboard.kpi.failing_checks", lang), not_evaluated, tone=NOT_EVALUATED_TONE,
                         kpi_id="kpi-failing-checks"))
    else:
        cards.append(kpi(t("dashboard.kpi.failing_checks", lang), failing, tone="bad" if failing else "good",
                         kpi_id="kpi-failing-checks"))
    body = [
        html.H1(t("dashboard.nav.overview", lang)),
        html.P(f"{t('dashboard.label.as_of', lang)} {as_of.isoformat()}", className="lead"),
        html.Div(cards, className="kpis"),
        not_evaluated_card(unable_rows, lang),
        html.Div([dcc.Graph(id="overview-promises", figure=figures.promises_bar(by_rule, lang),
                            config={"displaylogo": False})], className="card"),
        html.Div([dcc.Graph(id="overview-trend", figure=figures.findings_trend(trend, lang,
                                                                               titles=data.q("rules_catalog")),
                            config={"displaylogo": False})], className="card"),
    ]
    return [part for part in body if part is not None]
