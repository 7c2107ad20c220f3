"""Off loopback the dashboard demands a login: `insyn dashboard --host 0.0.0.0` in a real process.
On loopback, the token link printed at start opens it in Chromium, under its Content-Security-Policy."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from helpers import copy_workbench, free_port

pytestmark = pytest.mark.browser
INSYN = str(Path(sys.executable).with_name("insyn"))


def _insyn(root, db, *args, **kw):
    return subprocess.run([INSYN, "--workbench", str(root), "--db", str(db), *args],
                          capture_output=True, text=True, timeout=120, **kw)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def public_dashboard(demo_workbench, tmp_path_factory):
    # a workbench of its own: the user it adds must not reach the shared one (or a second set-up)
    root, db = copy_workbench(tmp_path_factory.mktemp("public-wb"),
                              folders=("pipelines", "expectations", "dashboards", "templates"),
                              warehouse=demo_workbench[1])
    refused = _insyn(root, db, "dashboard", "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 2 and "insyn user add" in refused.stderr  # no user yet: it will not start
    added = _insyn(root, db, "user", "add", "dpo", "--password-stdin", input="korrekt-häst-batteri\n")
    assert added.returncode == 0, added.stderr
    port = free_port()
    proc = subprocess.Popen([INSYN, "--workbench", str(root), "--db", str(db), "dashboard", "--host", "0.0.0.0",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.build_opener(_NoRedirect).open(url + "/login", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.3)
    yield url
    proc.terminate()
    out, err = proc.communicate(timeout=20)
    assert "korrekt" not in out + err and "dpo" not in (out + err).replace("Insyn dashboard", "")


@pytest.mark.parametrize("method, path, expected", [
    ("GET", "/", 302), ("GET", "/requests", 302), ("GET", "/_dash-layout", 401), ("GET", "/_dash-dependencies", 401),
    ("POST", "/_dash-update-component", 401), ("GET", "/assets/style.css", 401),
])
def test_every_route_refuses_anonymous_requests(public_dashboard, method, path, expected):
    request = urllib.request.Request(public_dashboard + path, method=method, data=b"{}" if method == "POST" else None,
                                     headers={"Accept": "text/html" if expected == 302 else "application/json",
                                              "Content-Type": "application/json", "Origin": public_dashboard})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.build_opener(_NoRedirect).open(request, timeout=10)
    assert exc.value.code == expected
    if expected == 302:
        assert exc.value.headers["Location"].startswith("/login")


def test_logging_in_opens_the_dashboard(page, public_dashboard):
    page.goto(public_dashboard + "/requests")
    expect(page).to_have_url(public_dashboard + "/login?next=%2Frequests")
    page.locator("input[name=password]").fill("fel-lösenord-helt-och-hållet")
    page.locator("input[name=username]").fill("dpo")
    page.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator("body")).to_contain_text("Fel användarnamn eller lösenord")
    page.locator("input[name=username]").fill("dpo")
    page.locator("input[name=password]").fill("korrekt-häst-batteri")
    page.locator("button[type=submit], input[type=submit]").first.click()
    expect(page.locator("h1")).to_have_text("Begäranden", timeout=20000)


def test_a_token_opens_nothing_off_loopback(public_dashboard):
    for headers, path in [({}, "/?token=" + "x" * 43), ({"Authorization": "token " + "x" * 43}, "/")]:
        request = urllib.request.Request(public_dashboard + path, headers={"Accept": "text/html", **headers})
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.build_opener(_NoRedirect).open(request, timeout=10)
        assert exc.value.code == 302 and exc.value.headers["Location"] == "/login?next=%2F"
        assert "Set-Cookie" not in exc.value.headers or "insyn" not in exc.value.headers["Set-Cookie"]


def test_the_token_link_opens_the_loopback_dashboard_and_logout_ends_it(page, context, dashboard_url, dashboard_token):
    context.clear_cookies()  # a browser that has not been here
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(dashboard_url + "/requests")
    expect(page).to_have_url(dashboard_url + "/login?next=%2Frequests")
    expect(page.locator("body")).to_contain_text("?token=")  # how to get in on this computer
    page.goto(dashboard_url + "/requests?token=wrong-" + dashboard_token)
    expect(page).to_have_url(dashboard_url + "/login?next=%2Frequests")

    page.goto(dashboard_url + "/requests?token=" + dashboard_token)
    expect(page).to_have_url(dashboard_url + "/requests")  # the token leaves the address bar (and history)
    expect(page.locator("h1")).to_have_text("Begäranden", timeout=20000)
    expect(page.locator(".js-plotly-plot .plot-container .main-svg").first).to_be_visible(timeout=20000)
    port = dashboard_url.rsplit(":", 1)[1]
    [cookie] = context.cookies()
    assert cookie["name"] == f"insyn_{port}"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    assert errors == []  # the pages run under the Content-Security-Policy: nothing blocked

    page.goto(dashboard_url + "/logout")
    expect(page).to_have_url(dashboard_url + "/login")
    context.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": dashboard_url}])
    page.goto(dashboard_url + "/requests")  # the cookie from before the logout, put back
    expect(page).to_have_url(dashboard_url + "/login?next=%2Frequests")
