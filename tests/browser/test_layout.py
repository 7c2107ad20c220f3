"""The dashboard's layout holds: no page scrolls sideways at 1280 or 1920 px in either language,
every menu shows its value whole, and the as-of menu keeps its date from page to page.

One dashboard (the session's, on the demo) and one browser page for the module; each page is
reached by the navigation's links, as a person moves between them, and measured at both widths.
"""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WIDTHS = (1280, 1920)
LANGUAGES = ("sv", "en")

# Dash's loading states cleared and the page's own callbacks rendered (a heading in main)
SETTLED = """() => {
  const h1 = document.querySelector('main h1');
  return !!h1 && h1.textContent.trim() !== '' && !document.querySelector('[data-dash-is-loading]')
    && !document.querySelector('._dash-loading')
    && [...document.querySelectorAll('.dash-graph')].every(g => g.querySelector('.main-svg'));
}"""

# What reaches past the right edge: the document's scroll width, and every element whose box does,
# unless a scroll container (overflow other than visible) between it and the body clips it.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.localName + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  const beyond = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if ((box.width === 0 && box.height === 0) || box.right <= width + 0.5 || clipped(el)) continue;
    beyond.push(`${name(el)} reaches ${Math.round(box.right)} px`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: width, beyond: beyond.slice(0, 10)};
}"""

# Every menu on the page: its id, the value it shows, and whether the text is cut ("P..")
MENUS = """() => [...document.querySelectorAll('button.dash-dropdown')].filter(b => b.getClientRects().length)
  .map(b => {
    const shown = b.querySelector('.dash-dropdown-value');
    return {id: b.id, text: shown ? shown.textContent.trim() : '',
            placeholder: !!(shown && shown.classList.contains('dash-dropdown-placeholder')),
            cut: !!shown && shown.scrollWidth > shown.clientWidth + 1};
  })"""


@contextlib.contextmanager
def opened(browser, browser_context_args, dashboard_url, dashboard_cookie, *, width: int, bypass_csp=False):
    """A logged-in page on the overview, settled, in a context of its own (closed afterwards);
    `bypass_csp` lets a test add axe-core's script, which the page's CSP would refuse."""
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": width, "height": 900},
                                     **({"bypass_csp": True} if bypass_csp else {})})
    context.add_cookies([dashboard_cookie])
    page = context.new_page()
    page.goto(dashboard_url + "/")
    settle(page)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def site(browser, browser_context_args, dashboard_url, dashboard_cookie):
    """One logged-in page for the module, on the overview."""
    with opened(browser, browser_context_args, dashboard_url, dashboard_cookie, width=WIDTHS[0]) as page:
        yield page


def settle(page) -> None:
    page.wait_for_function(SETTLED, timeout=30000)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(SETTLED, timeout=30000)
    page.wait_for_timeout(250)   # plotly draws (and resizes) after its data arrive


def choose_language(page, lang: str) -> None:
    page.locator("#lang label", has_text=re.compile(f"^{lang.upper()}$")).click()
    expect(page.locator("html")).to_have_attribute("lang", lang, timeout=10000)
    settle(page)


def pages(page) -> list[str]:
    """Every page the navigation offers (new pages are measured without a change here)."""
    return page.eval_on_selector_all("#nav a", "links => links.map(a => a.getAttribute('href'))")


def go(page, href: str) -> None:
    page.locator(f"#nav a[href='{href}']").click()
    page.wait_for_function("href => location.pathname === href", arg=href)
    settle(page)


def layout_problems(page, where: str) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)
        measured = page.evaluate(OVERFLOW)
        if measured["scrollWidth"] != measured["clientWidth"]:
            problems.append(f"{where} at {width} px: the page is {measured['scrollWidth']} px wide")
        problems += [f"{where} at {width} px: {b}" for b in measured["beyond"]]
        for menu in page.evaluate(MENUS):
            if menu["cut"]:
                problems.append(f"{where} at {width} px: menu #{menu['id']} shows {menu['text']!r} cut short")
        as_of = next((m for m in page.evaluate(MENUS) if m["id"] == "as-of"), None)
        if as_of is None or as_of["placeholder"] or not as_of["text"]:
            problems.append(f"{where} at {width} px: the as-of menu is blank")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return problems


def look_up_the_demo_person(page) -> None:
    from sample import DEMO_PERSON_EMAIL

    page.locator("#people-email").fill(DEMO_PERSON_EMAIL)
    page.locator("#people-search").click()
    expect(page.locator("#people-rows")).to_be_visible(timeout=15000)
    settle(page)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_page_scrolls_sideways_and_every_menu_shows_its_value(site, lang, screenshots):
    choose_language(site, lang)
    problems = []
    for href in pages(site):
        go(site, href)
        if lang == "sv":
            site.screenshot(path=str(screenshots / f"layout-sv-1280-{href.strip('/') or 'overview'}.png"),
                            full_page=True)
        problems += layout_problems(site, f"{href} ({lang})")
        if href == "/people":   # the tables of what is held about a person, too
            look_up_the_demo_person(site)
            problems += layout_problems(site, f"{href} with a person looked up ({lang})")
    assert len(pages(site)) >= 7
    assert not problems, "\n".join(problems)


def test_the_as_of_menu_keeps_its_date_across_pages_and_reloads(site):
    refused = []
    site.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    choose_language(site, "sv")
    go(site, "/")
    site.locator("#as-of").click()
    options = site.locator(".dash-dropdown-option")
    expect(options.first).to_be_visible()
    chosen = options.last.inner_text().strip()   # the oldest date offered (the only one in the demo)
    options.last.click()
    shown = site.locator("#as-of .dash-dropdown-value")
    expect(shown).to_have_text(chosen)
    for href in pages(site) + pages(site)[::-1]:
        go(site, href)
        expect(shown).to_have_text(chosen)
    site.reload()
    settle(site)
    expect(shown).to_have_text(chosen)
    # a date this tab remembers that the snapshot no longer offers: the menu shows the newest,
    # and the page's callbacks run (they were refused the stale date, the menu left blank)
    site.locator("#as-of").click()
    newest = options.first.inner_text().strip()
    site.keyboard.press("Escape")
    stale = site.evaluate("""chosen => {
        let n = 0;
        for (const key of Object.keys(sessionStorage)) {
          const value = sessionStorage.getItem(key);
          if (value.includes(chosen)) { sessionStorage.setItem(key, value.split(chosen).join('1999-01-01')); n++; }
        }
        return n;
    }""", chosen)
    assert stale >= 1   # the tab does remember the choice
    site.reload()
    settle(site)
    expect(shown).to_have_text(newest)
    go(site, "/contacts")
    expect(shown).to_have_text(newest)
    assert refused == []
