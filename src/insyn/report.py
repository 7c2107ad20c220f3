"""The content of the audit notebooks: the yearly audit report and the monthly retention review.

The scheduled notebooks (``notebooks/audit/``) hold a ``parameters`` cell and
short calls into this module; everything they show comes from here, in
Swedish or English: Markdown (headings included, so the HTML without code
is fully translated), ``plotly.graph_objects`` figures and pandas frames.

Layers, as in the dashboard:

* data: functions of a read-only DuckDB connection and the named queries
  folder (``pipelines/queries``), returning data frames; no SQL here;
* numbers: pure functions of those frames (``percentile``, ``request_year_stats``);
* presentation: ``YearlyReport`` and ``RetentionReview``, loaded once from the
  warehouse (opened read-only and closed again), then pure: each method
  returns a Markdown string, a frame or a figure, the same for the same data.

The numbers of the law and the policy (one month, three months, 30 days,
12 months, ...) come from ``params.run``, never from constants here. E-mail
addresses are shortened in everything this module writes (``a…@example.se``):
the report leaves the company; the full evidence stays in Insyn.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import plotly.graph_objects as go

from . import db
from . import findings as findings_mod
from .masking import mask_email
from .queries import query

from .style import BLUE, GREY, REQUEST_TYPE_COLOURS, REQUEST_TYPES, SEVERITIES, SEVERITY_COLOURS, VERMILLION
from .texts import CHOOSABLE, Catalog, cached, number_language

LANGUAGES = CHOOSABLE        # sv, en, and the pseudo-language (texts.PSEUDO) that marks every word
RETENTION_RULE = "retention.inactive_company_initiated"
MAX_TABLE_ROWS = 60          # rows of a table shown in the report; the rest are counted


# ---------------------------------------------------------------- texts

def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return language


# Every word comes from the workbench's catalogs (locale/*/LC_MESSAGES/reports.po and values.po).
# A report object passes its texts.Catalog as `lang`; a bare language code ("sv") reads the
# reference workbench's catalogs.

def words(lang) -> Catalog:
    """The catalog for `lang`: a texts.Catalog as it is, a language code from the reference workbench."""
    return lang if isinstance(lang, Catalog) else cached(None, check_language(lang))


def _code(lang) -> str:
    """The language code of `lang` (a code or a texts.Catalog)."""
    return lang.lang if isinstance(lang, Catalog) else lang


def _sv_numbers(lang) -> bool:
    return number_language(_code(lang)) == "sv"


def text(key: str, lang, **values) -> str:
    """The report's text for message `key` in `lang` (a code or a texts.Catalog), formatted with `values`.
    The catalog's own words may carry Markdown (**bold**, `code`) but never HTML: `<`, `>` and `&` in
    them are escaped, so a translation cannot put markup or script into the audit pack."""
    return words(lang).markup(key, _no_markup, **values)


def _no_markup(catalog_words: str) -> str:
    return html.escape(catalog_words, quote=False)


def label(value, lang) -> str:
    """A value the data carries (request type, object, transfer mechanism), in the language."""
    return words(lang).value(value, missing="–")


def finding_detail(row, lang) -> str:
    """A finding's detail in the language, from its detail_id and facts (insyn.findings.detail)."""
    return findings_mod.detail(row._asdict() if hasattr(row, "_asdict") else row, words(lang))


def rule_title(rule: str, lang) -> str:
    return findings_mod.title(rule, words(lang))


def month_name(month: int, lang) -> str:
    return text(f"report.month.{month}", lang)


def months_text(n: int, lang) -> str:
    """'1 month' / '3 months' / '1 månad' / '3 månader'."""
    return text("report.months_one" if n == 1 else "report.months_many", lang, n=n)


# ---------------------------------------------------------------- numbers and formats

def percentile(values: Iterable, q: float) -> float | None:
    """The q-th percentile (0 < q <= 100) by nearest rank: the smallest value with at least q % of
    the values at or below it (an observed value, never interpolated). None for no values;
    missing values (None, NaN) are left out."""
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    xs = sorted(float(v) for v in values if v is not None and not pd.isna(v))
    if not xs:
        return None
    rank = math.ceil(q / 100 * len(xs))
    return xs[max(rank, 1) - 1]


def median(values: Iterable) -> float | None:
    """The median: the middle value, or the mean of the two middle values; None for no values."""
    xs = sorted(float(v) for v in values if v is not None and not pd.isna(v))
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def fmt_int(n, lang: str) -> str:
    if n is None or pd.isna(n):
        return "–"
    s = f"{int(n):,}"
    return s.replace(",", "\u00a0") if _sv_numbers(lang) else s


def fmt_num(x, lang: str, digits: int = 1) -> str:
    """A number with at most `digits` decimals (none when whole): '15', '15,5' (sv), '15.5' (en)."""
    if x is None or pd.isna(x):
        return "–"
    x = float(x)
    if x == int(x):
        return fmt_int(x, lang)
    s = f"{x:,.{digits}f}"
    if _sv_numbers(lang):
        s = s.replace(",", "\u00a0").replace(".", ",")
    return s


def fmt_pct(n: int, d: int, lang: str) -> str:
    """'13 of 15 (87 %)' / '13 av 15 (87 %)'; '–' when nothing was judged."""
    if not d:
        return "–"
    pct = round(100 * n / d)
    return text("report.of", lang, n=fmt_int(n, lang), d=fmt_int(d, lang)) + (
        f" ({pct}\u00a0%)" if _sv_numbers(lang) else f" ({pct}%)")


def fmt_date(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).date().isoformat()


def fmt_time(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")


# ":" too: a scheme (https:) escaped is no bare URL, so the HTML has no link made from a value.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#:&])")
# Dates and ids such as 2026-02-20 or DSAR-2026-001 in a table cell: kept on one line (a narrow PDF
# column would break them at the hyphens), the text itself unchanged.
_UNBREAKABLE = re.compile(r"\S{0,12}\d-\d\S{0,12}")
# Long names without spaces (rule ids, file paths) may break after these characters (<wbr>: the text is unchanged).
_BREAK_AFTER = re.compile(r"([/.@]|\\_)(?=.)")


def md_escape(value) -> str:
    """A cell value as Markdown text: special characters escaped, line breaks as spaces."""
    s = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"[ \t\r\n]+", " ", s).strip())  # NBSP (1\u00a0250) kept


def _md_cell(value) -> str:
    """A table cell as Markdown: escaped; a date or id kept on one line; a long name given break points."""
    words = []
    for word in md_escape(value).split(" "):
        if _UNBREAKABLE.fullmatch(word):
            word = f'<span style="white-space:nowrap">{word}</span>'
        elif len(word) > 20:
            word = _BREAK_AFTER.sub(r"\1<wbr>", word)
        words.append(word)
    return " ".join(words)


def md_table(rows: Sequence[Sequence], header: Sequence[str], lang: str, *, limit: int = MAX_TABLE_ROWS,
             align: Sequence[str] | None = None) -> str:
    """A Markdown table of already formatted cells; at most `limit` rows, the rest counted below it."""
    if not rows:
        return text("report.nothing", lang)
    align = align or ["l"] * len(header)
    rule = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
    for row in list(rows)[:limit]:
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if len(rows) > limit:
        lines.append("")
        lines.append(text("report.more_rows", lang, n=fmt_int(len(rows) - limit, lang)))
    return "\n".join(lines)


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _none(value):
    """NaN / NaT / pd.NA as None."""
    return None if value is None or pd.isna(value) else value


# ---------------------------------------------------------------- data (read-only connection + named queries)

def open_warehouse(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """The warehouse file, opened read-only (an error names the file when it is missing or no warehouse)."""
    return db.connect(Path(warehouse), read_only=True)


def run_params(con, queries) -> pd.DataFrame:
    """params.run: the built as-of and the policy's values (one row)."""
    return query(con, queries, "policy_values")


def dsar_requests(con, queries, year: int) -> pd.DataFrame:
    """Requests received in `year` with the deadline that applies and whether it was met."""
    return query(con, queries, "report_dsar_requests", year=int(year))


def findings_by_rule(con, queries, as_of: dt.date) -> pd.DataFrame:
    frame = query(con, queries, "findings_by_rule", as_of=as_of)
    return frame.astype({"findings": "int64", "items": "int64"})


def findings(con, queries, as_of: dt.date, rule: str | None = None) -> pd.DataFrame:
    frame = query(con, queries, "findings", as_of=as_of, rule=rule)
    frame["count"] = frame["count"].fillna(1).astype("int64")
    return frame


def retention_followup(con, queries, from_on: dt.date | None, to_on: dt.date | None) -> pd.DataFrame:
    return query(con, queries, "report_retention_followup", from_on=from_on, to_on=to_on)


def latest_exports(con, queries) -> pd.DataFrame:
    return query(con, queries, "report_exports")


def _latest_check(checks: pd.DataFrame, as_of: dt.date) -> dict | None:
    if checks.empty:
        return None
    mine = checks[pd.to_datetime(checks["as_of"]).dt.date == as_of]
    if mine.empty:
        return None
    return mine.sort_values("check_run_id").iloc[-1].to_dict()


# ---------------------------------------------------------------- numbers of a year

def request_year_stats(requests: pd.DataFrame) -> dict:
    """Counts and durations of a year's requests (a frame of report_dsar_requests)."""
    closed = requests[~requests["is_open"].astype(bool)] if len(requests) else requests
    days = [int(d) for d in closed["days_to_close"]] if len(closed) else []
    status = requests["deadline_status"].value_counts() if len(requests) else pd.Series(dtype=int)
    policy = requests["policy_status"].value_counts() if len(requests) else pd.Series(dtype=int)
    return {
        "received": len(requests),
        "closed": len(closed),
        "open": len(requests) - len(closed),
        "deadline_met": int(status.get("met", 0)),
        "deadline_missed": int(status.get("missed", 0)),
        "deadline_pending": int(status.get("pending", 0)),
        "policy_met": int(policy.get("met", 0)),
        "policy_missed": int(policy.get("missed", 0)),
        "median_days": median(days),
        "p90_days": percentile(days, 90),
        "extensions": int(requests["has_extension_notice"].sum()) if len(requests) else 0,
        "valid_extensions": int(requests["has_valid_extension"].sum()) if len(requests) else 0,
    }


def requests_by_type_and_month(requests: pd.DataFrame) -> pd.DataFrame:
    """Requests per month of receipt (rows 1-12) and canonical type (columns, in the register's order;
    a type no request has is left out), with a Total column. Months with none hold 0."""
    months = pd.Index(range(1, 13), name="month")
    if requests.empty:
        return pd.DataFrame({"total": 0}, index=months)
    frame = requests.assign(month=pd.to_datetime(requests["received_on"]).dt.month)
    table = pd.crosstab(frame["month"], frame["request_type"]).reindex(months, fill_value=0)
    order = [t for t in REQUEST_TYPES if t in table.columns] + sorted(set(table.columns) - set(REQUEST_TYPES))
    table = table[order]
    table.columns.name = None
    table["total"] = table.sum(axis=1)
    return table.astype("int64")


# ---------------------------------------------------------------- figures (plotly.graph_objects only)

def _figure(title: str, traces: list, **layout) -> go.Figure:
    fig = go.Figure(data=traces)
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        template="plotly_white",
        margin=dict(l=64, r=40, t=72, b=64),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, traceorder="normal"),
        height=420,
        **layout,
    )
    return fig


def figure_requests_by_month(table: pd.DataFrame, year: int, lang: str) -> go.Figure:
    """Stacked bars: requests received per month of `year`, one colour per request type."""
    months = [text(f"report.month_short.{m}", lang) for m in table.index]
    traces = [go.Bar(name=label(t, lang), x=months, y=[int(v) for v in table[t]],
                     marker_color=REQUEST_TYPE_COLOURS.get(t, GREY))
              for t in table.columns if t != "total"]
    return _figure(text("report.requests_figure", lang, year=year), traces, barmode="stack",
                   xaxis=dict(title=text("report.month", lang)),
                   yaxis=dict(title=text("report.requests_axis", lang), rangemode="tozero"))


def _chart_label(title: str, width: int = 46) -> str:
    """A long label on lines of at most `width` characters (Plotly breaks lines at <br>)."""
    return "<br>".join(textwrap.wrap(html.escape(title, quote=False), width)) or title


def figure_findings_by_rule(rules: pd.DataFrame, as_of: dt.date, lang: str) -> go.Figure:
    """Horizontal bars: findings per rule at as-of, coloured by severity; rules without findings shown at 0.
    Each bar is labelled with the rule's title in the language (the rule id shows on hover)."""
    frame = rules.iloc[::-1]
    labels = {r: _chart_label(rule_title(r, lang)) for r in frame["rule"]}
    traces = []
    for severity in SEVERITIES:
        part = frame[frame["severity"] == severity]
        traces.append(go.Bar(
            name=text(f"report.{severity}", lang), orientation="h", y=[labels[r] for r in part["rule"]],
            x=[int(v) for v in part["findings"]],
            marker_color=SEVERITY_COLOURS[severity], customdata=list(part["rule"]),
            hovertemplate="%{customdata}: %{x}<extra></extra>"))
    fig = _figure(text("report.findings_figure", lang, as_of=as_of.isoformat()), traces, barmode="stack",
                  xaxis=dict(title=text("report.findings", lang), rangemode="tozero"),
                  yaxis=dict(categoryorder="array", categoryarray=[labels[r] for r in frame["rule"]],
                             automargin=True, tickfont=dict(size=10)))
    fig.update_layout(height=max(360, 36 * len(frame) + 140))
    return fig


def figure_months_quiet(stale: pd.DataFrame, retention_months: int, lang: str) -> go.Figure:
    """Company-initiated records by whole months since their last dialogue (or creation), coloured
    past retention exactly when the rule found them due (stale_contacts.is_due: the one definition;
    a record quiet exactly the retention period to the day is not yet due)."""
    months = sorted({int(m) for m in stale["months_quiet"]}) if len(stale) else []
    due = stale["is_due"].fillna(False).astype(bool) if len(stale) else pd.Series(dtype=bool)
    inside = [int(((stale["months_quiet"] == m) & ~due).sum()) for m in months]
    past = [int(((stale["months_quiet"] == m) & due).sum()) for m in months]
    traces = [go.Bar(name=text("report.within_retention", lang), x=months, y=inside, marker_color=BLUE),
              go.Bar(name=text("report.past_retention", lang), x=months, y=past, marker_color=VERMILLION)]
    return _figure(text("report.months_figure", lang), traces, barmode="stack",
                   xaxis=dict(title=text("report.months_axis", lang), dtick=3),
                   yaxis=dict(title=text("report.records_axis", lang), rangemode="tozero"))


# ---------------------------------------------------------------- shared pieces of the two reports

def _count_of(rules: pd.DataFrame, rule: str, column: str = "findings") -> int:
    row = rules[rules["rule"] == rule]
    return int(row[column].iloc[0]) if len(row) else 0


def _deletion_rows(deletions: pd.DataFrame, stale: pd.DataFrame, lang: str) -> list[list[str]]:
    quiet = stale.set_index(["record_id", "source"]) if len(stale) else None
    rows = []
    for d in deletions.itertuples(index=False):
        source = "salesforce.contact" if d.sobject == "Contact" else "salesforce.lead"
        last, months = None, None
        if quiet is not None and (d.crm_id, source) in quiet.index:
            info = quiet.loc[(d.crm_id, source)]
            last, months = _none(info["last_dialogue_on"]), _none(info["months_quiet"])
        rows.append([d.crm_id, label(source, lang), fmt_date(d.created_on),
                     fmt_date(last) if last is not None else text("report.none_recorded", lang), fmt_int(months, lang)])
    return rows


def _deletion_header(lang: str) -> list[str]:
    return [text(k, lang) for k in ("report.crm_id", "report.object", "report.created", "report.last_dialogue",
                                    "report.months_quiet")]


def _yes_no(value, lang: str) -> str:
    value = _none(value)
    if value is None:
        return text("report.no_later_export", lang)
    return text("report.yes" if value else "report.no", lang)


def _followup_rows(followup: pd.DataFrame, lang: str) -> list[list[str]]:
    return [[f.record_id, label(f.source, lang), fmt_date(f.first_flagged_on), fmt_date(f.next_export_at),
             _yes_no(f.is_gone_by_next_export, lang), _yes_no(f.is_gone_now, lang)]
            for f in followup.itertuples(index=False)]


def _followup_markdown(followup: pd.DataFrame, period: str, lang: str) -> str:
    if followup.empty:
        return text("report.followup_none", lang, period=period)
    gone = followup["is_gone_by_next_export"]
    known = gone.notna()
    n_gone = int(gone[known].astype(bool).sum())
    parts = [text("report.followup_intro", lang, period=period, n=fmt_int(len(followup), lang),
                  gone=fmt_int(n_gone, lang), present=fmt_int(int(known.sum()) - n_gone, lang),
                  unknown=fmt_int(int((~known).sum()), lang)),
             md_table(_followup_rows(followup, lang),
                      [text(k, lang) for k in ("report.crm_id", "report.object", "report.first_flagged",
                                               "report.next_export", "report.gone_by_next",
                                               "report.gone_now")], lang)]
    return "\n\n".join(parts)


def _notice_markdown(rules: pd.DataFrame, notices: pd.DataFrame, params: dict, lang: str, *,
                     with_intro: bool = True) -> str:
    parts = []
    if with_intro:
        parts.append(text("report.notice_intro", lang, days=params["first_mailing_days"],
                          late=fmt_int(_count_of(rules, "notice.first_mailing_late"), lang),
                          missing=fmt_int(_count_of(rules, "notice.first_mailing_missing"), lang)))
    rows = [[f.record_id, label(f.source, lang), mask_email(f.email), finding_detail(f, lang)]
            for f in notices.itertuples(index=False)]
    if rows:
        parts.append(md_table(rows, [text(k, lang) for k in ("report.crm_id", "report.object", "report.address",
                                                             "report.detail")], lang))
    return "\n\n".join(parts)


def _problems_markdown(problems: list[str], lang: str) -> str:
    if not problems:
        return ""
    return f"> **{text('report.problems_heading', lang)}**\n>\n" + "\n".join(f"> - {p}" for p in problems)


def _exports_markdown(exports: pd.DataFrame, lang: str) -> str:
    rows = []
    for source, part in exports.groupby("source", sort=True):
        latest = part[part["is_latest"].astype(bool)]
        hashes = ", ".join(str(h)[:16] + "…" for h in latest["sha256"])
        rows.append([source, fmt_int(len(part), lang), fmt_time(latest["exported_at"].max()),
                     fmt_int(int(latest["rows"].sum()), lang), hashes])
    return md_table(rows, [text(k, lang) for k in ("report.source", "report.files", "report.latest_export",
                                                   "report.rows", "report.sha256")], lang,
                    limit=200, align=["l", "r", "l", "r", "l"])


def _provenance(*, lang: str, warehouse: str, build: dict | None, params: dict, check: dict | None,
                as_of: dt.date, run_id: str, exports: pd.DataFrame) -> str:
    parts = [f"## {text('report.provenance_heading', lang)}"]
    lines = []
    if build:
        lines.append(text("report.prov_warehouse", lang, file=md_escape(warehouse), built=fmt_date(params.get("as_of")),
                          build_id=build.get("run_id"), finished=fmt_time(build.get("finished_at")),
                          models=build.get("models"), version=build.get("insyn_version") or "–"))
    lines.append(text("report.prov_run", lang, run_id=md_escape(run_id)) if run_id
                 else text("report.prov_no_run", lang))
    if check:
        lines.append(text("report.prov_check", lang, id=check["check_run_id"], as_of=as_of.isoformat(),
                          finished=fmt_time(check["finished_at"]), failed=check["failed"],
                          expectations=check["expectations"]))
    else:
        lines.append(text("report.prov_no_check", lang, as_of=as_of.isoformat()))
    if params.get("policy_sha256"):
        lines.append(text("report.prov_policy_file", lang, sha=params["policy_sha256"]))
    if params.get("policy_text_sha256"):
        lines.append(text("report.prov_policy", lang, sha=params["policy_text_sha256"]))
    parts.append("\n".join(f"- {line}" for line in lines))
    files = build.get("files_loaded") if build else len(exports)
    parts.append(text("report.prov_exports", lang, files=fmt_int(files, lang)))
    parts.append(_exports_markdown(exports, lang))
    return "\n\n".join(parts)


def _check_sources(exports: pd.DataFrame, sources: Sequence[str], as_of: dt.date, lang: str) -> list[str]:
    have = set(exports["source"]) if len(exports) else set()
    return [text("report.problem_no_export", lang, source=s, as_of=as_of.isoformat()) for s in sources if s not in have]


def _common_problems(params: pd.DataFrame, as_of: dt.date, lang: str) -> tuple[dict, list[str]]:
    if len(params) != 1:
        return {}, [text("report.problem_params", lang)]
    row = {k: _none(v) for k, v in params.iloc[0].to_dict().items()}
    built = _date(row["as_of"])
    row["as_of"] = built
    problems = []
    if built != as_of:
        problems.append(text("report.problem_as_of", lang, built=built.isoformat(), as_of=as_of.isoformat()))
    return row, problems


# ---------------------------------------------------------------- the yearly audit report

@dataclass
class YearlyData:
    """Everything the yearly report shows, read once from the warehouse."""

    params: pd.DataFrame
    requests: pd.DataFrame               # received in the audited year (report_dsar_requests)
    previous_requests: pd.DataFrame      # received in the year before
    unreadable: pd.DataFrame             # register rows with unreadable date cells
    rules: pd.DataFrame                  # findings_by_rule at as-of
    findings: pd.DataFrame               # every finding at as-of (findings)
    deletions: pd.DataFrame              # deletion_list
    stale: pd.DataFrame                  # stale_contacts
    followup: pd.DataFrame               # report_retention_followup for the year's check runs
    weblog_files: pd.DataFrame
    subprocessors: pd.DataFrame
    exports: pd.DataFrame
    build: pd.DataFrame
    checks: pd.DataFrame
    check_results: pd.DataFrame = field(default_factory=pd.DataFrame)   # the as-of's latest check run
    not_evaluated: pd.DataFrame = field(default_factory=pd.DataFrame)   # rules and suites not evaluated at as-of


def load_yearly_data(con, queries, year: int, as_of: dt.date) -> YearlyData:
    q = Path(queries)
    return YearlyData(
        params=run_params(con, q),
        requests=dsar_requests(con, q, year),
        previous_requests=dsar_requests(con, q, year - 1),
        unreadable=query(con, q, "report_register_unreadable"),
        rules=findings_by_rule(con, q, as_of),
        findings=findings(con, q, as_of),
        deletions=query(con, q, "deletion_list"),
        stale=query(con, q, "stale_contacts"),
        followup=retention_followup(con, q, dt.date(year, 1, 1), min(as_of, dt.date(year, 12, 31))),
        weblog_files=query(con, q, "report_weblog_files"),
        subprocessors=query(con, q, "subprocessors"),
        exports=latest_exports(con, q),
        build=query(con, q, "report_build"),
        checks=query(con, q, "check_history"),
        check_results=query(con, q, "check_results", as_of=as_of),
        not_evaluated=query(con, q, "not_evaluated", as_of=as_of),
    )


# The yearly report's sections in the notebook's order: the table of contents lists their headings.
YEARLY_SECTIONS = ("report.summary", "report.requests_heading", "report.deadlines_heading",
                   "report.retention_heading", "report.optout_heading", "report.weblog_heading",
                   "report.transfers_heading", "report.policy_heading", "report.findings_heading",
                   "report.failed_checks_heading", "report.provenance_heading")


def heading_anchor(heading: str) -> str:
    """The id the notebook's HTML gives a heading (nbconvert: spaces as hyphens, then URL-quoted)."""
    return quote(heading.replace(" ", "-"), safe="?/:@!$&'()*+,;=")


@dataclass
class YearlyReport:
    """The yearly audit report for the external auditor: build it with `YearlyReport.load(...)`."""

    data: YearlyData
    year: int
    as_of: dt.date
    language: str
    warehouse: str = ""
    problems: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    locale: str | None = None            # the workbench's locale/ folder (None: the reference workbench's)

    def __post_init__(self):
        check_language(self.language)
        self.words = cached(Path(self.locale) if self.locale else None, self.language)
        self.params, problems = _common_problems(self.data.params, self.as_of, self.words)
        if self.as_of < dt.date(self.year, 1, 1):
            problems.append(text("report.problem_before_year", self.words, as_of=self.as_of.isoformat(),
                                 year=self.year))
        problems += _check_sources(self.data.exports, ("register.requests", "salesforce.contact"), self.as_of,
                                   self.words)
        self.problems = problems + [p for p in self.problems if p not in problems]

    @classmethod
    def load(cls, warehouse: str, queries: str, year: int, as_of: str, language: str,
             locale: str | None = None) -> "YearlyReport":
        """Read what the report needs from the warehouse (opened read-only, closed again); its words
        come from the catalogs in `locale` (the workbench's locale/ folder)."""
        check_language(language)
        as_of_date = _date(as_of)
        con = open_warehouse(warehouse)
        try:
            data = load_yearly_data(con, queries, int(year), as_of_date)
        finally:
            con.close()
        return cls(data=data, year=int(year), as_of=as_of_date, language=language, warehouse=str(warehouse),
                   locale=locale)

    # -- state

    @property
    def ok(self) -> bool:
        """True when the data can be relied on (the notebook's last cell asserts it)."""
        return not self.problems

    @property
    def lang(self) -> Catalog:
        """The report's words: a texts.Catalog (its `.lang` is the language code)."""
        return self.words

    def stats(self) -> dict:
        return request_year_stats(self.data.requests)

    def previous_stats(self) -> dict:
        return request_year_stats(self.data.previous_requests)

    # -- sections

    def title_markdown(self) -> str:
        lang = self.lang
        lines = [f"# {text('report.yearly_title', lang, year=self.year)}", "",
                 text("report.as_of_line", lang, as_of=self.as_of.isoformat(), year=self.year, prev=self.year - 1)]
        if self.as_of < dt.date(self.year, 12, 31) and self.as_of >= dt.date(self.year, 1, 1):
            lines += ["", text("report.partial_year", lang, as_of=self.as_of.isoformat(), year=self.year)]
        lines += ["", text("report.language_line", lang)]
        problems = _problems_markdown(self.problems, lang)
        if problems:
            lines += ["", problems]
        return "\n".join(lines)

    def summary_table(self) -> pd.DataFrame:
        """The year against the previous year, one row per measure, formatted for the language."""
        lang, p = self.lang, self.params
        cur, prev = self.stats(), self.previous_stats()
        target = p.get("dsar_policy_target_days")

        def judged(s, key):
            return s[f"{key}_met"], s[f"{key}_met"] + s[f"{key}_missed"]

        def ext(s):
            return f"{fmt_int(s['extensions'], lang)} ({fmt_int(s['valid_extensions'], lang)})"

        measures = [
            (text("report.requests_received", lang), fmt_int(cur["received"], lang), fmt_int(prev["received"], lang)),
            (text("report.closed_requests", lang), fmt_int(cur["closed"], lang), fmt_int(prev["closed"], lang)),
            (text("report.open_at", lang, as_of=self.as_of.isoformat()), fmt_int(cur["open"], lang),
             fmt_int(prev["open"], lang)),
            (text("report.legal_met", lang), fmt_pct(*judged(cur, "deadline"), lang),
             fmt_pct(*judged(prev, "deadline"), lang)),
            (text("report.legal_missed", lang), fmt_int(cur["deadline_missed"], lang),
             fmt_int(prev["deadline_missed"], lang)),
            (text("report.legal_pending", lang), fmt_int(cur["deadline_pending"], lang),
             fmt_int(prev["deadline_pending"], lang)),
            (text("report.policy_met", lang, days=target), fmt_pct(*judged(cur, "policy"), lang),
             fmt_pct(*judged(prev, "policy"), lang)),
            (text("report.median_days", lang), fmt_num(cur["median_days"], lang), fmt_num(prev["median_days"], lang)),
            (text("report.p90_days", lang), fmt_num(cur["p90_days"], lang), fmt_num(prev["p90_days"], lang)),
            (text("report.extensions", lang), ext(cur), ext(prev)),
        ]
        return pd.DataFrame(measures, columns=[text("report.measure", lang), str(self.year), str(self.year - 1)])

    def summary_markdown(self) -> str:
        lang, p = self.lang, self.params
        table = self.summary_table()
        parts = [f"## {text('report.summary', lang)}",
                 md_table(table.values.tolist(), list(table.columns), lang, align=["l", "r", "r"]),
                 text("report.deadline_explained", lang,
                      legal=months_text(int(p.get("dsar_legal_deadline_months") or 0), lang),
                      extended=months_text(int(p.get("dsar_extended_deadline_months") or 0), lang),
                      target=p.get("dsar_policy_target_days"), as_of=self.as_of.isoformat())]
        if len(self.data.unreadable):
            ids = ", ".join(md_escape(i) for i in self.data.unreadable["request_id"])
            parts.append(text("report.unreadable_dates", lang, n=len(self.data.unreadable), ids=ids))
        rules = self.data.rules
        with_findings = rules[rules["findings"] > 0]
        if with_findings.empty:
            parts.append(text("report.no_findings", lang, as_of=self.as_of.isoformat()))
        else:
            per = with_findings.groupby("severity")["findings"].sum()
            parts.append(text("report.findings_summary", lang, as_of=self.as_of.isoformat(),
                              rules=len(with_findings), all=len(rules),
                              total=fmt_int(int(with_findings["findings"].sum()), lang),
                              **{s: fmt_int(int(per.get(s, 0)), lang) for s in SEVERITIES}))
            rows = [[text(f"report.{r.severity}", lang), rule_title(r.rule, lang), fmt_int(r.findings, lang)]
                    for r in with_findings.itertuples(index=False)]
            parts.append(md_table(rows, [text("report.severity", lang), text("report.rules_with_findings", lang),
                                         text("report.findings", lang)], lang, align=["l", "l", "r"]))
        return "\n\n".join(parts)

    def requests_by_type_and_month(self) -> pd.DataFrame:
        """Requests of the year per month (1-12) and type, with a total column."""
        return requests_by_type_and_month(self.data.requests)

    def requests_section(self) -> str:
        lang = self.lang
        table = self.requests_by_type_and_month()
        parts = [f"## {text('report.requests_heading', lang)}"]
        if self.data.requests.empty:
            parts.append(text("report.no_requests", lang, year=self.year))
            return "\n\n".join(parts)
        parts.append(text("report.requests_intro", lang, year=self.year, n=fmt_int(len(self.data.requests), lang),
                          prev=self.year - 1, prev_n=fmt_int(len(self.data.previous_requests), lang)))
        header = [text("report.month", lang)] + [label(c, lang) if c != "total" else text("report.total", lang)
                                          for c in table.columns]
        rows = [[month_name(m, lang)] + [fmt_int(v, lang) for v in row] for m, row in zip(table.index, table.values)]
        rows.append([text("report.total", lang)] + [fmt_int(v, lang) for v in table.sum(axis=0)])
        parts.append(md_table(rows, header, lang, align=["l"] + ["r"] * len(table.columns)))
        return "\n\n".join(parts)

    def figure_requests_by_month(self) -> go.Figure:
        return figure_requests_by_month(self.requests_by_type_and_month(), self.year, self.lang)

    def _status(self, status: str, is_open: bool) -> str:
        if status == "missed":
            return text("report.status_missed_open" if is_open else "report.status_missed", self.lang)
        return text(f"report.status_{status}", self.lang)

    def deadline_table(self) -> pd.DataFrame:
        """The year's requests, one row each: received, the legal deadline before and after moving it to a
        working day, the extension and extended deadline (when one was told), closed, days and the judgement
        against the legal deadline and the policy's target. Columns named, values written in the language."""
        lang = self.lang
        rows = []
        for r in self.data.requests.itertuples(index=False):
            told = _none(r.extension_notified_on)
            extension = "–" if told is None else text(
                "report.extension_valid" if r.has_valid_extension else "report.extension_late", lang,
                date=fmt_date(told))
            rows.append([r.request_id, label(r.request_type, lang), fmt_date(r.received_on),
                         fmt_date(r.legal_due_unrolled_on), fmt_date(r.legal_due_on), extension,
                         fmt_date(r.extended_due_unrolled_on) if told is not None else "–",
                         fmt_date(r.extended_due_on) if told is not None else "–", fmt_date(r.closed_on),
                         int(r.days_elapsed), self._status(r.deadline_status, r.is_open),
                         self._status(r.policy_status, r.is_open)])
        header = [text(k, lang) for k in ("report.request_id", "report.type", "report.received",
                                          "report.legal_unrolled", "report.legal_rolled", "report.extension_told",
                                          "report.extended_unrolled", "report.extended_deadline", "report.closed",
                                          "report.days", "report.deadline")]
        header.append(text("report.policy_status", lang, days=self.params.get("dsar_policy_target_days")))
        return pd.DataFrame(rows, columns=header)

    def deadline_section(self) -> str:
        """The deadline table, compact enough for an A4 page: the deadline that applied in one column (marked
        when moved to a working day or extended), the moves and extensions spelled out below the table."""
        lang = self.lang
        s = self.stats()
        parts = [f"## {text('report.deadlines_heading', lang)}"]
        if self.data.requests.empty:
            parts.append(text("report.no_requests", lang, year=self.year))
            return "\n\n".join(parts)
        parts.append(text("report.deadlines_intro", lang, year=self.year, missed=fmt_int(s["deadline_missed"], lang),
                          pending=fmt_int(s["deadline_pending"], lang)))
        rows, notes = [], []
        for r in self.data.requests.itertuples(index=False):
            due = fmt_date(r.applicable_due_on)
            marks = []
            if r.has_valid_extension:
                marks.append(text("report.mark_extended", lang))
                notes.append(text("report.note_extended", lang, id=r.request_id, told=fmt_date(r.extension_notified_on),
                                  legal=fmt_date(r.legal_due_on), due=fmt_date(r.extended_due_on)))
            elif _none(r.extension_notified_on) is not None:
                notes.append(text("report.note_extension_late", lang, id=r.request_id,
                                  told=fmt_date(r.extension_notified_on), legal=fmt_date(r.legal_due_on)))
            unrolled = r.extended_due_unrolled_on if r.has_valid_extension else r.legal_due_unrolled_on
            if fmt_date(unrolled) != due:
                marks.append(text("report.mark_moved", lang))
                notes.append(text("report.note_moved", lang, id=r.request_id, unrolled=fmt_date(unrolled), due=due))
            if marks:
                due = f"{due} ({', '.join(marks)})"
            rows.append([r.request_id, label(r.request_type, lang), fmt_date(r.received_on), due,
                         fmt_date(r.closed_on), fmt_int(r.days_elapsed, lang),
                         self._status(r.deadline_status, r.is_open)])
        header = [text(k, lang) for k in ("report.request_id", "report.type", "report.received",
                                          "report.deadline_applied", "report.closed", "report.days",
                                          "report.deadline")]
        parts.append(md_table(rows, header, lang, limit=200, align=["l", "l", "l", "l", "l", "r", "l"]))
        late = self.data.requests[self.data.requests["policy_status"] == "missed"]["request_id"]
        notes.append(text("report.note_policy", lang, days=self.params.get("dsar_policy_target_days"),
                          ids=", ".join(late) if len(late) else text("report.none", lang)))
        parts.append("\n".join(f"- {md_escape(n)}" for n in notes))
        return "\n\n".join(parts)

    def retention_section(self) -> str:
        lang, p = self.lang, self.params
        n = _count_of(self.data.rules, RETENTION_RULE)
        parts = [f"## {text('report.retention_heading', lang)}",
                 text("report.retention_intro", lang, months=p.get("retention_inactive_months"), as_of=self.as_of.isoformat(),
                      n=fmt_int(n, lang), rule=RETENTION_RULE)]
        rows = _deletion_rows(self.data.deletions, self.data.stale, lang)
        if rows:
            parts.append(md_table(rows, _deletion_header(lang), lang, align=["l", "l", "l", "l", "r"]))
        parts.append(_followup_markdown(self.data.followup, text("report.period_year", lang, year=self.year), lang))
        return "\n\n".join(parts)

    def _rule_findings(self, *rules: str) -> pd.DataFrame:
        f = self.data.findings
        return f[f["rule"].isin(rules)]

    def optout_section(self) -> str:
        lang = self.lang
        rules = self.data.rules
        parts = [f"## {text('report.optout_heading', lang)}",
                 text("report.optout_intro", lang, after=fmt_int(_count_of(rules, "optout.marketing_after_optout"), lang),
                      sync=fmt_int(_count_of(rules, "optout.not_synced"), lang))]
        optouts = self._rule_findings("optout.marketing_after_optout", "optout.not_synced")
        rows = [[f.rule, mask_email(f.record_id), f.source, finding_detail(f, lang)]
                for f in optouts.itertuples(index=False)]
        if rows:
            parts.append(md_table(rows, [text(k, lang) for k in ("report.rule", "report.address", "report.source",
                                                                 "report.detail")], lang))
        parts.append(_notice_markdown(rules, self._rule_findings("notice.first_mailing_late",
                                                                 "notice.first_mailing_missing"), self.params, lang))
        return "\n\n".join(parts)

    def weblog_section(self) -> str:
        lang, p = self.lang, self.params
        files = self.data.weblog_files
        parts = [f"## {text('report.weblog_heading', lang)}"]
        if files.empty:
            parts.append(text("report.no_weblogs", lang))
            return "\n\n".join(parts)
        past = self._rule_findings("weblog.retention_exceeded")
        email = self._rule_findings("weblog.personal_data_in_url")
        parts.append(text("report.weblog_intro", lang, months=p.get("weblog_retention_months"),
                          horizon=fmt_time(p.get("weblog_horizon_at")).replace(" UTC", ""),
                          lines=fmt_int(int(files["lines"].sum()), lang), files=fmt_int(len(files), lang),
                          past=fmt_int(int(past["count"].sum()), lang), past_days=fmt_int(len(past), lang),
                          email=fmt_int(int(email["count"].sum()), lang), email_days=fmt_int(len(email), lang)))
        rows = [[f.file, fmt_int(f.lines, lang), fmt_date(f.first_on), fmt_date(f.last_on),
                 fmt_int(f.lines_past_horizon, lang), fmt_int(f.lines_with_email, lang)]
                for f in files.itertuples(index=False)]
        parts.append(md_table(rows, [text(k, lang) for k in ("report.file", "report.lines", "report.first_day",
                                                             "report.last_day", "report.past_horizon",
                                                             "report.with_email")], lang,
                              align=["l", "r", "l", "l", "r", "r"]))
        return "\n\n".join(parts)

    def transfers_table(self) -> pd.DataFrame:
        lang = self.lang
        rows = []
        for s in self.data.subprocessors.itertuples(index=False):
            if s.is_in_eea:
                judgement = text("report.valid", lang) + " (" + text("report.in_eea", lang) + ")"
            elif s.has_country_adequacy:
                judgement = text("report.valid", lang) + " (" + text("report.adequate_country", lang) + ")"
            elif s.is_transfer_valid:
                judgement = text("report.valid", lang)
            else:
                judgement = text("report.invalid", lang, reason=findings_mod.reason(s.invalid_reason, words(lang)))
            rows.append([s.subprocessor_name, s.country_iso2, _none(s.processing_role) or "–",
                         label(s.transfer_mechanism, lang), fmt_date(s.dpf_certified_until), fmt_date(s.tia_on),
                         fmt_date(s.dpa_on), judgement])
        return pd.DataFrame(rows, columns=[text(k, lang) for k in ("report.sub_processor", "report.country",
                                                                   "report.role", "report.mechanism",
                                                                   "report.dpf_until", "report.tia", "report.dpa",
                                                                   "report.judgement")])

    def transfers_section(self) -> str:
        lang = self.lang
        subs = self.data.subprocessors
        parts = [f"## {text('report.transfers_heading', lang)}"]
        if subs.empty:
            parts.append(text("report.no_subprocessors", lang))
            return "\n\n".join(parts)
        outside = int((~subs["is_in_eea"].astype(bool)).sum())
        invalid = int((~subs["is_transfer_valid"].astype(bool)).sum())
        parts.append(text("report.transfers_intro", lang, as_of=self.as_of.isoformat(), n=fmt_int(len(subs), lang),
                          outside=fmt_int(outside, lang), invalid=fmt_int(invalid, lang)))
        rows = []
        for s, judgement in zip(subs.itertuples(index=False), self.transfers_table()[text("report.judgement", lang)]):
            basis = label(s.transfer_mechanism, lang)
            evidence = [f"{text(k, lang)} {fmt_date(v)}" for k, v in (("report.dpf_until", s.dpf_certified_until),
                                                                       ("report.tia", s.tia_on)) if _none(v) is not None]
            if evidence:
                basis += " (" + ", ".join(evidence) + ")"
            rows.append([s.subprocessor_name, s.country_iso2, _none(s.processing_role) or "–", basis, judgement])
        parts.append(md_table(rows, [text(k, lang) for k in ("report.sub_processor", "report.country", "report.role",
                                                             "report.mechanism",
                                                             "report.judgement")], lang, limit=200))
        return "\n\n".join(parts)

    def policy_text_section(self) -> str:
        lang, p = self.lang, self.params
        parts = [f"## {text('report.policy_heading', lang)}"]
        if not p.get("policy_text_found"):
            parts.append(text("report.policy_missing", lang))
        overdue = _count_of(self.data.rules, "policy.review_overdue")
        outdated = self._rule_findings("policy.outdated_reference")
        parts.append(text("report.policy_intro", lang, reviewed=fmt_date(p.get("policy_last_reviewed_on")),
                          months=p.get("policy_review_interval_months"),
                          overdue=text("report.overdue_yes" if overdue else "report.overdue_no", lang),
                          outdated=fmt_int(len(outdated), lang)))
        found = self._rule_findings("policy.outdated_reference", "policy.review_overdue")
        rows = [[f.rule, f.record_id, finding_detail(f, lang), fmt_int(n, lang)]
                for f, n in zip(found.itertuples(index=False), found["count"])]
        if rows:
            parts.append(md_table(rows, [text(k, lang) for k in ("report.rule", "report.where", "report.detail",
                                                                 "report.occurrences")], lang,
                                  align=["l", "l", "l", "r"]))
        if p.get("policy_text_sha256"):
            parts.append(text("report.policy_hash", lang, sha=p["policy_text_sha256"]))
        return "\n\n".join(parts)

    def findings_table(self) -> pd.DataFrame:
        """Every rule: id, title in the language, severity, legal reference, findings and items at as-of."""
        lang = self.lang
        r = self.data.rules
        return pd.DataFrame({
            text("report.rule_id", lang): r["rule"],
            text("report.title", lang): [rule_title(x, lang) for x in r["rule"]],
            text("report.severity", lang): [text(f"report.{s}", lang) if s in SEVERITIES else s for s in r["severity"]],
            text("report.legal_reference", lang): r["legal_reference"],
            text("report.findings", lang): r["findings"].astype("int64"),
            text("report.items", lang): r["items"].astype("int64"),
        })

    def findings_section(self) -> str:
        lang = self.lang
        table = self.findings_table()
        # a rule not evaluated (what it needs was never loaded) has no count: its 0 would read as compliance
        unable = set(self.data.rules.loc[self.data.rules["not_evaluated"].astype(bool), "rule"]) \
            if "not_evaluated" in self.data.rules else set()
        rows = [[row[1], row[0], row[2], row[3], text("not_evaluated.short", lang) if row[0] in unable
                 else fmt_int(row[4], lang) + (f" ({fmt_int(row[5], lang)})" if row[5] != row[4] else "")]
                for row in table.itertuples(index=False)]
        header = [table.columns[1], table.columns[0], table.columns[2], table.columns[3], table.columns[4]]
        parts = [f"## {text('report.findings_heading', lang)}",
                 text("report.findings_intro", lang, as_of=self.as_of.isoformat()),
                 md_table(rows, header, lang, limit=200, align=["l", "l", "l", "l", "r"])]
        entries = [e for e in self.data.not_evaluated.to_dict("records") if isinstance(e.get("rule"), str)]
        if entries:
            parts.append(text("report.not_evaluated_intro", lang, as_of=self.as_of.isoformat()))
            parts.append("\n".join(f"- {md_escape(line)}" for line in findings_mod.not_evaluated_lines(entries, lang)))
        return "\n\n".join(parts)

    def figure_findings_by_rule(self) -> go.Figure:
        return figure_findings_by_rule(self.data.rules, self.as_of, self.lang)

    def contents_markdown(self) -> str:
        """The table of contents: each section's heading, linked (the PDF adds its page number)."""
        lang = self.lang
        titles = [text(key, lang) for key in YEARLY_SECTIONS]
        return "\n".join([f"## {text('report.contents_heading', lang)}", ""]
                         + [f"- [{title}](#{heading_anchor(title)})" for title in titles])

    def _failed_checks(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The as-of's failed expectations: (quality checks, rule checks)."""
        results = self.data.check_results
        if results.empty:
            return results, results
        failed = results[~results["success"].astype(bool)]
        is_rule = failed["check_name"].isin(set(self.data.rules["rule"]))
        return failed[~is_rule], failed[is_rule]

    def failed_checks_table(self) -> pd.DataFrame:
        """Each failed quality check of the as-of's check run: the check in the language, what it looked at
        (suite and column) and how many rows failed it (of how many it looked at). A rule check that could
        not run is listed too (a rule that ran and failed is a rule with findings)."""
        lang = self.lang
        quality, rules = self._failed_checks()
        rows = [[_check_title(r.check_name, r.description, lang), _suite_label(r.suite, lang),
                 _none(r.column_name) or "–", _failed_rows(r, lang)] for r in quality.itertuples(index=False)]
        rows += [[rule_title(r.check_name, lang), _suite_label(r.suite, lang), "–", _failed_rows(r, lang)]
                 for r in rules.itertuples(index=False) if _none(r.exception) is not None]
        return pd.DataFrame(rows, columns=[text(k, lang) for k in ("report.check", "report.checked",
                                                                   "report.column", "report.failed_rows")])

    def failed_checks_section(self) -> str:
        lang = self.lang
        parts = [f"## {text('report.failed_checks_heading', lang)}"]
        check = _latest_check(self.data.checks, self.as_of)
        if check is None:
            parts.append(text("report.prov_no_check", lang, as_of=self.as_of.isoformat()))
            return "\n\n".join(parts)
        table = self.failed_checks_table()
        parts.append(text("report.failed_checks_intro", lang, id=check["check_run_id"], as_of=self.as_of.isoformat(),
                          failed=fmt_int(check["failed"], lang), expectations=fmt_int(check["expectations"], lang),
                          quality=fmt_int(len(self._failed_checks()[0]), lang),
                          rules=fmt_int(len(self._failed_checks()[1]), lang),
                          heading=text("report.findings_heading", lang)))
        if len(table):
            parts.append(md_table(table.values.tolist(), list(table.columns), lang, limit=200,
                                  align=["l", "l", "l", "r"]))
        return "\n\n".join(parts)

    def provenance_markdown(self, run_id: str = "") -> str:
        build = self.data.build.iloc[0].to_dict() if len(self.data.build) else None
        return _provenance(lang=self.lang, warehouse=self.warehouse, build=build, params=self.params,
                           check=_latest_check(self.data.checks, self.as_of), as_of=self.as_of, run_id=run_id,
                           exports=self.data.exports)


def _check_title(check: str, description, lang) -> str:
    """A quality check in the language (report.check.<name>); else the suite's own description, or its name."""
    key = f"report.check.{check}"
    if key in words(lang):
        return text(key, lang)
    return _none(description) or str(check)


def _suite_label(suite: str, lang) -> str:
    key = f"report.suite.{suite}"
    return text(key, lang) if key in words(lang) else str(suite)


def _failed_rows(result, lang) -> str:
    """'2 av 256' rows failed (or the count alone when GX counted no rows; 'not run' on an error)."""
    if _none(result.exception) is not None:
        return text("report.check_not_run", lang)
    failed = _none(result.unexpected_count)
    if failed is None:
        return "–"
    total = _none(result.element_count)
    if total is None:
        return fmt_int(failed, lang)
    return text("report.of", lang, n=fmt_int(failed, lang), d=fmt_int(total, lang))


# ---------------------------------------------------------------- the monthly retention review

@dataclass
class RetentionData:
    params: pd.DataFrame
    rules: pd.DataFrame
    findings: pd.DataFrame
    deletions: pd.DataFrame
    stale: pd.DataFrame
    coming_due: pd.DataFrame             # coming_due within the longest horizon
    followup: pd.DataFrame               # flagged at check runs before as-of
    exports: pd.DataFrame
    build: pd.DataFrame
    checks: pd.DataFrame


COMING_DUE_DAYS = (30, 60, 90)


def load_retention_data(con, queries, as_of: dt.date) -> RetentionData:
    q = Path(queries)
    return RetentionData(
        params=run_params(con, q),
        rules=findings_by_rule(con, q, as_of),
        findings=findings(con, q, as_of),
        deletions=query(con, q, "deletion_list"),
        stale=query(con, q, "stale_contacts"),
        coming_due=query(con, q, "coming_due", days=max(COMING_DUE_DAYS)),
        followup=retention_followup(con, q, None, as_of - dt.timedelta(days=1)),
        exports=latest_exports(con, q),
        build=query(con, q, "report_build"),
        checks=query(con, q, "check_history"),
    )


def _month(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"review_month must be YYYY-MM, not {value!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass
class RetentionReview:
    """The DPO's monthly retention review: build it with `RetentionReview.load(...)`."""

    data: RetentionData
    review_month: str
    as_of: dt.date
    language: str
    warehouse: str = ""
    problems: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    locale: str | None = None            # the workbench's locale/ folder (None: the reference workbench's)

    def __post_init__(self):
        check_language(self.language)
        self.words = cached(Path(self.locale) if self.locale else None, self.language)
        year, month = _month(self.review_month)
        self.params, problems = _common_problems(self.data.params, self.as_of, self.words)
        if self.as_of < dt.date(year, month, 1):
            problems.append(text("report.problem_month", self.words, as_of=self.as_of.isoformat(),
                                 month=self.review_month))
        problems += _check_sources(self.data.exports, ("salesforce.contact",), self.as_of, self.words)
        self.problems = problems + [p for p in self.problems if p not in problems]

    @classmethod
    def load(cls, warehouse: str, queries: str, review_month: str, as_of: str, language: str,
             locale: str | None = None) -> "RetentionReview":
        check_language(language)
        _month(review_month)
        as_of_date = _date(as_of)
        con = open_warehouse(warehouse)
        try:
            data = load_retention_data(con, queries, as_of_date)
        finally:
            con.close()
        return cls(data=data, review_month=review_month, as_of=as_of_date, language=language,
                   warehouse=str(warehouse), locale=locale)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lang(self) -> Catalog:
        """The report's words: a texts.Catalog (its `.lang` is the language code)."""
        return self.words

    def _month_text(self) -> str:
        year, month = _month(self.review_month)
        return f"{month_name(month, self.lang)} {year}"

    def title_markdown(self) -> str:
        lang = self.lang
        lines = [f"# {text('report.monthly_title', lang, month=self._month_text())}", "",
                 text("report.monthly_as_of_line", lang, as_of=self.as_of.isoformat(), month=self._month_text()), "",
                 text("report.language_line", lang)]
        problems = _problems_markdown(self.problems, lang)
        if problems:
            lines += ["", problems]
        return "\n".join(lines)

    def due_now(self) -> pd.DataFrame:
        """The deletion list at as-of (deletion_list: CRM id, object, e-mail, created, detail)."""
        return self.data.deletions

    def due_now_section(self) -> str:
        lang = self.lang
        n = _count_of(self.data.rules, RETENTION_RULE)
        parts = [f"## {text('report.due_now_heading', lang)}",
                 text("report.due_now_intro", lang, months=self.params.get("retention_inactive_months"),
                      as_of=self.as_of.isoformat(), rule=RETENTION_RULE, n=fmt_int(n, lang))]
        rows = _deletion_rows(self.data.deletions, self.data.stale, lang)
        if rows:
            parts.append(md_table(rows, _deletion_header(lang), lang, limit=500, align=["l", "l", "l", "l", "r"]))
        return "\n\n".join(parts)

    def coming_due_counts(self) -> dict[int, int]:
        """Records coming due within 30, 60 and 90 days of as-of (cumulative)."""
        days = self.data.coming_due["days_left"]
        return {n: int((days <= n).sum()) for n in COMING_DUE_DAYS}

    def coming_due_section(self) -> str:
        lang = self.lang
        counts = self.coming_due_counts()
        parts = [f"## {text('report.coming_due_heading', lang)}",
                 text("report.coming_due_intro", lang, as_of=self.as_of.isoformat(),
                      **{f"n{n}": fmt_int(c, lang) for n, c in counts.items()})]
        rows = []
        for c in self.data.coming_due.itertuples(index=False):
            bucket = next(n for n in COMING_DUE_DAYS if c.days_left <= n)
            rows.append([c.record_id, label(c.source, lang), fmt_date(c.created_on),
                         fmt_date(c.last_dialogue_on) if _none(c.last_dialogue_on) is not None
                         else text("report.none_recorded", lang),
                         fmt_date(c.due_on), fmt_int(c.days_left, lang), text("report.within_days", lang, n=bucket)])
        if rows:
            parts.append(md_table(rows, [text(k, lang) for k in ("report.crm_id", "report.object", "report.created",
                                                                 "report.last_dialogue", "report.due_on",
                                                                 "report.days_left", "report.within")], lang,
                                  limit=500, align=["l", "l", "l", "l", "l", "r", "l"]))
        return "\n\n".join(parts)

    def figure_months_quiet(self) -> go.Figure:
        return figure_months_quiet(self.data.stale, int(self.params.get("retention_inactive_months") or 0), self.lang)

    def flagged_earlier_section(self) -> str:
        lang = self.lang
        return "\n\n".join([f"## {text('report.flagged_earlier_heading', lang)}",
                            _followup_markdown(self.data.followup,
                                               text("report.period_before", lang, as_of=self.as_of.isoformat()), lang)])

    def first_notice_section(self) -> str:
        lang = self.lang
        f = self.data.findings
        notices = f[f["rule"].isin(("notice.first_mailing_late", "notice.first_mailing_missing"))]
        return "\n\n".join([f"## {text('report.first_notice_heading', lang)}",
                            _notice_markdown(self.data.rules, notices, self.params, lang)])

    def provenance_markdown(self, run_id: str = "") -> str:
        build = self.data.build.iloc[0].to_dict() if len(self.data.build) else None
        return _provenance(lang=self.lang, warehouse=self.warehouse, build=build, params=self.params,
                           check=_latest_check(self.data.checks, self.as_of), as_of=self.as_of, run_id=run_id,
                           exports=self.data.exports)


# ---------------------------------------------------------------- notebook set-up

def setup_notebook() -> None:
    """Figures embedded with plotly.js once (offline; the default renderer under papermill drops them),
    and pandas display options for tables."""
    import plotly.io as pio

    pio.renderers["notebook"].config = {"displayModeBar": False, "displaylogo": False}  # a report, not a tool
    pio.renderers.default = "notebook"
    pd.set_option("display.max_rows", MAX_TABLE_ROWS)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.width", 160)
