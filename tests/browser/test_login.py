"""Off loopback the dashboard demands a login: `insyn dashboard --host 0.0.0.0` in a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
INSYN = str(Path(sys.executable).with_name("insyn"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _insyn(root, db, *args, **kw):
    return subprocess.run([INSYN, "--workbench", str(root), "--db", str(db), *args],
                          capture_output=True, text=True, timeout=120, **kw)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def public_dashboard(demo_workbench):
    root, db = demo_workbench
    refused = _insyn(root, db, "dashboard", "--host", "0.0.0.0", "--port", str(_free_port()))
    assert refused.returncode == 2 and "insyn user add" in refused.stderr  # no user yet: it will not start
    added = _insyn(root, db, "user", "add", "dpo", "--password-stdin", input="korrekt-häst-batteri\n")
    assert added.returncode == 0, added.stderr
    port = _free_port()
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
                                              "Content-Type": "application/json"})
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
