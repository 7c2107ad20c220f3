"""Clicking an overview item lands on its page filtered to it (issue 18, done-when), in Debian's Chromium.

The filter travels in the tab's state (a session store the overview writes on the click), never in
the URL: the tests read the grid's rows the server sent and the address the browser shows.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from test_axe import axe_script, severe_violations  # noqa: F401 - a fixture, and axe-core's run
from test_layout import opened, settle

pytestmark = pytest.mark.browser

REQUEST = "DSAR-2026-021"   # due the day after the demo's as-of


@pytest.fixture
def site(browser, browser_context_args, dashboard_url, dashboard_cookie):
    # axe-core's script is added by the test
    with opened(browser, browser_context_args, dashboard_url, dashboard_cookie, width=1280, bypass_csp=True) as page:
        yield page


def shown_rows(page, grid: str, column: str) -> list[str]:
    """The values of `column` in the rows `grid` shows, once the server's page has arrived."""
    rows = page.locator(f"#{grid} .ag-center-cols-container .ag-row")
    expect(rows.first).to_be_visible(timeout=20000)
    expect(page.locator(f"#{grid} .ag-row-loading")).to_have_count(0, timeout=10000)
    expect(page.locator(f"#{grid} .ag-paging-row-summary-panel-number").last).to_have_text(re.compile(r"^\d+$"),
                                                                                          timeout=20000)
    expect(rows.first.locator(f"[col-id={column}]")).not_to_have_text("", timeout=20000)
    return [cell.inner_text().strip() for cell in rows.locator(f"[col-id={column}]").all()]


def no_personal_data_in(url: str) -> None:
    assert "?" not in url and "#" not in url.split("//", 1)[1], url
    assert not re.search(r"DSAR-|@|%40", url), url


def test_clicking_a_request_in_the_queue_lands_on_requests_filtered_to_it(site, axe_script):  # noqa: F811
    item = site.locator("#overview-queue li", has_text=REQUEST)
    expect(item).to_contain_text(re.compile("förfaller i morgon|due tomorrow"))
    item.locator("a").click()
    site.wait_for_function("() => location.pathname === '/requests'")
    expect(site.locator("#filter-shown")).to_contain_text(REQUEST, timeout=20000)
    expect(site.locator("#requests-grid .ag-paging-row-summary-panel-number").last).to_have_text("1", timeout=20000)
    assert shown_rows(site, "requests-grid", "request_id") == [REQUEST]
    no_personal_data_in(site.url)
    assert severe_violations(site, axe_script, "/requests filtered") == []
    # cleared, the grid shows every request again
    site.locator("#filter-clear").click()
    expect(site.locator("#filter-shown")).to_have_count(0, timeout=10000)
    expect(site.locator("#requests-grid .ag-paging-row-summary-panel-number").last) \
        .not_to_have_text(re.compile(r"^1$"), timeout=20000)
    assert len(shown_rows(site, "requests-grid", "request_id")) > 1
    no_personal_data_in(site.url)


def test_the_filter_is_forgotten_on_another_page(site):
    site.locator("#overview-queue li", has_text=REQUEST).locator("a").click()
    expect(site.locator("#filter-shown")).to_contain_text(REQUEST, timeout=20000)
    site.locator("#nav a[href='/contacts']").click()
    site.wait_for_function("() => location.pathname === '/contacts'")
    settle(site)
    site.locator("#nav a[href='/requests']").click()
    site.wait_for_function("() => location.pathname === '/requests'")
    settle(site)
    assert len(shown_rows(site, "requests-grid", "request_id")) > 1
    expect(site.locator("#filter-shown")).to_have_count(0)


def test_the_erasures_card_lands_on_the_erasures_not_carried_out(site):
    card = site.locator("#kpi-erasures-not-carried-out")
    count = int(card.locator(".kpi-value").inner_text())
    assert count > 0
    card.locator("a").click()
    site.wait_for_function("() => location.pathname === '/erasures'")
    expect(site.locator("#filter-shown")).to_be_visible(timeout=20000)
    statuses = shown_rows(site, "erasures-grid", "erasure_status")
    assert statuses and set(statuses) == {"Finns kvar"}   # Swedish, the demo's language
    assert len(set(shown_rows(site, "erasures-grid", "erasure_id"))) == count
    no_personal_data_in(site.url)
