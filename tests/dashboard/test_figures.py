"""The dashboard's figures: pure functions of the named queries' frames, in Swedish and English.

Small hand-made frames pin the behaviour; the demo warehouse (data/demo, or
a private `insyn demo` when it is missing) checks each figure against the
real query's columns.
"""

from __future__ import annotations

import ast
import re
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from dashboards.components import figures, i18n  # noqa: E402

from insyn.queries import query  # noqa: E402

QUERIES = REPO / "pipelines" / "queries"
FIGURES_SOURCE = (REPO / "dashboards" / "components" / "figures.py").read_text(encoding="utf-8")
AS_OF = date(2026, 11, 24)


# ---------------------------------------------------------------- helpers

def d(text: str | None):
    return pd.NaT if text is None else pd.Timestamp(text)


def annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def bar_end(base: str, x_ms: float) -> pd.Timestamp:
    return pd.Timestamp(base) + pd.Timedelta(milliseconds=x_ms)


def points(fig: go.Figure, name: str) -> dict[str, str]:
    """request id -> x of the trace called `name` (a marker or tick trace)."""
    trace = next(tr for tr in fig.data if tr.name == name)
    return dict(zip(trace.y, trace.x))


def bars_by_id(fig: go.Figure) -> dict[str, tuple[go.Bar, int]]:
    out = {}
    for trace in fig.data:
        if trace.type == "bar":
            for i, rid in enumerate(trace.y):
                out[rid] = (trace, i)
    return out


@pytest.fixture(scope="module")
def warehouse(request):
    """A read-only connection to the warehouse `insyn demo` built for this test session."""
    import duckdb

    wb, _ = request.getfixturevalue("demo")
    con = duckdb.connect(str(wb / "data" / "demo" / "insyn.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def q(warehouse):
    cache: dict = {}

    def run(name: str, **params) -> pd.DataFrame:
        key = (name, tuple(sorted(params.items())))
        if key not in cache:
            cache[key] = query(warehouse, QUERIES, name, **params)
        return cache[key].copy()

    return run


@pytest.fixture(scope="module")
def built_as_of(q) -> date:
    dates = q("as_of_dates")
    return pd.Timestamp(dates[dates["is_built"]]["as_of"].iloc[0]).date()


def timeline_frame() -> pd.DataFrame:
    """Four requests: closed in time, closed late, open in time, open and overdue (extension told in time)."""
    rows = [
        # id, type, received, verified, extension, answered, closed, open, judged, policy, legal, extended, ext, overdue
        ("R-1", "access", "2026-01-05", "2026-01-06", None, "2026-01-20", "2026-01-21", False, "2026-01-21",
         "2026-02-04", "2026-02-05", "2026-04-07", False, False),
        ("R-2", "erasure", "2026-03-02", "2026-03-03", None, "2026-04-20", "2026-04-21", False, "2026-04-21",
         "2026-04-01", "2026-04-02", "2026-06-02", False, True),
        ("R-3", "objection", "2026-11-02", None, None, None, None, True, "2026-11-24",
         "2026-12-02", "2026-12-02", "2027-02-02", False, False),
        ("R-4", "access", "2026-07-01", "2026-07-01", "2026-07-20", None, None, True, "2026-11-24",
         "2026-07-31", "2026-08-03", "2026-10-01", True, True),
    ]
    cols = ["request_id", "request_type", "received_on", "identity_verified_on", "extension_notified_on",
            "answered_on", "closed_on", "is_open", "judged_on", "policy_due_on", "legal_due_on", "extended_due_on",
            "has_valid_extension", "is_overdue"]
    df = pd.DataFrame(rows, columns=cols)
    for col in [c for c in cols if c.endswith("_on")]:
        df[col] = pd.to_datetime(df[col])
    return df


# (function, a small frame, keyword arguments, message id of the title, message id of the empty message)
def small_frames():
    return {
        "promises_bar": (pd.DataFrame({
            "rule": ["a.high", "b.medium", "c.low"], "severity": ["high", "medium", "low"],
            "title_en": ["High rule", "Medium rule", "Low rule"], "title_sv": ["Hög regel", "Medel regel", "Låg regel"],
            "legal_reference": ["art. 1", "art. 2", "art. 3"], "findings": [2, 0, 1], "items": [2.0, 0.0, 1.0],
        }), {}, "dashboard.figure.findings_per_rule", "dashboard.message.no_findings"),
        "findings_trend": (pd.DataFrame({
            "as_of": pd.to_datetime(["2026-10-01", "2026-10-01", "2026-11-01"]),
            "rule": ["a.high", "c.low", "a.high"], "findings": [3, 1, 2],
        }), {}, "dashboard.figure.findings_over_time", "dashboard.message.no_history"),
        "request_timeline": (timeline_frame(), {"as_of": AS_OF}, "dashboard.figure.request_timeline",
                             "dashboard.message.no_requests"),
        "requests_by_month": (timeline_frame(), {}, "dashboard.figure.requests_per_month", "dashboard.message.no_requests"),
        "stale_histogram": (pd.DataFrame({"record_id": list("abcdefg"), "months_quiet": [0, 1, 1, 5, 12, 13, 13]}),
                            {"retention_months": 12},
                            "dashboard.figure.stale_contacts",
                            "dashboard.message.no_company_initiated"),
        "coming_due_bar": (pd.DataFrame({"record_id": list("abcdefg"), "days_left": [5, 29, 30, 31, 60, 61, 90]}), {},
                           "dashboard.figure.coming_due", "dashboard.message.none_coming_due"),
        "check_results_bar": (pd.DataFrame({
            "suite": ["compliance", "compliance", "quality.x", "quality.x", "quality.x"],
            "check_name": ["r1", "r2", "c1", "c2", "c3"], "success": [False, True, True, True, False],
        }), {}, "dashboard.figure.check_results_per_suite", "dashboard.message.no_check_results"),
        "check_history_line": (pd.DataFrame({
            "check_run_id": [2, 1, 3, 4],
            "as_of": pd.to_datetime(["2026-11-02", "2026-11-01", "2026-11-03", "2026-11-04"]),
            "finished_at": pd.to_datetime(["2026-11-02 06:10", "2026-11-01 06:10", "2026-11-03 06:10", None]),
            "success": [False, False, True, False], "expectations": [40, 40, 40, 40], "failed": [5, 7, 0, 9],
        }), {}, "dashboard.figure.failed_checks_per_run", "dashboard.message.no_check_runs"),
        "transfers_bar": (pd.DataFrame({
            "subprocessor_name": ["A", "B", "C", "D"], "transfer_mechanism": ["dpf", "dpf", "scc_2010", "none"],
            "is_transfer_valid": [True, False, False, True],
        }), {}, "dashboard.figure.transfers", "dashboard.message.no_subprocessors"),
    }


def demo_frames(q, as_of: date) -> dict:
    timeline = q("dsar_timeline", year=None, request_type=None, status=None)
    return {
        "promises_bar": (q("findings_by_rule", as_of=as_of), {}),
        "findings_trend": (q("findings_trend"), {"titles": q("rules_catalog")}),
        "request_timeline": (timeline, {"as_of": as_of}),
        "requests_by_month": (timeline, {}),
        "stale_histogram": (q("stale_contacts"), {"retention_months": 12}),
        "coming_due_bar": (q("coming_due", days=90), {}),
        "check_results_bar": (q("check_results", as_of=None), {}),
        "check_history_line": (q("check_history"), {}),
        "transfers_bar": (q("subprocessors"), {}),
    }


NAMES = list(small_frames())


# ---------------------------------------------------------------- every figure

@pytest.mark.parametrize("name", NAMES)
def test_titles_come_from_i18n_and_differ_by_language(name):
    df, kw, title_key, _ = small_frames()[name]
    sv = getattr(figures, name)(df, "sv", **kw)
    en = getattr(figures, name)(df, "en", **kw)
    assert sv.layout.title.text == i18n.t(title_key, "sv")
    assert en.layout.title.text == i18n.t(title_key, "en")
    assert sv.layout.title.text != en.layout.title.text


@pytest.mark.parametrize("name", NAMES)
def test_layout_is_white_tuned_and_keeps_the_zoom(name):
    df, kw, _, _ = small_frames()[name]
    sv = getattr(figures, name)(df, "sv", **kw)
    en = getattr(figures, name)(df, "en", **kw)
    assert sv.layout.template == go.layout.Template(figures.pio.templates["plotly_white"])
    assert sv.layout.margin.t is not None and sv.layout.margin.l is not None
    assert sv.layout.uirevision and sv.layout.uirevision == en.layout.uirevision
    text = sv.to_json()
    assert "mapbox" not in text and "http://" not in text and "https://" not in text


@pytest.mark.parametrize("name", NAMES)
def test_figures_are_deterministic_and_leave_their_frame_alone(name):
    df, kw, _, _ = small_frames()[name]
    before = df.copy()
    first = getattr(figures, name)(df, "sv", **kw).to_json()
    assert getattr(figures, name)(df, "sv", **kw).to_json() == first
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_empty_frames_give_a_figure_with_a_message(name, lang):
    df, kw, title_key, message_key = small_frames()[name]
    for empty in (df.iloc[0:0], pd.DataFrame()):
        fig = getattr(figures, name)(empty, lang, **kw)
        assert isinstance(fig, go.Figure)
        assert len(fig.data) == 0
        assert annotation_texts(fig) == [i18n.t(message_key, lang)]
        assert fig.layout.title.text == i18n.t(title_key, lang)


def test_empty_figure_says_its_message():
    fig = figures.empty_figure("Inget här", "Rubrik")
    assert annotation_texts(fig) == ["Inget här"]
    assert fig.layout.title.text == "Rubrik"
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.template.layout.paper_bgcolor == "white"


def test_no_figure_uses_plotly_express():
    """The source, comments and strings aside, never names plotly.express (nor its usual alias px)."""
    import io
    import tokenize

    code = [tok.string for tok in tokenize.generate_tokens(io.StringIO(FIGURES_SOURCE).readline)
            if tok.type not in (tokenize.COMMENT, tokenize.STRING)]
    assert "express" not in code and "px" not in code
    tree = ast.parse(FIGURES_SOURCE)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert "plotly.graph_objects" in imported
    assert not any("express" in name for name in imported), imported


def test_figure_functions_do_no_io():
    assert not re.search(r"\b(open|read_csv|read_parquet|duckdb|connect|query)\(", FIGURES_SOURCE)
    assert "datetime.now" not in FIGURES_SOURCE and "date.today" not in FIGURES_SOURCE


def test_every_text_the_figures_use_is_translated():
    """Every message id the figures name is in the Swedish and the English catalog, with words."""
    from insyn import texts

    ids = set(re.findall(r'"((?:dashboard|value)\.[a-z0-9_.]+)"', FIGURES_SOURCE))
    assert len(ids) > 30
    for lang in texts.LANGUAGES:
        catalog = texts.cached(None, lang)
        assert sorted(i for i in ids if i not in catalog or not catalog.messages[i]) == [], lang


# ---------------------------------------------------------------- i18n (the catalogs, through the dashboard)

def test_t_falls_back_to_english_then_to_the_id():
    assert i18n.SHOWN == ("sv", "en") and "qps" in i18n.LANGUAGES
    assert i18n.t("dashboard.label.download_csv", "sv") == "Ladda ner CSV"
    assert i18n.t("dashboard.label.download_csv", "en") == "Download CSV"
    assert i18n.t("dashboard.label.download_csv", "de") == "Download CSV"
    assert i18n.t("dashboard.label.download_csv", "qps") == "⟦Download CSV⟧"
    assert i18n.t("dashboard.no.such.id", "sv") == "dashboard.no.such.id"


def test_every_dashboard_message_has_words_in_both_languages():
    from insyn import texts

    sv, en = (texts.cached(None, lang) for lang in ("sv", "en"))
    ids = {m for m in en.messages if m.startswith(("dashboard.", "value."))}
    assert len(ids) > 150 and ids == {m for m in sv.messages if m.startswith(("dashboard.", "value."))}
    assert all(sv.messages[m] and en.messages[m] for m in ids)


def test_navigation_and_value_labels_in_swedish():
    expected = {
        "dashboard.nav.overview": "Översikt", "dashboard.nav.requests": "Begäranden",
        "dashboard.nav.contacts": "Kontakter", "dashboard.nav.optouts": "Avregistreringar",
        "dashboard.nav.quality": "Datakvalitet", "dashboard.nav.transfers": "Överföringar",
        "dashboard.nav.people": "Personer", "dashboard.label.as_of": "Per", "dashboard.label.language": "Språk",
    }
    assert {key: i18n.t(key, "sv") for key in expected} == expected
    values = {
        "access": "Tillgång", "erasure": "Radering", "rectification": "Rättelse", "restriction": "Begränsning",
        "objection": "Invändning", "portability": "Dataportabilitet", "unknown": "Okänd",
        "open": "Öppen", "closed": "Avslutad", "overdue": "Försenad",
        "high": "Hög", "medium": "Medel", "low": "Låg",
    }
    assert {value: i18n.label(value, "sv") for value in values} == values
    headers = ["dashboard.column.request_id", "dashboard.column.received", "value.closed", "dashboard.column.deadline",
               "dashboard.label.days", "dashboard.column.crm_id", "dashboard.column.e_mail", "dashboard.column.source",
               "dashboard.column.detail", "dashboard.column.count", "dashboard.column.rule", "dashboard.column.finding",
               "dashboard.column.findings", "dashboard.column.suite", "dashboard.column.check",
               "dashboard.column.result", "dashboard.column.passed", "dashboard.column.failed", "dashboard.column.file",
               "dashboard.column.rows", "dashboard.column.rejected", "dashboard.column.subprocessor",
               "dashboard.column.country", "dashboard.column.mechanism", "dashboard.column.valid",
               "dashboard.column.reason"]
    for key in headers:
        assert i18n.t(key, "sv") != key and i18n.t(key, "en") != key, key
        assert i18n.t(key, "sv") != i18n.t(key, "en") or key == "dashboard.column.detail", key


def test_request_types_and_mechanisms_of_the_policy_are_labelled():
    import tomllib

    from insyn import texts

    policy = tomllib.loads((REPO / "policy.toml").read_text(encoding="utf-8"))
    for lang in texts.LANGUAGES:
        catalog = texts.cached(None, lang)
        for value in [*policy["dsar"]["request_types"], *policy["dsar"]["outcomes"],
                      *policy["transfer"]["mechanisms"]]:
            assert f"value.{value}" in catalog, value


# ---------------------------------------------------------------- promises_bar

def test_promises_bar_keeps_zero_finding_rules_coloured_by_severity():
    df, _, _, _ = small_frames()["promises_bar"]
    fig = figures.promises_bar(df, "sv")
    bars = {y: (x, tr.marker.color, rule) for tr in fig.data for y, x, rule in zip(tr.y, tr.x, tr.customdata)}
    assert bars == {
        "Hög regel": (2, figures.SEVERITY_COLOURS["high"], "a.high"),
        "Medel regel": (0, figures.SEVERITY_COLOURS["medium"], "b.medium"),
        "Låg regel": (1, figures.SEVERITY_COLOURS["low"], "c.low"),
    }
    assert [tr.name for tr in fig.data] == ["Hög", "Medel", "Låg"]
    assert len(set(figures.SEVERITY_COLOURS.values())) == 3
    assert list(fig.layout.yaxis.categoryarray) == ["Låg regel", "Medel regel", "Hög regel"]  # high on top
    en = figures.promises_bar(df, "en")
    assert {y for tr in en.data for y in tr.y} == {"High rule", "Medium rule", "Low rule"}
    assert [tr.name for tr in en.data] == ["High", "Medium", "Low"]


def test_promises_bar_on_the_demo_has_a_bar_per_rule(q, built_as_of):
    df = q("findings_by_rule", as_of=built_as_of)
    fig = figures.promises_bar(df, "en")
    assert sum(len(tr.y) for tr in fig.data) == len(df) == len(q("rules_catalog"))
    by_rule = {rule: x for tr in fig.data for rule, x in zip(tr.customdata, tr.x)}
    assert by_rule == dict(zip(df["rule"], df["findings"].astype(int)))
    labels = {y.replace("<br>", " ") for tr in fig.data for y in tr.y}
    assert labels == set(df["title_en"])
    # a date never checked: every rule is still there, with 0
    never = figures.promises_bar(q("findings_by_rule", as_of=date(2000, 1, 1)), "sv")
    assert sum(len(tr.x) for tr in never.data) == len(df) and {x for tr in never.data for x in tr.x} == {0}


# ---------------------------------------------------------------- findings_trend

def test_findings_trend_has_a_line_per_area_with_zero_where_an_area_found_nothing():
    df = pd.DataFrame({"as_of": pd.to_datetime(["2026-10-01", "2026-10-01", "2026-10-01", "2026-11-01"]),
                       "rule": ["dsar.legal_deadline_missed", "dsar.policy_target_missed", "retention.x",
                                "dsar.legal_deadline_missed"], "findings": [3, 2, 1, 2]})
    fig = figures.findings_trend(df, "sv")
    lines = {tr.name: dict(zip(tr.x, tr.y)) for tr in fig.data}
    assert lines == {"Begäranden": {"2026-10-01": 5, "2026-11-01": 2}, "Lagringstid": {"2026-10-01": 1, "2026-11-01": 0}}
    assert {tr.customdata[0] for tr in fig.data} == {"dsar", "retention"}
    assert {tr.name for tr in figures.findings_trend(df, "en").data} == {"Requests", "Retention"}
    assert {tr.name for tr in figures.findings_trend(df.assign(rule="unknown.rule"), "en").data} == {"unknown"}


def test_findings_trend_on_the_demo(q):
    df = q("findings_trend")
    fig = figures.findings_trend(df, "sv", titles=q("rules_catalog"))
    assert len(fig.data) == df["rule"].str.split(".").str[0].nunique() < df["rule"].nunique()   # by area
    colours = [tr.line.color for tr in fig.data]
    assert len(set(colours)) == len(colours)   # each line its own colour
    assert sum(sum(tr.y) for tr in fig.data) == df["findings"].sum()
    assert fig.layout.xaxis.range is not None or df["as_of"].nunique() > 1  # one date: a readable range


# ---------------------------------------------------------------- request_timeline

def test_request_timeline_bars_run_from_received_to_closed_or_as_of():
    df = timeline_frame()
    fig = figures.request_timeline(df, "sv", as_of=AS_OF)
    bars = bars_by_id(fig)
    assert set(bars) == {"R-1", "R-2", "R-3", "R-4"}
    ends = {rid: bar_end(tr.base[i], tr.x[i]) for rid, (tr, i) in bars.items()}
    starts = {rid: pd.Timestamp(tr.base[i]) for rid, (tr, i) in bars.items()}
    assert starts == {"R-1": d("2026-01-05"), "R-2": d("2026-03-02"), "R-3": d("2026-11-02"), "R-4": d("2026-07-01")}
    assert ends == {"R-1": d("2026-01-21"), "R-2": d("2026-04-21"), "R-3": d("2026-11-24"), "R-4": d("2026-11-24")}
    assert fig.layout.xaxis.type == "date"


def test_request_timeline_open_requests_end_at_the_as_of_given():
    fig = figures.request_timeline(timeline_frame(), "sv", as_of=date(2026, 11, 30))
    bars = bars_by_id(fig)
    assert {rid: bar_end(tr.base[i], tr.x[i]) for rid, (tr, i) in bars.items() if rid in {"R-3", "R-4"}} == {
        "R-3": d("2026-11-30"), "R-4": d("2026-11-30")}
    assert [s.x0 for s in fig.layout.shapes] == ["2026-11-30"]
    assert any(text == f"{i18n.t('dashboard.label.as_of', 'sv')} 2026-11-30" for text in annotation_texts(fig))
    # without an as-of, an open request ends at its judged_on
    bare = bars_by_id(figures.request_timeline(timeline_frame(), "sv"))
    tr, i = bare["R-3"]
    assert bar_end(tr.base[i], tr.x[i]) == d("2026-11-24")


def test_request_timeline_overdue_requests_stand_out():
    fig = figures.request_timeline(timeline_frame(), "en", as_of=AS_OF)
    bars = bars_by_id(fig)
    colour = {rid: tr.marker.color for rid, (tr, _) in bars.items()}
    assert colour["R-2"] == colour["R-4"] == figures.WARNING
    assert colour["R-1"] != figures.WARNING and colour["R-3"] != figures.WARNING
    overdue = next(tr for tr in fig.data if tr.name == i18n.t("value.overdue", "en"))
    assert set(overdue.y) == {"R-2", "R-4"}
    # open and in time is told apart from closed and in time
    assert bars["R-3"][0].name != bars["R-1"][0].name


def test_request_timeline_overdue_is_computed_when_the_frame_lacks_it():
    df = timeline_frame().drop(columns=["is_overdue"])
    bars = bars_by_id(figures.request_timeline(df, "sv", as_of=AS_OF))
    assert {rid for rid, (tr, _) in bars.items() if tr.marker.color == figures.WARNING} == {"R-2", "R-4"}


def test_request_timeline_markers_ticks_and_click_data():
    df = timeline_frame()
    fig = figures.request_timeline(df, "en", as_of=AS_OF)
    for trace in fig.data:
        assert trace.customdata is not None and list(trace.customdata) == list(trace.y), trace.name
    assert points(fig, i18n.t("dashboard.column.identity_verified", "en")) == {
        "R-1": "2026-01-06", "R-2": "2026-03-03", "R-4": "2026-07-01"}
    assert points(fig, i18n.t("dashboard.column.answered", "en")) == {"R-1": "2026-01-20", "R-2": "2026-04-20"}
    assert points(fig, i18n.t("dashboard.column.extension_notified", "en")) == {"R-4": "2026-07-20"}
    assert len(points(fig, i18n.t("dashboard.figure.policy_target", "en"))) == 4
    assert points(fig, i18n.t("dashboard.figure.legal_deadline", "en"))["R-2"] == "2026-04-02"
    # the extended deadline only where the extension is valid
    assert points(fig, i18n.t("dashboard.figure.extended_deadline", "en")) == {"R-4": "2026-10-01"}
    # newest request at the top of a category axis
    assert list(fig.layout.yaxis.categoryarray) == ["R-1", "R-2", "R-4", "R-3"]


def test_request_timeline_on_the_demo(q, built_as_of):
    df = q("dsar_timeline", year=None, request_type=None, status=None)
    fig = figures.request_timeline(df, "sv", as_of=built_as_of)
    bars = bars_by_id(fig)
    assert set(bars) == set(df["request_id"])
    warned = {rid for rid, (tr, _) in bars.items() if tr.marker.color == figures.WARNING}
    assert warned == set(df.loc[df["is_overdue"], "request_id"]) and warned
    for rid in df.loc[df["is_open"], "request_id"]:
        tr, i = bars[rid]
        assert bar_end(tr.base[i], tr.x[i]) == pd.Timestamp(built_as_of), rid
    for rid, closed in zip(df["request_id"], df["closed_on"]):
        if pd.notna(closed):
            tr, i = bars[rid]
            assert bar_end(tr.base[i], tr.x[i]) == closed, rid
    for trace in fig.data:
        assert set(trace.customdata) <= set(df["request_id"])
    assert len(points(fig, i18n.t("dashboard.figure.extended_deadline", "sv"))) == int(df["has_valid_extension"].sum())
    newest = df.sort_values(["received_on", "request_id"])["request_id"].iloc[-1]
    assert fig.layout.yaxis.categoryarray[-1] == newest
    assert 600 <= fig.layout.height <= 1200  # 39 rows, readable without a scroll of pages
    filtered = q("dsar_timeline", year=2026, request_type="erasure", status=None)
    assert set(bars_by_id(figures.request_timeline(filtered, "sv", as_of=built_as_of))) == set(filtered["request_id"])


# ---------------------------------------------------------------- requests_by_month

def test_requests_by_month_stacks_types_and_keeps_empty_months():
    fig = figures.requests_by_month(timeline_frame(), "sv")
    assert fig.layout.barmode == "stack"
    months = [f"2026-{m:02d}" for m in range(1, 12)]
    assert all(list(tr.x) == months for tr in fig.data)
    counts = {tr.name: dict(zip(tr.x, tr.y)) for tr in fig.data}
    assert [tr.name for tr in fig.data] == ["Tillgång", "Radering", "Invändning"]
    assert counts["Tillgång"]["2026-01"] == 1 and counts["Tillgång"]["2026-07"] == 1
    assert counts["Radering"]["2026-03"] == 1 and counts["Invändning"]["2026-11"] == 1
    assert sum(sum(tr.y) for tr in fig.data) == 4
    assert [tr.name for tr in figures.requests_by_month(timeline_frame(), "en").data] == [
        "Access", "Erasure", "Objection"]


def test_requests_by_month_on_the_demo(q):
    df = q("dsar_timeline", year=None, request_type=None, status=None)
    fig = figures.requests_by_month(df, "en")
    assert sum(sum(tr.y) for tr in fig.data) == len(df)
    assert {tr.customdata[0] for tr in fig.data} == set(df["request_type"])


# ---------------------------------------------------------------- stale_histogram

def test_stale_histogram_highlights_bars_at_or_past_retention():
    df, _, _, _ = small_frames()["stale_histogram"]
    fig = figures.stale_histogram(df, "sv", 12)
    within, past = fig.data
    assert list(within.x) == list(range(0, 12)) and list(past.x) == [12, 13]
    assert list(past.y) == [1, 2] and sum(within.y) == 4
    assert past.marker.color == figures.WARNING != within.marker.color
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(11.5, 11.5)]
    assert i18n.t("dashboard.figure.retention_period", "sv", n=12) in annotation_texts(fig)[0]
    six = figures.stale_histogram(df, "sv", retention_months=6)
    assert sum(six.data[1].y) == 3 and six.layout.shapes[0].x0 == 5.5
    # no retention period given: no highlight, no line
    plain = figures.stale_histogram(df, "sv")
    assert len(plain.data) == 1 and not plain.layout.shapes


def test_stale_histogram_on_the_demo(q):
    df = q("stale_contacts")
    fig = figures.stale_histogram(df, "en", retention_months=12)
    within, past = fig.data
    assert sum(within.y) + sum(past.y) == len(df)
    # the rule's own judgement (is_due), not the month count: quiet exactly 12 months is not yet due
    assert sum(past.y) == int(df["is_due"].sum())


# ---------------------------------------------------------------- coming_due_bar

def test_coming_due_bar_counts_cumulative_buckets():
    df, _, _, _ = small_frames()["coming_due_bar"]
    fig = figures.coming_due_bar(df, "sv")
    (bar,) = fig.data
    assert list(bar.y) == [3, 5, 7]
    assert list(bar.customdata) == [30, 60, 90]
    assert list(bar.x) == [i18n.t("dashboard.kpi.within_days", "sv", n=n) for n in (30, 60, 90)]
    assert list(figures.coming_due_bar(df, "en", buckets=(7, 30)).data[0].y) == [1, 3]


def test_coming_due_bar_on_the_demo(q):
    df = q("coming_due", days=90)
    (bar,) = figures.coming_due_bar(df, "sv").data
    assert bar.y[-1] == len(df)
    assert list(bar.y) == sorted(bar.y)
    assert bar.y[0] == int((df["days_left"] <= 30).sum())


# ---------------------------------------------------------------- check_results_bar

def test_check_results_bar_stacks_passed_and_failed_per_suite():
    df, _, _, _ = small_frames()["check_results_bar"]
    fig = figures.check_results_bar(df, "sv")
    passed, failed = fig.data
    assert fig.layout.barmode == "stack"
    assert dict(zip(passed.customdata, passed.x)) == {"compliance": 1, "quality.x": 2}
    assert dict(zip(failed.customdata, failed.x)) == {"compliance": 1, "quality.x": 1}
    assert failed.marker.color == figures.WARNING and passed.marker.color != figures.WARNING
    assert (passed.name, failed.name) == (i18n.t("dashboard.figure.passed", "sv"), i18n.t("dashboard.figure.failed", "sv"))
    assert i18n.t("report.suite.compliance", "sv") in passed.y   # a suite by the audit pack's name for it


def test_check_results_bar_on_the_demo(q):
    df = q("check_results", as_of=None)
    passed, failed = figures.check_results_bar(df, "en").data
    assert sum(passed.x) + sum(failed.x) == len(df)
    assert sum(failed.x) == int((~df["success"]).sum()) == int(q("check_history")["failed"].iloc[-1])


# ---------------------------------------------------------------- check_history_line

def test_check_history_line_plots_failed_per_finished_run():
    df, _, _, _ = small_frames()["check_history_line"]
    (line,) = figures.check_history_line(df, "sv").data
    assert list(line.customdata) == [1, 2, 3]  # sorted by finished_at; the unfinished run left out
    assert list(line.y) == [7, 5, 0]
    assert list(line.x) == ["2026-11-01 06:10:00", "2026-11-02 06:10:00", "2026-11-03 06:10:00"]


def test_check_history_line_on_the_demo(q):
    df = q("check_history")
    fig = figures.check_history_line(df, "sv")
    (line,) = fig.data
    assert list(line.customdata) == list(df["check_run_id"])
    assert list(line.y) == list(df["failed"])
    if len(df) == 1:
        assert fig.layout.xaxis.range is not None


# ---------------------------------------------------------------- transfers_bar

def test_transfers_bar_splits_each_mechanism_valid_and_invalid():
    df, _, _, _ = small_frames()["transfers_bar"]
    fig = figures.transfers_bar(df, "sv")
    valid, invalid = fig.data
    assert list(valid.customdata) == ["dpf", "scc_2010", "none"]  # the policy's order
    assert list(valid.y) == [1, 0, 1] and list(invalid.y) == [1, 1, 0]
    assert invalid.marker.color == figures.WARNING != valid.marker.color
    assert (valid.name, invalid.name) == ("Giltig", "Ogiltig")
    assert "B" in invalid.hovertext[0] and "A" in valid.hovertext[0]


def test_transfers_bar_on_the_demo(q):
    df = q("subprocessors")
    valid, invalid = figures.transfers_bar(df, "en").data
    assert sum(valid.y) + sum(invalid.y) == len(df)
    assert sum(invalid.y) == int((~df["is_transfer_valid"]).sum())
    assert set(valid.customdata) == set(df["transfer_mechanism"])


# ---------------------------------------------------------------- speed

def test_demo_figures_are_fast(q, built_as_of):
    """graph_objects, not plotly.express: a callback's figure in milliseconds, not tens of them."""
    frames = demo_frames(q, built_as_of)
    for name, (df, kw) in frames.items():
        getattr(figures, name)(df, "sv", **kw)  # warm up
    started = time.perf_counter()
    for _ in range(3):
        for name, (df, kw) in frames.items():
            getattr(figures, name)(df, "sv", **kw)
    per_figure = (time.perf_counter() - started) / (3 * len(frames))
    assert per_figure < 0.05, f"{per_figure * 1000:.1f} ms a figure"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_demo_figure_builds_in_both_languages(q, built_as_of, lang):
    for name, (df, kw) in demo_frames(q, built_as_of).items():
        fig = getattr(figures, name)(df, lang, **kw)
        assert len(fig.data) > 0, name
        assert fig.layout.title.text, name


def test_every_literal_key_the_dashboard_asks_for_is_translated():
    """t("...") with a literal message id anywhere under dashboards/ finds its words in both catalogs
    (else English, or the id, leaks into Swedish)."""
    from insyn import texts

    missing = set()
    for path in (REPO / "dashboards").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for key in re.findall(r"""\bt\(\s*(?:"([^"]+)"|'([^']+)')\s*,""", text):
            key = key[0] or key[1]
            for lang in texts.LANGUAGES:
                if key not in texts.cached(None, lang):
                    missing.add(f"{path.relative_to(REPO)}: {key} ({lang})")
    assert not missing, sorted(missing)


# ---------------------------------------------------------------- markup in the data

MARKUP = '<a href="https://example.com">x</a>'   # quoted: the form plotly makes a link of
ALLOWED_TAGS = re.compile(r"</?(?:b|br|extra)>")
# (findings_trend names its lines by area, from the catalog: the data's text is not shown there)
SHOWS_DATA_TEXT = {"promises_bar", "request_timeline", "requests_by_month", "check_results_bar", "transfers_bar"}


def _shown_strings(node, key=None):
    """Every string plotly renders as its pseudo-HTML: all of the figure but customdata, which it never shows."""
    if key == "customdata":
        return
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _shown_strings(v, k)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _shown_strings(v, key)
    elif hasattr(node, "tolist"):
        yield from _shown_strings(node.tolist(), key)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("name", NAMES)
def test_markup_in_data_values_shows_as_text_in_every_figure(name, lang):
    """A register value `<a href=…>` must not become a link (or any element) in a tick, hover, legend or label."""
    df, kw, _, _ = small_frames()[name]
    df = df.copy()
    for col in df.columns:
        if pd.api.types.is_object_dtype(df[col]) or pd.api.types.is_string_dtype(df[col]):
            df[col] = [f"{MARKUP}{v}" if isinstance(v, str) else v for v in df[col]]
    fig = getattr(figures, name)(df, lang, **kw)
    shown = list(_shown_strings(fig.to_plotly_json()))
    leftovers = [s for s in shown if "<" in ALLOWED_TAGS.sub("", s) or ">" in ALLOWED_TAGS.sub("", s)]
    assert leftovers == []
    if name in SHOWS_DATA_TEXT:
        assert any('&lt;a href="https://example.com"&gt;x&lt;/a&gt;' in s for s in shown)
    if name == "request_timeline":   # the click still names the request as the register has it
        assert {cd for tr in fig.data for cd in tr.customdata} == set(df["request_id"])
