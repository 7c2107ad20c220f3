"""The DPO's dashboard in headless Chromium, on the demo data."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpers import EXPECTED, served_copy

pytestmark = pytest.mark.browser

PAGES = {  # path -> (Swedish title, graphs drawn with data)
    "/": ("Översikt", 1),            # findings over time only from two check dates: the demo has one
    "/requests": ("Begäranden", 2),
    "/erasures": ("Raderingar", 0),
    "/contacts": ("Kontakter", 2),
    "/optouts": ("Avregistreringar", 0),
    "/quality": ("Datakvalitet", 2),
    "/transfers": ("Överföringar", 1),
    "/people": ("Personer", 0),
}


@pytest.fixture
def offline(page, dashboard_url):
    """Abort and record every request that would leave this machine."""
    attempted = []

    def guard(route):
        if route.request.url.startswith(dashboard_url) or route.request.url.startswith("data:"):
            return route.continue_()
        attempted.append(route.request.url)
        return route.abort()

    page.route("**/*", guard)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield attempted, errors


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_renders_from_demo_data_offline(page, dashboard_url, offline, screenshots, path):
    attempted, errors = offline
    title, graphs = PAGES[path]
    page.goto(dashboard_url + path)
    expect(page.locator("h1")).to_have_text(title, timeout=20000)
    if graphs:
        expect(page.locator(".js-plotly-plot .plot-container .main-svg").first).to_be_visible(timeout=20000)
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {graphs}")
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / f"page{path.replace('/', '-') or '-overview'}.png"), full_page=True)
    assert attempted == []
    assert errors == []


def test_overview_counts_match_the_rules(page, dashboard_url, offline):
    page.goto(dashboard_url + "/")
    expected = sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")
    expect(page.locator("#kpi-contacts-due-for-deletion .kpi-value")).to_have_text(str(expected), timeout=20000)


def test_a_filter_changes_the_request_timeline(page, dashboard_url, offline):
    page.goto(dashboard_url + "/requests")
    grid = page.locator("#requests-grid")
    total = grid.locator(".ag-paging-row-summary-panel-number").last   # the server's count of the rows

    def counted() -> int:
        expect(grid.locator(".ag-row").first).to_be_visible(timeout=20000)
        expect(grid.locator(".ag-row-loading")).to_have_count(0, timeout=10000)
        expect(total).to_have_text(re.compile(r"^\d+$"), timeout=10000)   # not "more": the count is known
        return int(total.inner_text())

    everything = counted()
    page.locator("#requests-type").click()
    page.locator(".dash-dropdown-option", has_text=re.compile("^radering$", re.I)).click()
    expect(total).not_to_have_text(str(everything), timeout=10000)
    assert 0 < counted() < everything
    bars = page.locator("#requests-timeline .barlayer .point")
    expect(bars.first).to_be_visible()


def test_clicking_a_request_shows_its_history(page, dashboard_url, offline):
    page.goto(dashboard_url + "/requests")
    bar = page.locator("#requests-timeline .barlayer .point path").first
    expect(bar).to_be_visible(timeout=20000)
    bar.click(force=True)
    expect(page.locator("#requests-history-id")).to_have_text(re.compile(r"^DSAR-\d{4}-\d{3}$"), timeout=10000)


def test_language_switch_translates_the_page(page, dashboard_url, offline):
    page.goto(dashboard_url + "/")
    expect(page.locator("h1")).to_have_text("Översikt", timeout=20000)
    page.locator("#lang label", has_text="EN").click()
    expect(page.locator("h1")).to_have_text("Overview", timeout=10000)
    expect(page.locator("#nav a").first).to_have_text("Overview")
    page.locator("#nav a", has_text="Requests").click()
    expect(page.locator("h1")).to_have_text("Requests", timeout=10000)  # the choice stays across pages


def test_deletion_list_downloads_as_csv_for_a_bulk_delete(page, dashboard_url, offline, tmp_path):
    page.goto(dashboard_url + "/contacts")
    button = page.locator("#contacts-download-button")
    expect(button).to_be_visible(timeout=20000)
    with page.expect_download() as info:
        button.click()
    path = tmp_path / "deletion.csv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("crm_id,sobject,")
    ids = {line.split(",")[0] for line in lines[1:]}
    assert ids == {f["record_id"] for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated"}


def test_person_look_up_keeps_the_address_out_of_the_url(page, dashboard_url, offline):
    person = next(f["email"] for f in EXPECTED["findings"] if f["rule"] == "dsar.repeat_free_access")
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(dashboard_url + "/people")
    page.locator("#people-email").fill("  " + person.upper() + " ")
    page.locator("#people-search").click()
    expect(page.locator("#people-rows tbody tr").first).to_be_visible(timeout=10000)
    expect(page.locator("#people-result")).to_contain_text("DSAR-")   # the person's requests
    assert not any(person.split("@")[0] in url.lower() for url in seen)
    assert person.split("@")[0] not in page.url.lower()


def test_people_page_produces_the_access_report_identity_first(page, dashboard_url, offline, tmp_path):
    from sample import DEMO_PERSON_EMAIL

    page.goto(dashboard_url + "/people")
    # no verified request in the register for this address: refused, with the reason
    page.locator("#people-email").fill("nobody.at.all@example.se")
    page.locator("#report-produce").click()
    expect(page.locator("#report-status")).to_contain_text("verifierad identitet", timeout=15000)
    # the demo person's request has her identity verified: the report downloads
    page.locator("#people-email").fill(DEMO_PERSON_EMAIL)
    with page.expect_download(timeout=60000) as info:
        page.locator("#report-produce").click()
    path = tmp_path / "report.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert info.value.suggested_filename.startswith("access-report-DSAR-")
    expect(page.locator("#report-status")).to_contain_text("nedladdat")
    attempted, _ = offline
    assert attempted == []


# ---------------------------------------------------------------- markup in the data, and the viewer's share

MARKUP_ID = '<a href="https://example.com">x</a>'   # quoted: the form plotly makes a link of
VIEWER_PASSWORD = "a long viewer password"


@pytest.fixture(scope="module")
def marked_up_dashboard(demo, tmp_path_factory):
    """A dashboard whose register holds the request id `<a href=https://example.com>x</a>`
    (the newest request), with a viewer account; (url, token)."""
    wb, _ = demo
    with served_copy(wb, tmp_path_factory.mktemp("markup-wb"), request_id=MARKUP_ID,
                     replacing="select max_by(request_id, received_on) from marts.fct_dsar_requests",
                     users={"vera": (VIEWER_PASSWORD, "viewer")}, token="markup-test-token-" + "x" * 20) as site:
        yield site.url, site.token


def test_markup_in_a_request_id_shows_as_text_never_as_a_link(page, marked_up_dashboard):
    url, token = marked_up_dashboard
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/requests?token=" + token)
    expect(page.locator("#requests-grid .ag-row").first).to_be_visible(timeout=20000)
    expect(page.locator("#requests-timeline .ytick text").first).to_be_visible(timeout=20000)
    # no element anywhere links to it (plotly would draw an <a> in its SVG text) ...
    links = page.evaluate("""() => [...document.querySelectorAll('*')].filter(e => e.localName === 'a')
        .map(e => e.getAttribute('href') || e.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '')""")
    assert not [href for href in links if "example.com" in href]
    # ... the table and the chart's tick labels show the id as the register has it, as text
    expect(page.locator("#requests-grid")).to_contain_text(MARKUP_ID)
    ticks = page.locator("#requests-timeline .ytick text").all_text_contents()
    assert MARKUP_ID in ticks
    # the hover shows it as text too: the newest request is the last bar of its trace
    hovers = []
    for trace in page.locator("#requests-timeline .barlayer .trace").all():
        trace.locator(".point path").last.hover(force=True)
        page.wait_for_timeout(300)
        hovers.append(" ".join(page.locator("#requests-timeline .hoverlayer").all_text_contents()))
        if MARKUP_ID in hovers[-1]:
            break
    assert MARKUP_ID in hovers[-1], hovers
    assert page.locator("#requests-timeline .hoverlayer a").count() == 0
    assert errors == []


def test_a_viewer_sees_no_people_page_no_downloads_and_abbreviated_e_mails(page, marked_up_dashboard):
    url, _ = marked_up_dashboard
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/login")
    page.locator("input[name=username]").fill("vera")
    page.locator("input[name=password]").fill(VIEWER_PASSWORD)
    page.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Översikt", timeout=20000)
    expect(page.locator("#nav a").first).to_be_visible()
    assert "Personer" not in page.locator("#nav").inner_text()
    page.goto(url + "/people")
    expect(page.locator("#people-refused")).to_contain_text("dataskyddsombudet", timeout=20000)
    assert page.locator("#people-email").count() == 0 and page.locator("#report-produce").count() == 0
    page.goto(url + "/contacts")
    expect(page.locator("#contacts-deletion .ag-row").first).to_be_visible(timeout=20000)
    expect(page.locator("#contacts-deletion")).to_contain_text("…@", timeout=20000)   # its rows, not "loading"
    emails = [f["email"] for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated"]
    shown = page.locator("#contacts-deletion").inner_text()
    assert "…@" in shown and not [e for e in emails if e and e in shown]
    assert page.locator("#contacts-download-button").count() == 0
    assert errors == []   # nothing the viewer's pages ask for is refused
