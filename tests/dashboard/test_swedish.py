"""Every dashboard page in Swedish on the demo data (callbacks as plain functions, no browser), and one
answer with one number: the contacts chart and the deletion list, the opt-out breach and its dates.

What must not show on a Swedish page is derived, never listed by hand: the English words of the
catalogs (every English text that differs from its Swedish one), every finding's English detail,
the transfer mechanisms' codes (policy.toml), the check results' column names and ids, and the
source kinds' ids (sources.toml)."""

from __future__ import annotations

import datetime as dt
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

    application = create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    pages = {entry["path"]: sys.modules[entry["module"]] for entry in dash.page_registry.values()}
    return {**pages, "__app__": application}, db


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




# Each callback input as the page would send it to show its content: none chosen otherwise (None).
FIRST_PAGE = {"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": {}}
NOT_VISIBLE = {"id", "className", "namespace", "type", "style", "field", "colId", "value", "href",
               "filter", "rowModelType", "columnSize", "getRowStyle", "filterParams", "dashGridOptions"}
UPDATE = "/_dash-update-component"


def _values(key: tuple[str, str], lang: str, path: str) -> list:
    """The values to send for input `key` of a page at `path` (several: the callback runs with each)."""
    from sample import DEMO_PERSON_EMAIL

    ident, prop = key
    if ident == "lang":
        return [lang]
    if ident == "as-of":
        return [AS_OF]
    if prop == "getRowsRequest":
        return [FIRST_PAGE]
    if prop == "pathname":
        return [path]
    if ident == "people-email":
        return [DEMO_PERSON_EMAIL, next(f["email"] for f in EXPECTED["findings"] if f["rule"] == BREACH_RULE)]
    if prop == "n_clicks":
        return [1]
    return [None]


def _response_text(node, key: str = "") -> list[str]:
    """What a callback's JSON answer shows: its strings, less ids, classes and other props nobody
    reads; a figure by its words (_figure_text)."""
    if isinstance(node, dict):
        if "data" in node and "layout" in node:
            return _figure_text(node)
        return [w for k, v in node.items() if k not in NOT_VISIBLE for w in _response_text(v, k)]
    if isinstance(node, list):
        return [w for v in node for w in _response_text(v, key)]
    return [node] if isinstance(node, str) else []


def _page_callbacks(application) -> dict[str, list[dict]]:
    """Every page of Dash's page registry with the callbacks its module defines (from the app's own
    list: a page added later is covered without naming it here); the router's under each page too."""
    import dash

    modules = {entry["module"]: entry["path"] for entry in dash.page_registry.values()}
    by_page: dict[str, list[dict]] = {path: [] for path in modules.values()}
    for spec in application._callback_list:
        if spec.get("clientside_function"):
            continue
        function = application.callback_map[spec["output"]]["callback"]
        module = getattr(function, "__wrapped__", function).__module__
        outputs = spec["output"].strip(".").split("...")
        if any(o.endswith(".data") for o in outputs) or any(i["id"] == "report-produce" for i in spec["inputs"]):
            continue   # downloads and stores hold no words shown; an access report is asked for, not shown
        for path in [modules[module]] if module in modules else list(by_page):   # the shell's: on every page
            by_page[path].append(spec)
    return by_page


def _shown(pages, lang: str, application=None) -> dict[str, str]:
    """The words every page's callbacks answer in `lang`, posted to the app as the browser does
    (on /people, the demo person and a person with findings; every grid's first page)."""
    import itertools

    from helpers import callback_body

    application = application or pages["__app__"]
    client = application.server.test_client()
    shown = {}
    for path, specs in _page_callbacks(application).items():
        assert specs, f"{path}: no callback of its own"
        words = []
        for spec in specs:
            keys = [(e["id"], e["property"]) for e in spec["inputs"] + spec["state"]]
            for chosen in itertools.product(*[_values(k, lang, path) for k in keys]):
                answer = client.post(UPDATE, json=callback_body(spec, dict(zip(keys, chosen))))
                if answer.status_code == 204:   # PreventUpdate: nothing to show
                    continue
                assert answer.status_code == 200, (path, spec["output"], answer.get_data(as_text=True)[:300])
                words += _response_text(answer.get_json()["response"])
        shown[path] = "\n".join(str(w).replace("<br>", " ") for w in words)
    return shown


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


def _kind_ids(db) -> set[str]:
    """The source kinds' ids: sources.toml's, and every source the warehouse's findings name."""
    import duckdb

    from insyn.sources import Sources

    con = duckdb.connect(str(db), read_only=True)
    try:
        named = {r[0] for r in con.execute("select distinct source from audit.current_findings "
                                           "union select distinct source from audit.findings_history").fetchall()}
    finally:
        con.close()
    return set(Sources.load(REPO / "pipelines" / "sources.toml").names()) | {n for n in named if n}


def _english_values() -> set[str]:
    """The English words of every value and source name (values.po, sources.po) that its Swedish
    text does not share: "Contact", "Erasure", "CRM: contact"."""
    from insyn import texts

    english = texts.read_catalog(texts.reference_locale(), "en")
    swedish = texts.read_catalog(texts.reference_locale(), "sv")
    return {words for msgid, words in english.items()
            if msgid.startswith(("value.", "source.")) and swedish.get(msgid) != words}


def _whole(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}(?![\w.])", text) is not None


def _without_swedish_texts_holding(words: set[str], text: str) -> str:
    """`text` less the Swedish catalog texts that hold one of `words` on purpose ("CRM-poster
    (Contact och Lead)" names Salesforce's objects): what is left is the data's or a page's own."""
    from insyn import texts

    swedish = texts.read_catalog(texts.reference_locale(), "sv").values()
    pieces = {piece.strip() for words_ in swedish for piece in re.split(r"\{[A-Za-z_]+\}", words_)}
    for piece in sorted((p for p in pieces if any(_whole(w, p) for w in words)), key=len, reverse=True):
        text = text.replace(piece, " ")
    return text


def test_no_kind_ids_or_english_values_on_any_swedish_page(app, swedish):
    """Every page of the registry, all of its callbacks' answers (its grids' first pages too):
    no source kind by its id, no value or source name in its English words."""
    pages, db = app
    assert set(swedish) == {p for p in pages if p.startswith("/")}
    kinds, values = _kind_ids(db), _english_values()
    assert {"salesforce.contact", "mailchimp.subscribed"} <= kinds and "Contact" in values
    english = _shown(pages, "en")
    assert "CRM: contact" in english["/optouts"] and "Contact" in english["/contacts"]   # the test sees grids
    assert "CRM: kontakt" in swedish["/optouts"] and "CRM: kontakt" in swedish["/contacts"]
    found = {path: sorted(w for w in kinds | values if _whole(w, _without_swedish_texts_holding(values, text)))
             for path, text in swedish.items()}
    assert not any(found.values()), {p: w for p, w in found.items() if w}
    assert "DSAR-" in swedish["/people"]


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
    page = pages["/optouts"].breaches_rows(FIRST_PAGE, AS_OF, "sv")["rowData"]
    rows = [(r["record_id"], r["opted_out_on"], r["mailed_on"], r["campaign"], r["event_id"]) for r in page]
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
