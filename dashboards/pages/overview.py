"""/ : the state of each promise at the as-of date, with the change since the last check."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.i18n import t
from dashboards.components.tables import kpi

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
    cards = [
        kpi(t("dashboard.kpi.open_requests", lang), int(requests["is_open"].sum()), kpi_id="kpi-open-requests"),
        kpi(t("dashboard.kpi.overdue_requests", lang), int((requests["is_open"] & requests["is_overdue"]).sum()),
            tone="bad" if (requests["is_open"] & requests["is_overdue"]).any() else "good"),
    ]
    for name, msgid, rules in PROMISES:
        value = sum(int(counts.get(r, 0)) for r in rules)
        delta = value - sum(int(before.get(r, 0)) for r in rules) if before else None
        cards.append(kpi(t(msgid, lang), value, delta=delta, tone="bad" if value else "good", kpi_id="kpi-" + name))
    failing = int((~checks["success"]).sum()) if not checks.empty else 0
    cards.append(kpi(t("dashboard.kpi.failing_checks", lang), failing, tone="bad" if failing else "good",
                     kpi_id="kpi-failing-checks"))
    return [
        html.H1(t("dashboard.nav.overview", lang)),
        html.P(f"{t('dashboard.label.as_of', lang)} {as_of.isoformat()}", className="lead"),
        html.Div(cards, className="kpis"),
        html.Div([dcc.Graph(id="overview-promises", figure=figures.promises_bar(by_rule, lang),
                            config={"displaylogo": False})], className="card"),
        html.Div([dcc.Graph(id="overview-trend", figure=figures.findings_trend(trend, lang,
                                                                               titles=data.q("rules_catalog")),
                            config={"displaylogo": False})], className="card"),
    ]
