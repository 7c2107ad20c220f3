"""Concurrency, as a bounded load test on 127.0.0.1: while two `insyn run` start at the same time,
the dashboard (the production server, in its own process) keeps answering every request; one
run works, the other is refused at once with exit 3 and a clear message; nothing is corrupted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import EXPECTED, REPO, SAMPLE, copy_workbench, free_port

pytestmark = pytest.mark.cli

INSYN = str(Path(sys.executable).with_name("insyn"))
AS_OF = EXPECTED["as_of"]
sys.path.insert(0, str(REPO / "benchmarks"))
from run import _page_callbacks, _wait_until_up, call_page, dashboard_env  # noqa: E402


def _insyn(wb: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([INSYN, "--workbench", str(wb), *args], capture_output=True, text=True, timeout=300, **kw)


class Hammer(threading.Thread):
    """Page callbacks in a loop, as fast as the server answers, until stopped."""

    def __init__(self, base: str, callbacks: list[dict]):
        super().__init__(daemon=True)
        self.base, self.callbacks = base, callbacks
        self.stop, self.results = threading.Event(), []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            callback = self.callbacks[n % len(self.callbacks)]
            status, seconds = call_page(self.base, callback, ("sv", "en")[n % 2], timeout=60)
            self.results.append((callback["name"], status, seconds))
            n += 1


@pytest.fixture
def workbench(tmp_path):
    wb, db = copy_workbench(tmp_path / "wb", folders=("pipelines", "expectations", "templates", "dashboards"))
    shutil.copytree(SAMPLE, wb / "data" / "sample")   # the policy text lies there too
    assert _insyn(wb, "-q", "load", str(wb / "data" / "sample" / "exports" / "2026-11-01")).returncode == 0
    assert _insyn(wb, "-q", "build", "--as-of", AS_OF).returncode == 0   # publishes a snapshot
    return wb, db


def test_two_runs_beside_a_busy_dashboard(workbench):
    wb, db = workbench
    port = free_port()
    server = subprocess.Popen([INSYN, "--workbench", str(wb), "dashboard", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=open(wb.parent / "server.err", "w"), text=True,
                              env=dashboard_env())   # its token: the hammers send it, as any client must
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        hammers = [Hammer(base, _page_callbacks(base)) for _ in range(2)]
        for h in hammers:
            h.start()
        time.sleep(1)
        runs = [subprocess.Popen([INSYN, "--workbench", str(wb), "-q", "run", str(wb / "data" / "sample"), "--as-of", AS_OF],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
        time.sleep(1)   # the dashboard answers on from the new snapshot
        for h in hammers:
            h.stop.set()
        for h in hammers:
            h.join(timeout=120)
    finally:
        server.terminate()
        server.wait(30)
    results = [r for h in hammers for r in h.results]
    codes = sorted(code for code, _ in outcomes)
    refused = next(err for code, err in outcomes if code == 3) if 3 in codes else ""
    # one run loads, builds and checks (1: the sample breaks rules on purpose); the other is refused at once
    assert codes in ([1, 3], [0, 3]), outcomes
    assert "another `insyn run` is working on this warehouse" in refused and "Traceback" not in refused
    # the dashboard never failed, and stayed within bounds while the run wrote
    assert len(results) >= 30
    assert [r for r in results if r[1] not in (200, 204)] == []
    latencies = sorted(r[2] for r in results)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"dashboard during the runs: {len(results)} callbacks, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    assert p95 < 10.0
    # nothing corrupted: the warehouse holds the whole sample, once, and its findings
    loads = json.loads(_insyn(wb, "loads", "--format", "json").stdout)
    assert len({e["sha256"] for e in loads}) == len(loads)
    found = json.loads(_insyn(wb, "findings", "--as-of", AS_OF, "--format", "json").stdout)["findings"]
    # (file-based record ids name files from the workbench root; the sample's from its own folder)
    assert sorted((f["rule"], f["record_id"].removeprefix("data/sample/")) for f in found) == \
        sorted((f["rule"], f["record_id"]) for f in EXPECTED["findings"])
    again = _insyn(wb, "-q", "run", str(wb / "data" / "sample"), "--as-of", AS_OF)
    assert again.returncode in (0, 1), again.stderr
    assert len(json.loads(_insyn(wb, "loads", "--format", "json").stdout)) == len(loads)

