"""Every page and document in the pseudo-language (insyn.texts.PSEUDO): every word from a catalog reads
⟦like this⟧, so a visible word outside ⟦ ⟧ is a hard-coded string or a missing translation.

On the demo data: every dashboard page (a real waitress server, headless Chromium), the access letter
(HTML) and the audit report (the Markdown sections and figures the audit pack's notebook shows, and the
monthly retention review's). What is data and not a word:

* a text inside an element marked `data-value` or a grid's cell `.ag-cell` (the dashboard's table cells,
  the letter's company and warehouse values) and the language switch (language codes);
* a token with a digit or an @ in it (dates, times, numbers, ids, addresses, file names with dates);
* an identifier: lower-case words joined by dots or underscores (`quality.crm_records`, `esp.events`);
* a token without a letter (punctuation, arrows, ✓);
* in the audit report, a token of a value of the data the report was read from (names of
  sub-processors, countries, roles, file names, rule ids): the report's tables are made of them.
  Rules' titles and details are words (helper E's catalog), never counted as data.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
import threading
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from insyn import texts

from helpers import copy_workbench

AS_OF = dt.date(2026, 11, 24)
PAGES = ["/", "/requests", "/contacts", "/optouts", "/quality", "/transfers", "/people"]
FORMAT_TOKENS = {"UTC"}      # the time zone of a timestamp ("2026-11-24 06:00 UTC"): part of the date's format
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
IDENTIFIER = re.compile(r"[a-z0-9]+(?:[._][a-z0-9]+)*[._][a-z0-9]+")
PUNCTUATION = string.punctuation + "–—…·‹›«»“”’‘¶§°•▲▼✓✗→←"


def unmarked(text: str, data: set[str] = frozenset()) -> list[str]:
    """The words of `text` outside ⟦ ⟧ that are not data (see the module's rule)."""
    while True:   # innermost first: a marked text may hold a marked value
        rest = MARKED.sub(" ", text)
        if rest == text:
            break
        text = rest
    words = []
    for token in text.split():
        token = token.strip(PUNCTUATION)
        if not any(c.isalpha() for c in token) or re.search(r"[\d@]", token) or IDENTIFIER.fullmatch(token):
            continue
        if token in data or token in FORMAT_TOKENS:
            continue
        words.append(token)
    return words


@pytest.fixture(scope="module")
def bench(demo, tmp_path_factory):
    """A copy of the demo workbench (its catalogs included) on a copy of the demo warehouse."""
    from insyn.workbench import Workbench

    wb, _ = demo
    root, db = copy_workbench(tmp_path_factory.mktemp("qps"),
                              folders=("pipelines", "expectations", "dashboards", "templates", "locale"),
                              warehouse=wb / "data" / "demo" / "insyn.duckdb")
    return Workbench.open(root, db)


# ---------------------------------------------------------------- the dashboard

COLLECT = """() => {
  const out = [];
  const skip = (el) => el.closest('[data-value], .ag-cell, .lang, script, style, noscript, .modebar-container');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.textContent.trim() || skip(el) || el.getClientRects().length === 0) continue;
    out.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder]')) {
    if (el.getClientRects().length) out.push(el.getAttribute('placeholder'));
  }
  return out;
}"""

SETTLED = """() => document.querySelector('main h1') && document.querySelector('main h1').textContent.trim()
  && !document.querySelector('[data-dash-is-loading]') && !document.querySelector('._dash-loading')"""


@pytest.fixture(scope="module")
def dashboard(bench):
    from insyn import serve

    token = secrets.token_urlsafe(32)
    app = serve.create(bench, host="127.0.0.1", language=texts.PSEUDO, auth_options={"token": token})
    server = serve.make_server(app, "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", token
    finally:
        server.close()


def _read_pages(url: str, token: str) -> dict[str, str]:
    """The visible text of every page, as Chromium shows it (the person look-up done on /people)."""
    from playwright.sync_api import sync_playwright

    from insyn.audit import CHROMIUM, CHROMIUM_ARGS
    from sample import DEMO_PERSON_EMAIL

    shown = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{url}/?token={token}")
            for path in PAGES:
                page.goto(url + path)
                page.wait_for_function(SETTLED, timeout=30000)
                if page.locator(".js-plotly-plot").count():
                    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30000)
                if path == "/people":     # a person looked up: the table of what is held, with its headers
                    page.fill("#people-email", DEMO_PERSON_EMAIL)
                    page.click("#people-search")
                    page.wait_for_selector("#people-rows", timeout=30000)
                page.wait_for_timeout(500)
                shown[path] = "\n".join(page.evaluate(COLLECT))
        finally:
            browser.close()
    return shown


def test_every_dashboard_page_shows_only_catalog_words(dashboard):
    from concurrent.futures import ThreadPoolExecutor

    from insyn.audit import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    # In a thread of its own: Playwright's sync API refuses a thread with a running event loop
    # (pytest-playwright's, when the browser tests ran first in this worker).
    with ThreadPoolExecutor(max_workers=1) as pool:
        shown = pool.submit(_read_pages, *dashboard).result()
    assert all(text.count("⟦") >= 3 for text in shown.values()), shown   # read, in the pseudo-language
    found = {path: sorted(set(unmarked(text))) for path, text in shown.items() if unmarked(text)}
    assert not found, "words not from the catalog: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in found.items())


# ---------------------------------------------------------------- the access letter

class _Visible(HTMLParser):
    """The text of an HTML document a reader sees: not in <style>/<script>, not inside `data-value`."""

    VOID = {"br", "meta", "link", "img", "input", "hr", "wbr", "col", "area", "base", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []      # per open element: is it (or an ancestor) skipped
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        skipped = (self.stack[-1] if self.stack else False) or tag in ("style", "script") or \
            any(name == "data-value" for name, _ in attrs)
        self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if data.strip() and not (self.stack and self.stack[-1]):
            self.texts.append(data)


def test_the_access_letter_shows_only_catalog_words(bench, tmp_path):
    from sample import DEMO_PERSON_EMAIL

    _, out = bench.access_report(DEMO_PERSON_EMAIL, as_of=AS_OF, lang=texts.PSEUDO, fmt="html",
                                 out=tmp_path / "letter.html", user="test")
    parser = _Visible()
    parser.feed(out.read_text(encoding="utf-8"))
    shown = "\n".join(parser.texts)
    assert shown.count("⟦") > 40 and 'lang="qps"' in out.read_text(encoding="utf-8")
    words = unmarked(shown)
    assert not words, f"words not from the catalog: {', '.join(sorted(set(words)))}"


# ---------------------------------------------------------------- the audit report and the retention review

YEARLY = ("title_markdown", "contents_markdown", "summary_markdown", "requests_section", "deadline_section",
          "retention_section", "optout_section", "weblog_section", "transfers_section", "policy_text_section",
          "findings_section", "failed_checks_section", "provenance_markdown")
MONTHLY = ("title_markdown", "due_now_section", "coming_due_section", "flagged_earlier_section",
           "first_notice_section", "provenance_markdown")
WORD_COLUMNS = {"title_en", "title_sv", "detail", "invalid_reason"}   # words (rules' catalog), not data


def _data_tokens(report) -> set[str]:
    """Every token of every text value of the data a report was read from (and its warehouse path)."""
    values = [report.warehouse]
    for frame in vars(report.data).values():
        if isinstance(frame, pd.DataFrame):
            for column in frame.columns:
                if column not in WORD_COLUMNS:
                    values += [v for v in frame[column] if isinstance(v, str)]
    values += [v for v in report.params.values() if isinstance(v, str)]
    return {token.strip(PUNCTUATION) for value in values for token in value.split()}


def _shown(markdown: str) -> str:
    """Markdown as a reader sees it: no inline HTML, no escapes."""
    return re.sub(r"\\(.)", r"\1", re.sub(r"<[^>]+>", " ", markdown.replace("<wbr>", "")))


def _figure_texts(fig) -> list[str]:
    layout = fig.layout
    out = [layout.title.text or ""]
    for axis in (layout.xaxis, layout.yaxis):
        out.append(axis.title.text or "")
    for trace in fig.data:
        out.append(trace.name or "")
        for axis in ("x", "y"):
            values = getattr(trace, axis, None)
            if values is not None and any(isinstance(v, str) for v in values):
                out += [v for v in values if isinstance(v, str)]
    return out


def test_the_audit_report_and_the_retention_review_show_only_catalog_words(bench):
    from insyn import report, snapshot

    warehouse = snapshot.current(bench.layout.published) or bench.publish()
    queries = bench.settings.pipelines / "queries"
    locale = str(texts.locale_dir(bench.settings.root))
    yearly = report.YearlyReport.load(str(warehouse), str(queries), AS_OF.year, AS_OF.isoformat(), texts.PSEUDO,
                                      locale)
    monthly = report.RetentionReview.load(str(warehouse), str(queries), "2026-11", AS_OF.isoformat(),
                                          texts.PSEUDO, locale)
    found = {}
    for r, sections, figures in ((yearly, YEARLY, ("figure_requests_by_month", "figure_findings_by_rule")),
                                 (monthly, MONTHLY, ("figure_months_quiet",))):
        data = _data_tokens(r)
        for name in sections:
            words = unmarked(_shown(getattr(r, name)()), data)
            if words:
                found[f"{type(r).__name__}.{name}"] = sorted(set(words))
        for name in figures:
            words = unmarked("\n".join(_figure_texts(getattr(r, name)())), data)
            if words:
                found[f"{type(r).__name__}.{name}"] = sorted(set(words))
    assert yearly.title_markdown().startswith("# ⟦")
    assert not found, "words not from the catalog: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in found.items())


def test_the_rule_catches_a_word_outside_the_marks():
    """The test's own rule: data passes, a word outside ⟦ ⟧ does not."""
    assert unmarked("⟦Requests⟧ DSAR-2026-001 2026-11-24 a…@example.se 12 ✓ – (3)") == []
    assert unmarked("⟦Open at ⟦x⟧ 2026⟧ Overdue") == ["Overdue"]
    assert unmarked("Salesforce ⟦Contact⟧", {"Salesforce"}) == []
    assert unmarked("quality.crm_records esp.events Quality.Check") == ["Quality.Check"]
