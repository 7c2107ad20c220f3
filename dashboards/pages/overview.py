"""/ : what needs doing today, then the state of each promise at the as-of date.

The work queue lists what is due or overdue, nearest deadline first, with the days left: open
requests by their applicable deadline (the list `insyn dsar due` prints), erasures not carried
out, transfers without a valid basis one by one (a few of each, then "and N more"); contacts past
retention and first notices missing as one line each (a count and the earliest due date: at 5 M
contacts they number hundreds of thousands). It names no person: a request or an erasure by its
id, a transfer by its sub-processor. Each list says which export it was judged from; a rule not
evaluated shows as such, never as an empty line. The queue is read-only: an item leaves when the
next export or register shows it done.

Each item and card leads to the page that shows it, filtered to it: the filter travels in the
tab's state (components/grid.py FILTER_STORE, assets/filters.js), never in the URL.

A promise whose rules were not evaluated (what they need was never loaded) shows "not
evaluated", never a green 0; the rules and suites not evaluated are listed below the cards."""

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboards import data
from dashboards.components import figures
from dashboards.components.exports import judged_from
from dashboards.components.i18n import catalog, label, suite_label, t
from dashboards.components.tables import kpi
from insyn import findings
from insyn.text import show_controls

dash.register_page(__name__, path="/", name="overview", order=0)

# KPI: (its id, its words' message id, rules whose findings it counts, the page that shows them)
PROMISES = [
    ("contacts-due-for-deletion", "dashboard.kpi.contacts_due_for_deletion", ["retention.inactive_company_initiated"],
     "/contacts"),
    ("erasures-not-carried-out", "dashboard.kpi.erasures_not_carried_out", ["erasure.not_executed"], "/erasures"),
    ("invalid-transfers", "dashboard.kpi.invalid_transfers", ["transfer.invalid_mechanism"], "/transfers"),
    ("opt-out-breaches", "dashboard.kpi.opt_out_breaches", ["optout.marketing_after_optout", "optout.not_synced"],
     "/optouts"),
    ("first-notice-gaps", "dashboard.kpi.first_notice_gaps",
     ["notice.first_mailing_late", "notice.first_mailing_missing"], "/optouts"),
    ("request-deadlines-missed", "dashboard.kpi.request_deadlines_missed",
     ["dsar.legal_deadline_missed", "dsar.extended_deadline_missed"], "/requests"),
]

REQUESTS_RULE = "dsar.legal_deadline_missed"   # judges the register: the request cards rest on it
NOT_EVALUATED_TONE = "not-evaluated"
RETENTION, NOTICE = "retention.inactive_company_initiated", "notice.first_mailing_missing"
ERASURE, TRANSFER = "erasure.not_executed", "transfer.invalid_mechanism"
SUMMARISED = (RETENTION, NOTICE)               # one line each, however many
LISTED = (ERASURE, TRANSFER)                   # one line per item, the nearest few
REQUESTS_SHOWN = 8                             # open requests listed in the queue; the rest "and N more"
ITEMS_SHOWN = 5                                # erasures, transfers listed in the queue

# filters the overview's links start their page's grid with (components/grid.py LISTS)
OPEN_REQUESTS = {"path": "/requests", "list": "requests",
                 "filter": {"closed_on": {"filterType": "date", "type": "blank"}}}
STILL_PRESENT = {"path": "/erasures", "list": "erasures",
                 "filter": {"found_in": {"filterType": "text", "type": "notBlank"}}}
INVALID_TRANSFERS = {"path": "/transfers", "list": "subprocessors",
                     "filter": {"invalid_reason": {"filterType": "text", "type": "notBlank"}}}


def overdue_requests(as_of) -> dict:
    """Open requests whose deadline (extended, when validly) has passed at `as_of`: is_overdue."""
    return {"path": "/requests", "list": "requests",
            "filter": {"closed_on": {"filterType": "date", "type": "blank"},
                       "applicable_due_on": {"filterType": "date", "type": "lessThan",
                                             "dateFrom": f"{as_of.isoformat()} 00:00:00"}}}


def _one(column: str, value: str, path: str, name: str) -> dict:
    return {"path": path, "list": name, "filter": {column: {"filterType": "text", "type": "equals", "filter": value}}}


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


def go(key: str, words, path: str) -> html.Span:
    """A link to `path`; a click also chooses the filter `key` stands for (overview-targets)."""
    return html.Span(dcc.Link(words, href=path), id={"type": "overview-go", "index": key}, n_clicks=0)


def promise_card(label_text, rules, counts, before, unable, lang, kpi_id, path="/"):
    """A promise's card: its findings, or "not evaluated" when a rule behind it was not and found
    nothing (a 0 there is no answer); with findings, it says the count may be partial. Its words
    link to the page that shows them."""
    value = sum(int(counts.get(r, 0)) for r in rules)
    missing = [r for r in rules if r in unable]
    link = lambda words: go(kpi_id, words, path)  # noqa: E731
    if missing and not value:
        return kpi(link(label_text), t("dashboard.kpi.not_evaluated", lang), tone=NOT_EVALUATED_TONE, kpi_id=kpi_id)
    delta = value - sum(int(before.get(r, 0)) for r in rules) if before else None
    if missing:
        label_text = f"{label_text} ({t('dashboard.kpi.partly_not_evaluated', lang)})"
    return kpi(link(label_text), value, delta=delta, tone="bad" if value else "good", kpi_id=kpi_id)


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


# ---------------------------------------------------------------- the work queue

def due_words(days, lang: str) -> str:
    """Days left in words: "2 days overdue", "due today", "due tomorrow", "5 days left"; None: now."""
    if days is None:
        return t("dashboard.queue.now", lang)
    days = int(days)
    if days < -1:
        return t("dashboard.queue.days_overdue", lang, n=-days)
    return {-1: t("dashboard.queue.day_overdue", lang), 0: t("dashboard.queue.due_today", lang),
            1: t("dashboard.queue.due_tomorrow", lang)}.get(days) or t("dashboard.queue.days_left", lang, n=days)


def queue_items(as_of, unable, lang):
    """The queue's items: (days left or None, sort key, words, link key, page, filter or None),
    and the lists' sources: (list heading, judged from) per list shown."""
    items, sources = [], []
    not_evaluated = t("dashboard.kpi.not_evaluated", lang)

    def source_line(heading_id, rule):
        sources.append((t(heading_id, lang), judged_from(rule, lang)))

    def said_not_evaluated(rule, heading_id, page) -> bool:
        """A list whose rule was not evaluated says so, and has nothing more (True); one evaluated in
        part lists what it found, under a line saying it is partial; else it names its exports."""
        if rule in unable and not int(totals.get(rule, 0)):
            items.append((None, 10**9, t(heading_id, lang) + ": " + not_evaluated, "q-" + rule, page, None))
            return True
        if rule in unable:
            items.append((None, 10**9, t(heading_id, lang) + ": " + t("dashboard.kpi.partly_not_evaluated", lang),
                          "q-partly-" + rule, page, None))
        source_line(heading_id, rule)
        return False

    # open requests by their applicable deadline: insyn dsar due's list
    if REQUESTS_RULE in unable:
        items.append((None, 10**9, t("dashboard.queue.requests", lang) + ": " + not_evaluated, "q-requests",
                      "/requests", None))
    else:
        due = data.q("dsar_due")
        for row in due.head(REQUESTS_SHOWN).to_dict("records"):
            key = "q-request-" + row["request_id"]
            items.append((int(row["days_left"]), int(row["days_left"]),
                          t("dashboard.queue.request", lang, request_id=show_controls(row["request_id"]),
                            type=label(row["request_type"], lang),
                            date=data.to_date(row["applicable_due_on"]).isoformat()),
                          key, "/requests", _one("request_id", row["request_id"], "/requests", "requests")))
        if len(due) > REQUESTS_SHOWN:
            items.append((None, 10**8, t("dashboard.queue.more_requests", lang, n=len(due) - REQUESTS_SHOWN),
                          "q-requests-more", "/requests", OPEN_REQUESTS))
        source_line("dashboard.queue.requests", REQUESTS_RULE)
    listed = data.q("work_queue", as_of=as_of, rules=list(SUMMARISED + LISTED), limit=ITEMS_SHOWN)
    totals = dict(zip(listed["rule"], listed["items"]))
    earliest = dict(zip(listed["rule"], listed["earliest_due_on"]))
    for rule, heading, page, more_id in ((ERASURE, "dashboard.queue.erasures", "/erasures", "dashboard.queue.more_erasures"),
                                         (TRANSFER, "dashboard.queue.transfers", "/transfers",
                                          "dashboard.queue.more_transfers")):
        if said_not_evaluated(rule, heading, page):
            continue
        for row in listed[listed["rule"] == rule].to_dict("records"):
            dated = pd.notna(row["due_on"])
            # due at once: an erasure still held, a transfer without a basis; oldest first
            order = (data.to_date(row["due_on"]) - as_of).days if dated else 0
            if rule == ERASURE:
                words = t("dashboard.queue.erasure", lang, request_id=show_controls(row["record_id"]),
                          date=data.to_date(row["due_on"]).isoformat() if dated else "–")
                chosen = _one("erasure_id", row["record_id"], page, "erasures")
            else:
                words = t("dashboard.queue.transfer", lang, name=show_controls(row["record_id"]))
                chosen = _one("subprocessor_name", row["record_id"], page, "subprocessors")
            items.append((None, order, words, f"q-{rule}-{row['record_id']}", page, chosen))
        shown = int((listed["rule"] == rule).sum())
        if int(totals.get(rule, 0)) > shown:
            items.append((None, 10**8, t(more_id, lang, n=int(totals[rule]) - shown), "q-more-" + rule, page,
                          STILL_PRESENT if rule == ERASURE else INVALID_TRANSFERS))
    # contacts past retention, first notices missing: one line each, whatever the count
    for rule, heading, words_id, page in ((RETENTION, "dashboard.queue.retention", "dashboard.queue.retention_line",
                                           "/contacts"),
                                          (NOTICE, "dashboard.queue.notices", "dashboard.queue.notices_line",
                                           "/optouts")):
        if said_not_evaluated(rule, heading, page):
            continue
        count = int(totals.get(rule, 0))
        if not count:
            continue
        first = earliest.get(rule)
        dated = pd.notna(first)
        days = (data.to_date(first) - as_of).days if dated else None
        items.append((days, days if days is not None else 0,
                      t(words_id, lang, n=count, date=data.to_date(first).isoformat() if dated else "–"),
                      "q-" + rule, page, None))
    items.sort(key=lambda item: (item[1], item[2]))
    return items, sources


def work_queue(as_of, unable, lang):
    """The work queue card and the filters its links choose (overview-targets)."""
    items, sources = queue_items(as_of, unable, lang)
    targets = {key: chosen for _, _, _, key, _, chosen in items if chosen}
    rows = []
    for days, order, words, key, page, _ in items:
        when = due_words(days, lang) if order < 10**8 else ""
        tone = "bad" if when and (days is None or days < 0) else None   # overdue, or to fix now
        rows.append(html.Li([html.Span(when, className="queue-when" + (" " + tone if tone else "")),
                             " " if when else "", go(key, words, page)]))
    body = html.Ol(rows, id="overview-queue", className="queue") if rows \
        else html.P(t("dashboard.queue.nothing", lang), className="empty", id="overview-queue")
    judged = [html.Li(f"{heading}: {source if source else t('dashboard.queue.no_export', lang)}")
              for heading, source in sources]
    return html.Div([html.H2(t("dashboard.queue.heading", lang)), body,
                     html.H3(t("dashboard.queue.judged_from", lang)),
                     html.Ul(judged, className="note", id="overview-judged-from")],
                    className="card", id="overview-work"), targets


def failing_checks(checks):
    """Data-quality checks that failed: the compliance suite's expectations mirror the rules, whose
    findings the other cards count already."""
    if checks.empty:
        return checks
    return checks[checks["suite"] != "compliance"]


@callback(Output("overview-body", "children"), Input("as-of", "value"), Input("lang", "value"))
def render(as_of_value, lang):
    as_of = data.parse_as_of(as_of_value)
    by_rule = data.q("findings_by_rule", as_of=as_of)
    counts = dict(zip(by_rule["rule"], by_rule["findings"]))
    trend = data.q("findings_trend")
    before = previous_counts(trend, as_of)
    requests = data.q("dsar_timeline", year=None, request_type=None, status=None)
    checks = failing_checks(data.q("check_results", as_of=as_of))
    unable_rows = data.q("not_evaluated", as_of=as_of)
    unable = set(by_rule.loc[by_rule["not_evaluated"].astype(bool), "rule"]) if not by_rule.empty else set()
    quality_unable = unable_rows[unable_rows["rule"].isna()] if not unable_rows.empty else unable_rows
    not_evaluated = t("dashboard.kpi.not_evaluated", lang)
    open_label = go("kpi-open-requests", t("dashboard.kpi.open_requests", lang), "/requests")
    overdue_label = go("kpi-overdue-requests", t("dashboard.kpi.overdue_requests", lang), "/requests")
    if REQUESTS_RULE in unable:   # no register loaded: no request is known, none is overdue
        cards = [kpi(open_label, not_evaluated, tone=NOT_EVALUATED_TONE, kpi_id="kpi-open-requests"),
                 kpi(overdue_label, not_evaluated, tone=NOT_EVALUATED_TONE, kpi_id="kpi-overdue-requests")]
    else:
        overdue = int((requests["is_open"] & requests["is_overdue"]).sum())
        cards = [
            kpi(open_label, int(requests["is_open"].sum()), kpi_id="kpi-open-requests"),
            kpi(overdue_label, overdue, tone="bad" if overdue else "good", kpi_id="kpi-overdue-requests"),
        ]
    for name, msgid, rules, page in PROMISES:
        cards.append(promise_card(t(msgid, lang), rules, counts, before, unable, lang, "kpi-" + name, page))
    failing = int((checks["success"] == False).sum()) if not checks.empty else 0  # noqa: E712 (a column)
    failing_label = go("kpi-failing-checks", t("dashboard.kpi.failing_checks", lang), "/quality")
    if not failing and (checks.empty or not quality_unable.empty):   # never run, or run in part: no green 0
        cards.append(kpi(failing_label, not_evaluated, tone=NOT_EVALUATED_TONE, kpi_id="kpi-failing-checks"))
    else:
        cards.append(kpi(failing_label, failing, tone="bad" if failing else "good", kpi_id="kpi-failing-checks"))
    built = data.built_as_of()
    if as_of == built:
        queue, targets = work_queue(as_of, unable, lang)
    else:   # the registers' deadlines and the marts are the built date's: no queue for another day
        queue, targets = html.Div([html.H2(t("dashboard.queue.heading", lang)),
                                   html.P(t("dashboard.queue.other_date", lang, date=built.isoformat()),
                                          className="empty", id="overview-queue")],
                                  className="card", id="overview-work"), {}
    targets.update({"kpi-open-requests": OPEN_REQUESTS, "kpi-overdue-requests": overdue_requests(built),
                    "kpi-erasures-not-carried-out": STILL_PRESENT, "kpi-invalid-transfers": INVALID_TRANSFERS})
    checked_dates = trend["as_of"].nunique() if not trend.empty else 0
    body = [
        html.H1(t("dashboard.nav.overview", lang)),
        html.P(f"{t('dashboard.label.as_of', lang)} {as_of.isoformat()}", className="lead"),
        dcc.Store(id="overview-targets", data=targets),
        queue,
        html.Div(cards, className="kpis"),
        not_evaluated_card(unable_rows, lang),
        html.Div([dcc.Graph(id="overview-promises", figure=figures.promises_bar(by_rule, lang),
                            config={"displaylogo": False})], className="card"),
        # over time: once there are two check dates to compare
        html.Div([dcc.Graph(id="overview-trend", figure=figures.findings_trend(trend, lang,
                                                                               titles=data.q("rules_catalog")),
                            config={"displaylogo": False})], className="card") if checked_dates >= 2 else None,
    ]
    return [part for part in body if part is not None]
