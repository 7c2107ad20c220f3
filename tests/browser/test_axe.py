"""Accessibility: axe-core finds no serious or critical violation on any page of the dashboard, in
either language, once the page's callbacks have rendered it; every chart has a text alternative.

axe-core comes from npm (package.json pins it; `make test` and .ci/run install it with `npm ci`
into node_modules/) and is injected into the page from that file: offline, no CDN. The test's
browser context lets Playwright add that script past the dashboard's Content-Security-Policy
(which allows no inline script); the pages are served as they always are.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from test_layout import choose_language, go, look_up_the_demo_person, opened, pages

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SEVERE = ("serious", "critical")
# moderate, yet cheap to hold: the page's landmarks (one contentinfo, each landmark told apart)
LANDMARKS = ("landmark-no-duplicate-contentinfo", "landmark-no-duplicate-banner", "landmark-no-duplicate-main",
             "landmark-unique")

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""

# Each chart: the name it is given, and its table of data against the figure's own points
CHARTS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => {
  const caption = document.getElementById(gd.getAttribute('aria-labelledby') || '');
  const table = caption && caption.closest('table');
  const points = (gd.data || []).filter(t => t.visible !== false)
    .reduce((n, t) => n + ((t.orientation === 'h' ? t.y : t.x) || t.y || []).length, 0);
  return {id: gd.closest('.dash-graph') ? gd.closest('.dash-graph').id : '', role: gd.getAttribute('role'),
          name: caption ? caption.textContent.trim() : '', title: (gd._fullLayout.title || {}).text || '',
          rows: table ? table.querySelectorAll('tbody th[scope=row]').length : -1, points};
})"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():   # CI installs it: a missing axe is a broken set-up, never a skipped check
        pytest.fail(f"axe-core is not installed ({AXE} missing): run `npm ci --no-audit --no-fund` at the "
                    "repository root (`make test` does)", pytrace=False)
    return AXE


@pytest.fixture(scope="module")
def site(axe_script, browser, browser_context_args, dashboard_url, dashboard_cookie):
    """One logged-in page for the module; Playwright may add axe's script despite the page's CSP."""
    with opened(browser, browser_context_args, dashboard_url, dashboard_cookie, width=1280, bypass_csp=True) as page:
        yield page


def severe_violations(page, axe_script: Path, where: str) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_script))
    return [f"{where}: {v['id']} ({v['impact']}: {v['help']}) at {', '.join(v['targets'])}"
            for v in page.evaluate(RUN_AXE) if v["impact"] in SEVERE or v["id"] in LANDMARKS]


@pytest.mark.parametrize("lang", ("sv", "en"))
def test_axe_finds_no_serious_or_critical_violation(site, axe_script, lang):
    """Nor a duplicate landmark (moderate): Dash's own script <footer> was a second contentinfo."""
    choose_language(site, lang)
    found, seen = [], []
    for href in pages(site):
        go(site, href)
        seen.append(href)
        found += severe_violations(site, axe_script, f"{href} ({lang})")
        if href == "/people":
            look_up_the_demo_person(site)
            found += severe_violations(site, axe_script, f"{href} with a person looked up ({lang})")
    assert len(seen) >= 7
    assert not found, "\n".join(found)


def test_every_chart_has_a_table_of_its_data(site):
    choose_language(site, "sv")
    charts = []
    for href in pages(site):
        go(site, href)
        charts += [(href, chart) for chart in site.evaluate(CHARTS)]
    assert len(charts) >= 7, charts
    for href, chart in charts:
        assert chart["role"] == "figure", (href, chart)
        assert chart["name"], (href, chart)                       # named by the figure's title
        assert chart["rows"] == chart["points"], (href, chart)   # a row for each point drawn
    assert any(chart["rows"] > 0 for _, chart in charts)


def test_a_menu_is_reached_and_opened_with_the_keyboard(site):
    """The menus' hidden Safari inputs are hidden (aria-hidden yet focusable); Tab reaches the
    menu's own button, and Enter opens it."""
    choose_language(site, "sv")
    go(site, "/requests")
    site.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached = []
    for _ in range(40):
        site.keyboard.press("Tab")
        reached.append(site.evaluate("() => document.activeElement.id || document.activeElement.localName"))
        if reached[-1] == "requests-type":
            break
    assert "as-of" in reached and reached[-1] == "requests-type", reached
    site.keyboard.press("Enter")
    expect(site.locator(".dash-dropdown-option").first).to_be_visible()
    site.keyboard.press("Escape")
