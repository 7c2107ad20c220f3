"""Browser tests: the dashboard in a real headless Chromium (Debian's), driven by Playwright.

Never `playwright install`: the launch uses /usr/bin/chromium. The app runs on
waitress in a thread, on a copy of the demo warehouse.
"""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def dashboard_url(demo_workbench):
    from waitress.server import create_server

    from insyn import serve
    from insyn.config import Workbench

    root, db = demo_workbench
    app = serve.create(Workbench.load(root), db, host="127.0.0.1")
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture
def screenshots(request):
    """Where screenshots go: $INSYN_SCREENSHOTS, else the test's temporary folder."""
    folder = Path(os.environ.get("INSYN_SCREENSHOTS") or request.getfixturevalue("tmp_path"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
