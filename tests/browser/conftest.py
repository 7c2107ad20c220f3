"""Browser tests: the dashboard in a real headless Chromium (Debian's), driven by Playwright.

Never `playwright install`: the launch uses /usr/bin/chromium. The app runs on
waitress in a thread, on a copy of the demo warehouse, behind its login gate:
the server gets a known token, which is exchanged for a session cookie as a
browser does (`/?token=`), and every test using `dashboard_url` starts with
that cookie in its browser context.
"""

from __future__ import annotations

import http.client
import os
import secrets
import threading
from pathlib import Path

import pytest

from insyn.audit import CHROMIUM, CHROMIUM_ARGS  # one definition of how Insyn launches Debian's Chromium


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}, "accept_downloads": True}


@pytest.fixture(scope="session")
def demo_workbench(demo, tmp_path_factory):
    """A copy of the demo workbench whose warehouse is the one the dashboard reads."""
    from helpers import copy_workbench

    wb, _ = demo
    return copy_workbench(tmp_path_factory.mktemp("dash-wb"), folders=("pipelines", "expectations", "dashboards", "templates"),
                          warehouse=wb / "data" / "demo" / "insyn.duckdb")


DASHBOARD_TOKEN = secrets.token_urlsafe(32)  # the in-process dashboard's; tests may use it


@pytest.fixture(scope="session")
def dashboard_url(demo_workbench):
    from insyn import serve
    from insyn.workbench import Workbench

    root, db = demo_workbench
    app = serve.create(Workbench.open(root, db=db), host="127.0.0.1", auth_options={"token": DASHBOARD_TOKEN})
    server = serve.make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="session")
def dashboard_token() -> str:
    return DASHBOARD_TOKEN


@pytest.fixture(scope="session")
def dashboard_cookie(dashboard_url) -> dict:
    """The session cookie the dashboard gives for its token, as Playwright takes a cookie."""
    host, port = dashboard_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/?token=" + DASHBOARD_TOKEN)
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 302, response.status
    name, _, value = response.getheader("Set-Cookie").split(";")[0].partition("=")
    return {"name": name, "value": value, "url": dashboard_url, "httpOnly": True, "sameSite": "Strict"}


@pytest.fixture(autouse=True)
def _logged_in_to_the_dashboard(request):
    """A test on `dashboard_url` with a browser page opens it as the token holder would."""
    if "dashboard_url" in request.fixturenames and "context" in request.fixturenames:
        request.getfixturevalue("context").add_cookies([request.getfixturevalue("dashboard_cookie")])


@pytest.fixture
def screenshots(request):
    """Where screenshots go: $INSYN_SCREENSHOTS, else the test's temporary folder."""
    folder = Path(os.environ.get("INSYN_SCREENSHOTS") or request.getfixturevalue("tmp_path"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
