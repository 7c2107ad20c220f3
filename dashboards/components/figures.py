"""The dashboard's figures: pure functions of the named queries' data frames.

Each takes a data frame (and the UI language) and returns a
``plotly.graph_objects.Figure``: no I/O, no data loading, no clock, the same
figure for the same frame. Built with ``graph_objects`` (``plotly.express``
costs some 30 ms a figure in a callback); traces are passed as dicts and the
frames, a few hundred rows at most, are read as plain lists, so a figure
takes a few milliseconds. Every figure has a title in the chosen language,
the ``plotly_white`` template, tuned margins and a fixed ``uirevision`` so
that a new filter value keeps the user's zoom. Colours come from the
Okabe–Ito palette, which stays distinct under colour blindness. Dates go to
plotly as ISO text; nothing refers to an external resource.

plotly reads the text of a figure (labels, tick labels, hover text, legend
names, annotations) as HTML of its own, links included: every value that
comes from the data goes through ``_esc`` first, so ``<a href=…>`` in a
register shows as text. customdata stays raw (callbacks read it) and no hover
template shows it.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from insyn import texts

# The palette and the order of values, shared with the audit reports (insyn.style).
from insyn.text import show_controls
from insyn.style import (  # noqa: F401 - the figures' names for them
    BLACK, BLUE, COLORWAY, GREEN, GREY, MECHANISMS, ORANGE, PURPLE, REQUEST_TYPE_COLOURS, REQUEST_TYPES,
    SEVERITIES, SEVERITY_COLOURS, SKY_BLUE, VERMILLION, WARNING, YELLOW,
)

from .i18n import label, suite_label, t

TEMPLATE = "plotly_white"
_MARGIN = dict(l=64, r=24, t=72, b=56)
_MUTED = "#555555"


# ---------------------------------------------------------------- helpers

def _figure(name: str, title: str, traces: list[dict], **layout) -> go.Figure:
    """A figure with the common layout: title, template, margins, colourway, legend and uirevision.

    The template is attached with plotly's validation switched off, as plotly
    itself attaches its default template: validating plotly_white again costs
    about 10 ms a figure, more than all the rest. The figure is the same.
    """
    margin = {**_MARGIN, **layout.pop("margin", {})}
    legend = dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, title_text="",
                  traceorder="normal")
    legend.update(layout.pop("legend", {}))
    fig = go.Figure(data=traces, layout=dict(
        title=dict(text=title, x=0, xanchor="left", y=0.98, yanchor="top", yref="container"),
        margin=margin,
        colorway=COLORWAY,
        legend=legend,
        hoverlabel=dict(namelength=-1),
        uirevision=name,
        **layout,
    ))
    template = pio.templates[TEMPLATE]
    validate = getattr(fig.layout, "_validate", True)
    fig.layout._validate = False
    try:
        fig.layout.template = template
    finally:
        fig.layout._validate = validate
    return fig


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _col(df: pd.DataFrame, name: str, default=None) -> list:
    """A column as a list with None for missing values (or `default` throughout when there is no column)."""
    if name not in df:
        return [default] * len(df)
    return [None if _missing(v) else v for v in df[name].tolist()]


def _flags(df: pd.DataFrame, name: str) -> list[bool]:
    """A boolean column as a list; missing values (and a missing column) are False."""
    return [bool(v) if v is not None else False for v in _col(df, name)]


def _ts(value) -> pd.Timestamp | None:
    return None if _missing(value) else pd.Timestamp(value)


def _day(value) -> str | None:
    """A date (date, datetime, Timestamp, datetime64, ISO text) as 'YYYY-MM-DD'; None when missing."""
    stamp = _ts(value)
    return None if stamp is None else stamp.strftime("%Y-%m-%d")


def _esc(value) -> str:
    """A value of the data as text plotly shows as it is: '<', '>' and '&' as entities."""
    return html.escape(str(value), quote=False)


def _label(value, lang: str) -> str:
    """A value of the data (request type, severity, mechanism, suite) in the UI language, else as it
    is (raw: escape it for plotly)."""
    return label("unknown", lang) if _missing(value) else label(value, lang)


def _ordered(values: Iterable, preferred: tuple[str, ...]) -> list[str]:
    """The distinct values present: those in `preferred` first, in its order, then the rest sorted."""
    present = {str(v) for v in values}
    return [v for v in preferred if v in present] + sorted(present - set(preferred))


def _wrap(text: str, width: int) -> str:
    """`text` (raw, from the data) escaped for plotly and broken into lines of `width` characters."""
    # whole words only: "Bindande företagsbestämmelser" is never cut inside a word
    lines = textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(_esc(line) for line in lines) or _esc(text)


def _date_axis(days: list[str], pad: pd.Timedelta, tickformat: str = "%Y-%m-%d", **axis) -> dict:
    """A date axis with ISO tick labels (no month names in plotly's English); a single date gets
    `pad` on either side instead of plotly's millisecond range."""
    axis = dict(type="date", tickformat=tickformat, **axis)
    present = sorted({d for d in days if d})
    if len(present) == 1:
        middle = pd.Timestamp(present[0])
        axis["range"] = [(middle - pad).strftime("%Y-%m-%d %H:%M:%S"), (middle + pad).strftime("%Y-%m-%d %H:%M:%S")]
    return axis


def empty_figure(message: str, title: str = "") -> go.Figure:
    """An empty figure with `message` in its middle (and `title` at the top), without axes."""
    return _figure(
        "empty", title, [], height=260,
        xaxis=dict(visible=False), yaxis=dict(visible=False),
        annotations=[dict(text=message, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                          font=dict(size=15, color=_MUTED))],
    )


# ---------------------------------------------------------------- overview

def promises_bar(df: pd.DataFrame, lang: str = "sv", *, wrap: int = 48) -> go.Figure:
    """Findings per rule (query findings_by_rule) as horizontal bars, one trace per severity.

    Every rule keeps its bar (0 when it found nothing, the count printed at
    the bar's end); rules keep the query's order (severity, then rule) from
    the top; a bar's label is the rule's title in `lang`, wrapped at `wrap`
    characters; customdata is the rule id.
    """
    title = t("dashboard.figure.findings_per_rule", lang)
    if df.empty:
        return empty_figure(t("dashboard.message.no_findings", lang), title)
    rules = [str(r) for r in _col(df, "rule")]
    titles = _col(df, "title_sv" if lang == "sv" else "title_en")
    if lang == texts.PSEUDO:   # the catalog's words, marked as every other catalog word is
        titles = [texts.pseudo(x) if isinstance(x, str) and x.strip() else x for x in titles]
    labels, seen = [], set()
    for rule, text in zip(rules, titles):
        label = _wrap(text if isinstance(text, str) and text.strip() else rule, wrap)
        if label in seen:
            label = f"{label} ({_esc(rule)})"
        seen.add(label)
        labels.append(label)
    findings = [int(v or 0) for v in _col(df, "findings", 0)]
    severities = [str(v) if v else "low" for v in _col(df, "severity")]
    refs = [v or "" for v in _col(df, "legal_reference", "")]
    traces = []
    for severity in _ordered(severities, SEVERITIES):
        idx = [i for i, s in enumerate(severities) if s == severity]
        traces.append(dict(
            type="bar", orientation="h", name=_esc(_label(severity, lang)),
            x=[findings[i] for i in idx], y=[labels[i] for i in idx],
            text=[findings[i] for i in idx], textposition="outside", cliponaxis=False,
            customdata=[rules[i] for i in idx],
            hovertext=[f"{_esc(rules[i])}<br>{_esc(refs[i])}" for i in idx],
            hovertemplate="%{y}<br>%{hovertext}<br><b>%{x}</b><extra>%{fullData.name}</extra>",
            marker=dict(color=SEVERITY_COLOURS.get(severity, GREY)),
        ))
    lines = sum(label.count("<br>") + 1 for label in labels)
    return _figure(
        "promises_bar", title, traces,
        barmode="relative", bargap=0.25, height=max(260, 110 + 16 * lines + 8 * len(labels)),
        margin=dict(l=16, r=40),
        xaxis=dict(title_text=t("dashboard.column.findings", lang), range=[0, max(max(findings), 1) * 1.15 + 0.5]),
        yaxis=dict(type="category", categoryorder="array", categoryarray=labels[::-1], automargin=True),
    )


def findings_trend(df: pd.DataFrame, lang: str = "sv", *, titles: pd.DataFrame | None = None) -> go.Figure:
    """Findings over the checked as-of dates (query findings_trend), one line per area of rules
    (the rule id's first part: dsar, erasure, notice, optout, retention, transfer, ...): a handful
    of lines, each its own colour, not one per rule.

    An area absent at a checked date counts 0 there. An area is named by its
    dashboard.area.<area> message, else by its id; `titles` (rules_catalog) is
    kept for callers and unused. customdata is the area. An empty frame gives a
    figure saying there is no history yet.
    """
    title = t("dashboard.figure.findings_over_time", lang)
    if df.empty:
        return empty_figure(t("dashboard.message.no_history", lang), title)
    counts: dict[str, dict[str, int]] = {}
    dates = set()
    for day, rule, n in zip(map(_day, _col(df, "as_of")), _col(df, "rule"), _col(df, "findings", 0)):
        dates.add(day)
        area = str(rule).split(".", 1)[0]
        counts.setdefault(area, {})
        counts[area][day] = counts[area].get(day, 0) + int(n or 0)
    dates = sorted(dates)
    traces = []
    colours = COLORWAY + [GREY]   # nine colours for the nine areas of the reference rules
    for i, area in enumerate(sorted(counts)):
        key = f"dashboard.area.{area}"
        traces.append(dict(
            type="scatter", mode="lines+markers", name=_esc(t(key, lang) if t(key, lang) != key else area),
            x=dates, y=[counts[area].get(day, 0) for day in dates], customdata=[area] * len(dates),
            line=dict(color=colours[i % len(colours)], dash=("solid", "dot", "dash")[(i // len(colours)) % 3]),
            hovertemplate="%{x}: <b>%{y}</b><extra>%{fullData.name}</extra>",
        ))
    return _figure(
        "findings_trend", title, traces, height=420,
        legend=dict(yanchor="top", y=-0.15, orientation="h", font=dict(size=12)), margin=dict(b=120),
        xaxis=_date_axis(dates, pd.Timedelta(days=7)),
        yaxis=dict(title_text=t("dashboard.column.findings", lang), rangemode="tozero"),
    )


# ---------------------------------------------------------------- requests

def request_timeline(df: pd.DataFrame, lang: str = "sv", as_of=None, *, row_height: int = 20) -> go.Figure:
    """Every request (query dsar_timeline) as a bar from received_on to closed_on, or to `as_of` while open.

    Overdue requests (is_overdue) are in the warning colour, open ones in time
    hatched. Markers show identity verified, answer sent and extension
    notified; ticks show the policy target, the legal deadline (rolled to a
    working day) and, with a valid extension, the extended deadline. Request
    ids run down the y axis, newest at the top; customdata is the request id
    on every trace. Without `as_of` an open request ends at its judged_on
    (the as-of the data was judged at) and no as-of line is drawn.
    """
    title = t("dashboard.figure.request_timeline", lang)
    if df.empty:
        return empty_figure(t("dashboard.message.no_requests", lang), title)
    n = len(df)
    received = [_ts(v) for v in _col(df, "received_on")]
    closed = [_ts(v) for v in _col(df, "closed_on")]
    is_open = _flags(df, "is_open") if "is_open" in df else [c is None for c in closed]
    judged = [_ts(v) for v in _col(df, "judged_on")]
    legal_due = [_ts(v) for v in _col(df, "legal_due_on")]
    extended_due = [_ts(v) for v in _col(df, "extended_due_on")]
    extended = _flags(df, "has_valid_extension")
    stop = _ts(as_of)
    ends = []
    for i in range(n):
        end = closed[i] if closed[i] is not None and not is_open[i] else (stop or judged[i] or closed[i])
        if end is None or (received[i] is not None and end < received[i]):
            end = received[i]
        ends.append(end)
    if "is_overdue" in df:
        overdue = _flags(df, "is_overdue")
    else:
        due = [extended_due[i] if extended[i] else legal_due[i] for i in range(n)]
        overdue = [ends[i] is not None and due[i] is not None and ends[i] > due[i] for i in range(n)]
    ids = [str(v) for v in _col(df, "request_id")]
    shown = [_esc(i) for i in ids]      # what the axis and hovers show; customdata keeps the id
    order = sorted((i for i in range(n) if received[i] is not None), key=lambda i: (received[i], ids[i]))
    kinds = _col(df, "request_type")
    unit = t("dashboard.label.days", lang).lower()

    def hover(i: int) -> str:
        text = (f"<b>{shown[i]}</b> · {_esc(_label(kinds[i], lang))}<br>{t('dashboard.column.received', lang)} {_day(received[i])}"
                f" → {_day(ends[i])} ({(ends[i] - received[i]).days} {unit})")
        return text + (f"<br>{label('overdue', lang)}" if overdue[i] else "")

    traces = []
    for key, keep, colour, pattern in (
        ("dashboard.figure.closed_in_time", lambda i: not overdue[i] and not is_open[i], SKY_BLUE, ""),
        ("dashboard.figure.open_in_time", lambda i: not overdue[i] and is_open[i], SKY_BLUE, "/"),
        ("value.overdue", lambda i: overdue[i], WARNING, ""),
    ):
        idx = [i for i in order if keep(i)]
        if idx:
            traces.append(dict(
                type="bar", orientation="h", name=t(key, lang),
                y=[shown[i] for i in idx], base=[_day(received[i]) for i in idx],
                x=[(ends[i] - received[i]) / pd.Timedelta(milliseconds=1) for i in idx],
                customdata=[ids[i] for i in idx], hovertext=[hover(i) for i in idx],
                hovertemplate="%{hovertext}<extra></extra>",
                marker=dict(color=colour, opacity=0.85, pattern=dict(shape=pattern, fgcolor="#ffffff")),
            ))

    def points(column: str, key: str, symbol: str, colour: str, *, only=None, size: int = 9, tick: bool = False):
        days = [_day(v) for v in _col(df, column)]
        idx = [i for i in order if days[i] is not None and (only is None or only[i])]
        if idx:
            traces.append(dict(
                type="scatter", mode="markers", name=t(key, lang),
                x=[days[i] for i in idx], y=[shown[i] for i in idx], customdata=[ids[i] for i in idx],
                hovertext=[shown[i] for i in idx],
                marker=dict(symbol=symbol, size=size, color=colour,
                            line=dict(width=2.5, color=colour) if tick else dict(width=1, color="#ffffff")),
                hovertemplate=f"<b>%{{hovertext}}</b><br>{t(key, lang)} %{{x}}<extra></extra>",
            ))

    points("identity_verified_on", "dashboard.column.identity_verified", "diamond", BLACK)
    points("answered_on", "dashboard.column.answered", "circle", GREEN)
    points("extension_notified_on", "dashboard.column.extension_notified", "star", ORANGE, size=11)
    points("policy_due_on", "dashboard.figure.policy_target", "line-ns-open", GREY, size=14, tick=True)
    points("legal_due_on", "dashboard.figure.legal_deadline", "line-ns-open", BLACK, size=14, tick=True)
    points("extended_due_on", "dashboard.figure.extended_deadline", "line-ns-open", PURPLE, only=extended, size=14,
           tick=True)

    shapes, annotations = [], []
    if stop is not None:
        day = _day(stop)
        shapes.append(dict(type="line", xref="x", yref="paper", x0=day, x1=day, y0=0, y1=1,
                           line=dict(color=GREY, width=1.5, dash="dash")))
        annotations.append(dict(x=day, xref="x", y=1, yref="paper", yanchor="bottom", showarrow=False,
                                text=f"{t('dashboard.label.as_of', lang)} {day}", font=dict(size=11, color=_MUTED)))
    rows = [shown[i] for i in order]
    return _figure(
        "request_timeline", title, traces,
        height=max(320, 150 + row_height * len(rows)),
        barmode="overlay", bargap=0.35, hovermode="closest",
        margin=dict(l=16, t=96), legend=dict(y=1.02, font=dict(size=11)),
        xaxis=dict(type="date", tickformat="%Y-%m"),
        yaxis=dict(type="category", categoryorder="array", categoryarray=rows, automargin=True,
                   tickfont=dict(size=11)),
        shapes=shapes, annotations=annotations,
    )


def requests_by_month(df: pd.DataFrame, lang: str = "sv") -> go.Figure:
    """Requests received per month (query dsar_timeline), stacked by request_type.

    Every month from the first to the last request has its place (0 when
    none came); months are 'YYYY-MM'; customdata is the request type.
    """
    title = t("dashboard.figure.requests_per_month", lang)
    received = [_ts(v) for v in _col(df, "received_on")]
    if not any(r is not None for r in received):
        return empty_figure(t("dashboard.message.no_requests", lang), title)
    months = [r.strftime("%Y-%m") if r is not None else None for r in received]
    present = [m for m in months if m]
    labels = [str(p) for p in pd.period_range(min(present), max(present), freq="M")]
    kinds = [str(k) if k else "unknown" for k in _col(df, "request_type")]
    traces = []
    for kind in _ordered(kinds, REQUEST_TYPES):
        counts = dict.fromkeys(labels, 0)
        for month, k in zip(months, kinds):
            if month and k == kind:
                counts[month] += 1
        traces.append(dict(
            type="bar", name=_esc(_label(kind, lang)), x=labels, y=list(counts.values()),
            customdata=[kind] * len(labels), marker=dict(color=REQUEST_TYPE_COLOURS.get(kind, GREY)),
            hovertemplate="%{x}: <b>%{y}</b><extra>%{fullData.name}</extra>",
        ))
    return _figure(
        "requests_by_month", title, traces, barmode="stack", bargap=0.2, height=340,
        xaxis=dict(type="category", title_text=t("dashboard.figure.month_received", lang),
                   tickangle=-45 if len(labels) > 12 else 0),
        yaxis=dict(title_text=t("dashboard.nav.requests", lang), rangemode="tozero"),
    )


# ---------------------------------------------------------------- contacts

def stale_histogram(df: pd.DataFrame, lang: str = "sv", retention_months: int | None = None) -> go.Figure:
    """Company-initiated records per whole months since their last dialogue (query stale_contacts).

    Every month from 0 to the largest has a bar (0 when empty). Records due for
    deletion are a second trace in the warning colour, stacked on the rest: with
    an `is_due` column, those the rule flagged (the one definition: a record quiet
    exactly the period to the day is not yet due, so it stays in its month's
    first trace); without one, the months at or past `retention_months` (the
    policy's period, passed in, never assumed here). A dashed line marks the
    boundary, between the last month within the period and the first past it
    (x = retention_months - 0.5). customdata is the month.
    """
    title = t("dashboard.figure.stale_contacts", lang)
    # a row per record, or (data.counted) per month and flag with its `records`
    rows = [(int(m), flag, int(n)) for m, flag, n in zip(_col(df, "months_quiet"), _flags(df, "is_due"),
                                                         _col(df, "records", 1)) if m is not None]
    if not rows:
        return empty_figure(t("dashboard.message.no_company_initiated", lang), title)
    top = max(max(m for m, _, _ in rows), retention_months or 0)
    judged = "is_due" in df
    limit = retention_months if retention_months is not None else top + 1
    due = [0] * (top + 1)
    kept = [0] * (top + 1)
    for m, flag, n in rows:
        if m >= 0:
            if (flag if judged else m >= limit):
                due[m] += n
            else:
                kept[m] += n
    if judged:
        parts = [(range(0, top + 1), kept), (range(0, top + 1), due)]
    else:
        parts = [(range(0, min(limit, top + 1)), kept), (range(limit, top + 1), due)]
    traces = []
    for key, (months, counts), colour in zip(("dashboard.figure.within_retention", "dashboard.figure.past_retention"),
                                             parts, (SKY_BLUE, WARNING)):
        if len(months) and (not judged or any(counts)):
            traces.append(dict(
                type="bar", name=t(key, lang), x=list(months), y=[counts[m] for m in months],
                customdata=list(months), marker=dict(color=colour),
                hovertemplate=f"%{{x}} {t('dashboard.label.months', lang)}: <b>%{{y}}</b><extra>%{{fullData.name}}</extra>",
            ))
    shapes, annotations = [], []
    if retention_months is not None:
        x = retention_months - 0.5
        shapes.append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                           line=dict(color=BLACK, width=1.5, dash="dash")))
        annotations.append(dict(x=x, xref="x", y=1, yref="paper", xanchor="left", yanchor="top", showarrow=False,
                                text=" " + t("dashboard.figure.retention_period", lang, n=retention_months),
                                font=dict(size=11)))
    return _figure(
        "stale_histogram", title, traces, barmode="stack", bargap=0.1, height=360,
        xaxis=dict(title_text=t("dashboard.figure.months_since_last_dialogue", lang), range=[-0.5, top + 0.5],
                   dtick=1 if top <= 36 else None),
        yaxis=dict(title_text=t("dashboard.figure.records", lang), rangemode="tozero"),
        shapes=shapes, annotations=annotations,
    )


def coming_due_bar(df: pd.DataFrame, lang: str = "sv", *, buckets: tuple[int, ...] = (30, 60, 90)) -> go.Figure:
    """Records coming due for deletion (query coming_due) within each of `buckets` days, cumulatively.

    A record 20 days from its date counts in every bucket; customdata is the
    bucket's days. Ask coming_due for at least max(buckets) days.
    """
    title = t("dashboard.figure.coming_due", lang)
    # a row per record, or (data.counted) per days left with its `records`
    days_left = [(int(v), int(n)) for v, n in zip(_col(df, "days_left"), _col(df, "records", 1)) if v is not None]
    if not days_left:
        return empty_figure(t("dashboard.message.none_coming_due", lang), title)
    buckets = tuple(sorted(buckets))
    counts = [sum(n for d, n in days_left if d <= b) for b in buckets]
    colours = (VERMILLION, ORANGE, YELLOW, SKY_BLUE, BLUE)
    bars = [dict(
        type="bar", x=[t("dashboard.kpi.within_days", lang, n=b) for b in buckets], y=counts,
        text=counts, textposition="outside", cliponaxis=False, customdata=list(buckets), showlegend=False,
        marker=dict(color=[colours[i % len(colours)] for i in range(len(buckets))]),
        hovertemplate="%{x}: <b>%{y}</b><extra></extra>",
    )]
    return _figure(
        "coming_due_bar", title, bars, height=320, bargap=0.35,
        xaxis=dict(type="category"),
        yaxis=dict(title_text=t("dashboard.figure.records", lang), range=[0, max(counts) * 1.2 + 1]),
    )


# ---------------------------------------------------------------- quality

def check_results_bar(df: pd.DataFrame, lang: str = "sv") -> go.Figure:
    """Passed and failed expectations per suite (query check_results), stacked horizontal bars.

    Suites run alphabetically from the top; customdata is the suite.
    """
    title = t("dashboard.figure.check_results_per_suite", lang)
    if df.empty:
        return empty_figure(t("dashboard.message.no_check_results", lang), title)
    suites_col = [str(s) for s in _col(df, "suite")]
    success = _flags(df, "success")
    suites = sorted(set(suites_col))
    labels = [_esc(suite_label(s, lang)) for s in suites]
    traces = []
    for key, wanted, colour in (("dashboard.figure.passed", True, GREEN), ("dashboard.figure.failed", False, WARNING)):
        counts = [sum(1 for s, ok in zip(suites_col, success) if s == suite and ok == wanted) for suite in suites]
        traces.append(dict(
            type="bar", orientation="h", name=t(key, lang), y=labels, x=counts, customdata=suites,
            text=[c or "" for c in counts], textposition="inside", marker=dict(color=colour),
            hovertemplate="%{y}: <b>%{x}</b><extra>%{fullData.name}</extra>",
        ))
    return _figure(
        "check_results_bar", title, traces, barmode="stack", bargap=0.3,
        height=max(260, 120 + 32 * len(suites)), margin=dict(l=16),
        xaxis=dict(title_text=t("dashboard.figure.checks", lang), rangemode="tozero"),
        yaxis=dict(type="category", categoryorder="array", categoryarray=labels[::-1], automargin=True),
    )


def check_history_line(df: pd.DataFrame, lang: str = "sv") -> go.Figure:
    """Failed expectations per check run (query check_history) over finished_at.

    Runs without finished_at (never finished) are left out; customdata is the
    check_run_id; the hover shows the run's as-of and failed / expectations.
    """
    title = t("dashboard.figure.failed_checks_per_run", lang)
    runs = sorted(
        (r for r in zip(_col(df, "finished_at"), _col(df, "check_run_id"), _col(df, "as_of"),
                        _col(df, "failed", 0), _col(df, "expectations", "")) if r[0] is not None),
        key=lambda r: (pd.Timestamp(r[0]), r[1] or 0),
    )
    if not runs:
        return empty_figure(t("dashboard.message.no_check_runs", lang), title)
    failed = [int(r[3] or 0) for r in runs]
    # a run by its time to the second, on a category axis: one tick each, never a date repeated
    # for runs of one day (two in the same second get their run number)
    finished = [pd.Timestamp(r[0]).strftime("%Y-%m-%d %H:%M:%S") for r in runs]
    if len(set(finished)) < len(finished):
        finished = [f"{x} #{r[1]}" for x, r in zip(finished, runs)]
    line = [dict(
        type="scatter", mode="lines+markers", name=t("dashboard.figure.failed", lang), showlegend=False,
        x=finished, y=failed,
        customdata=[int(r[1]) if r[1] is not None else None for r in runs],
        hovertext=[f"{t('dashboard.label.as_of', lang)} {_day(r[2]) or ''} · {f} / {_esc(r[4])}" for r, f in zip(runs, failed)],
        hovertemplate="%{x}<br>%{hovertext}<extra></extra>",
        line=dict(color=WARNING), marker=dict(size=8),
    )]
    return _figure(
        "check_history_line", title, line, height=320,
        xaxis=dict(type="category", range=[-0.5, len(finished) - 0.5], automargin=True,
                   title_text=t("dashboard.figure.run_finished", lang)),
        yaxis=dict(title_text=t("dashboard.figure.failed", lang), rangemode="tozero"),
    )


# ---------------------------------------------------------------- transfers

def transfers_bar(df: pd.DataFrame, lang: str = "sv") -> go.Figure:
    """Sub-processors (query subprocessors) per transfer_mechanism, stacked valid / invalid.

    Validity is is_transfer_valid as judged at the built as-of; mechanisms in
    the policy's order; customdata is the mechanism code; the hover lists
    the sub-processors of each bar.
    """
    title = t("dashboard.figure.transfers", lang)
    if df.empty:
        return empty_figure(t("dashboard.message.no_subprocessors", lang), title)
    mechanisms = [str(m) if m else "unknown" for m in _col(df, "transfer_mechanism")]
    valid = _flags(df, "is_transfer_valid")
    names = [show_controls(str(v)) if v is not None else "" for v in _col(df, "subprocessor_name", "")]
    codes = _ordered(mechanisms, MECHANISMS)
    labels = [_wrap(_label(c, lang), 16) for c in codes]
    traces = []
    for key, wanted, colour in (("dashboard.column.valid", True, GREEN), ("dashboard.column.invalid", False, WARNING)):
        who = {c: sorted(n for n, m, ok in zip(names, mechanisms, valid) if m == c and ok == wanted) for c in codes}
        counts = [len(who[c]) for c in codes]
        traces.append(dict(
            type="bar", name=t(key, lang), x=labels, y=counts, customdata=codes,
            hovertext=["<br>".join(_esc(n) for n in who[c]) for c in codes], text=[c or "" for c in counts], textposition="inside",
            hovertemplate="%{x}: <b>%{y}</b><br>%{hovertext}<extra>%{fullData.name}</extra>",
            marker=dict(color=colour),
        ))
    return _figure(
        "transfers_bar", title, traces, barmode="stack", bargap=0.3, height=340,
        xaxis=dict(type="category"),
        yaxis=dict(title_text=t("dashboard.figure.subprocessors", lang), rangemode="tozero",
                   dtick=1 if max(sum(c) for c in zip(*(tr["y"] for tr in traces))) <= 10 else None),
    )


__all__ = [
    "empty_figure", "promises_bar", "findings_trend", "request_timeline", "requests_by_month",
    "stale_histogram", "coming_due_bar", "check_results_bar", "check_history_line", "transfers_bar",
]
