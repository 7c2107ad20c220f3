"""Every dashboard page in Swedish on the demo data (callbacks as plain functions, no browser), and one
answer with one number: the contacts chart and the deletion list, the opt-out breach and its dates.

What must not show on a Swedish page is derived, never listed by hand: the English words of the
catalogs (every English text that differs from its Swedish one), every finding's English detail,
the transfer mechanisms' codes (policy.toml), the check results' column names and ids, and the
source kinds' ids (sources.toml)."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import shutil
import sys
import tomllib

import dash
import pytest

from helpers import EXPECTED, REPO, published
from helpers import find_component as _find

AS_OF = EXPECTED["as_of"]
RETENTION_RULE = "retention.inactive_company_initiated"
BREACH_RULE = "optout.marketing_after_optout"


@pytest.fixture(scope="module")
def app(demo, tmp_path_factory):
    """The app's page modules on a snapshot of the demo warehouse, and the warehouse's path."""
    from insyn import snapshot

    wb, _ = demo
    db = tmp_path_factory.mktemp("swedish") / "insyn.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", db)
    snapshot.publish(db, published(db))
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    pages = {entry["path"]: sys.modules[entry["module"]] for entry in dash.page_registry.values()}
    return pages, db


# ---------------------------------------------------------------- what a page shows

def _figure_text(figure) -> list[str]:
    """What a figure shows in words: titles, axis titles, category ticks, trace names, bar texts,
    hovers, annotations (not customdata: the callbacks' ids, never shown)."""
    fig = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    layout = fig.get("layout", {})
    out = []

    def title(part):
        value = (part or {}).get("title")
        return value.get("text") if isinstance(value, dict) else value

    out += [title(layout)] + [title(layout.get(axis)) for axis in layout if re.fullmatch(r"[xy]axis\d*", axis)]
    out += [a.get("text") for a in layout.get("annotations") or ()]
    for trace in fig.get("data", ()):
        out.append(trace.get("name"))
        for key in ("x", "y", "text", "hovertext"):
            out += [v for v in trace.get(key) or () if isinstance(v, str)]
    return [str(v).replace("<br>", " ") for v in out if v]


def _text(component) -> str:
    """All text of a component tree, its figures' words included."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return "\n".join(_text(c) for c in component)
    words = [_text(getattr(component, "children", None))]
    figure = getattr(component, "figure", None) if type(component).__name__ == "Graph" else None
    if figure is not None:
        words += _figure_text(figure)
    return "\n".join(words)




def _rows(table) -> list[list[str]]:
    """A table's body as lists of cell texts."""
    body = table.children[1]
    return [[_text(cell) for cell in row.children] for row in body.children]


def _shown(pages, lang: str) -> dict[str, str]:
    """The text every page shows in `lang` (on /people, the demo person and a person with findings)."""
    from sample import DEMO_PERSON_EMAIL

    shown = {}
    for path, module in pages.items():
        if path == "/people":
            breached = next(f["email"] for f in EXPECTED["findings"] if f["rule"] == BREACH_RULE)
            shown[path] = _text([module.look_up(1, DEMO_PERSON_EMAIL, lang), module.look_up(1, breached, lang),
                                 module.labels(lang), module.report_labels(lang)[:3]])
        elif path == "/requests":
            shown[path] = _text([module.filters(lang, AS_OF), module.update(None, None, None, lang, AS_OF),
                                 module.history(None, lang)])
        elif path == "/":
            shown[path] = _text(module.render(AS_OF, lang))
        else:
            shown[path] = _text(module.render(lang, AS_OF))
        shown[path] += "\n" + _grid_rows(module, lang)
    return shown


def _grid_rows(module, lang: str) -> str:
    """The first page of every grid a page fills by callback (its `*_rows` callbacks: the lists
    whose rows come from the server a page at a time), as text."""
    from dashboards.components.grid import PAGE_ROWS

    first_page = {"startRow": 0, "endRow": PAGE_ROWS, "sortModel": [], "filterModel": {}}
    texts = []
    for name in dir(module):
        function = getattr(module, name)
        if not (name.endswith("_rows") and callable(function)):
            continue
        arguments = list(inspect.signature(function).parameters)
        # (request, [filters…], lang): the request first, the language last, no filter chosen
        answer = function(first_page, *[None] * (len(arguments) - 2), lang)
        texts += [str(v) for row in answer["rowData"] for v in row.values()]
    return "\n".join(texts)


@pytest.fixture(scope="module")
def swedish(app):
    pages, _ = app
    return _shown(pages, "sv")


# ---------------------------------------------------------------- no English on a Swedish page

def _english_only() -> set[str]:
    """Every stretch of English words in the catalogs that no Swedish text holds: the English text
    of each message that differs from its Swedish one, split at its placeholders, two words or more."""
    from insyn import texts

    english = texts.read_catalog(texts.reference_locale(), "en")
    swedish = texts.read_catalog(texts.reference_locale(), "sv")
    everything_swedish = "\n".join(swedish.values())
    out = set()
    for msgid, words in english.items():
        if swedish.get(msgid) == words:
            continue
        for piece in re.split(r"\{[A-Za-z_]+\}", words):
            piece = piece.strip(" :;,.()\"'")
            if len(piece.split()) >= 2 and piece not in everything_swedish:
                out.add(piece)
    return out


def test_no_english_words_of_the_catalogs_on_a_swedish_page(app, swedish):
    forbidden = _english_only()
    english = "\n".join(_shown(app[0], "en").values())
    assert len([w for w in forbidden if w in english]) > 50   # the same pages in English do show them
    found = {path: sorted(w for w in forbidden if w in text) for path, text in swedish.items()}
    assert not any(found.values()), {p: w for p, w in found.items() if w}


def test_every_finding_detail_is_in_swedish(app, swedish):
    """Each finding's English detail (the build keeps it beside the facts) is nowhere on a Swedish page,
    and its Swedish detail is on the page that lists it."""
    import duckdb

    from insyn import findings, texts

    _, db = app
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = findings.read(con)
    finally:
        con.close()
    sv = texts.cached(texts.reference_locale(), "sv")
    everything = "\n".join(swedish.values())
    differing = [r for r in rows if r["detail"] and findings.detail(r, sv) != r["detail"]]
    assert len(differing) > 20
    left = sorted({r["detail"] for r in differing if r["detail"] in everything})
    assert not left, left
    listed = {"retention.": "/contacts", "optout.not_synced": "/optouts", "notice.": "/optouts", "policy.": "/transfers"}
    for row in differing:
        page = next((p for prefix, p in listed.items() if row["rule"].startswith(prefix)), None)
        if page:
            assert findings.detail(row, sv) in swedish[page], (row["rule"], row["record_id"])


def test_transfer_mechanisms_by_their_names(app, swedish):
    from insyn import texts

    pages, _ = app
    mechanisms = tomllib.loads((REPO / "policy.toml").read_text(encoding="utf-8"))["transfer"]["mechanisms"]
    sv = texts.cached(texts.reference_locale(), "sv")
    text = swedish["/transfers"]
    for code in mechanisms:
        assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", text), code
    named = [sv.value(code) for code in mechanisms]
    flat = " ".join(text.split())
    assert all(name in flat for name in named), named
    # the figure never cuts a word: each line of a wrapped label is whole words of the name
    figure = _find(pages["/transfers"].render("sv", AS_OF), "transfers-bar").figure
    for label, code in zip(figure.data[0].x, figure.data[0].customdata):
        assert label.replace("<br>", " ") == sv.value(code), label


def test_quality_shows_titles_and_descriptions_not_ids_or_columns(app):
    from dashboards import data

    pages, _ = app
    body = pages["/quality"].render("sv", AS_OF)
    text = _text(body)
    checks = data.q("check_results", as_of=dt.date.fromisoformat(AS_OF))
    tokens = set(re.split(r"[\s,:;()]+", text))
    columns = {c for c in checks["column_name"].dropna() if c}
    ids = set(checks["check_name"].dropna()) | set(checks["suite"])
    assert columns and ids
    assert not (columns & tokens), sorted(columns & tokens)
    assert not (ids & tokens), sorted(ids & tokens)
    from insyn import texts

    sv = texts.cached(texts.reference_locale(), "sv")
    failed = checks[~checks["success"]]
    for row in failed.to_dict("records"):   # each failed check by its Swedish title or description
        key = f"rule.{row['check_name']}.title" if row["suite"] == "compliance" else f"report.check.{row['check_name']}"
        assert key in sv and sv(key) in text, key


def test_people_shows_no_source_kind_ids(app, swedish):
    from insyn.sources import Sources

    kinds = Sources.load(REPO / "pipelines" / "sources.toml").names()
    text = swedish["/people"]
    assert "DSAR-" in text
    assert not [k for k in kinds if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", text)]


# ---------------------------------------------------------------- one answer, one number

def test_the_contacts_chart_counts_what_the_rule_found(app):
    pages, _ = app
    expected = sum(1 for f in EXPECTED["findings"] if f["rule"] == RETENTION_RULE)
    assert expected == 10
    for lang in ("sv", "en"):
        body = pages["/contacts"].render(lang, AS_OF)
        figure = _find(body, "contacts-stale").figure
        from dashboards.components.i18n import t

        past = [trace for trace in figure.data if trace.name == t("dashboard.figure.past_retention", lang)]
        assert len(past) == 1 and sum(past[0].y) == expected
        assert f"({expected})" in _text(_find(body, "contacts-deletion")) or f"({expected})" in _text(body)
        # the records quiet exactly the period to the day are in the chart, not past it
        within = next(trace for trace in figure.data if trace.name == t("dashboard.figure.within_retention", lang))
        assert within.y[12] >= 2


def test_the_audit_reports_months_chart_counts_what_the_rule_found(app):
    """The audit pack's and the monthly review's chart follow the same definition as the page."""
    import duckdb

    from insyn.queries import query
    from insyn.report import figure_months_quiet

    _, db = app
    con = duckdb.connect(str(db), read_only=True)
    try:
        stale = query(con, REPO / "pipelines" / "queries", "stale_contacts")
    finally:
        con.close()
    figure = figure_months_quiet(stale, 12, "sv")
    past = figure.data[1]
    assert sum(past.y) == sum(1 for f in EXPECTED["findings"] if f["rule"] == RETENTION_RULE) == 10


def test_an_opt_out_breach_shows_both_dates_and_the_campaign(app):
    import duckdb

    pages, db = app
    body = pages["/optouts"].render("sv", AS_OF)
    rows = _rows(_find(body, "optouts-optout-marketing-after-optout"))
    breached = {f["record_id"] for f in EXPECTED["findings"] if f["rule"] == BREACH_RULE}
    assert {r[0] for r in rows} == breached
    con = duckdb.connect(str(db), read_only=True)
    try:
        for record, opted_out, mailed, campaign, event_id in rows:
            found = con.execute("select first_text from audit.current_findings where rule = $r and record_id = $id",
                                {"r": BREACH_RULE, "id": record}).fetchone()[0]
            assert event_id in found
            sent = con.execute("select occurred_on, marketing_campaign_name from staging.stg_esp__events "
                               "where event_id = $e and event_type = 'delivered'", {"e": event_id}).fetchone()
            assert (mailed, campaign) == (sent[0].isoformat(), sent[1]) and campaign
            assert dt.date.fromisoformat(opted_out) < dt.date.fromisoformat(mailed)
    finally:
        con.close()
