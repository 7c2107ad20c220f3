"""The benchmark runs, and its pandas baseline agrees with Insyn (a smoke test: no timing is asserted).

benchmarks/run.py at a tiny size: every step of the real run (generate four
weekly snapshots and the week after, raw DuckDB, insyn load/build/findings, the
pandas baseline on the first load and on the weekly run, the GX suites and the
same expectations as SQL, the dashboard over HTTP, the audit pack, the weekly
`insyn run` and a full rebuild) runs once, and the figures come out as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import REPO

KEYS = {"ingest_s", "ingest_raw_duckdb_s", "ingest_ratio", "pipeline_s", "pandas_baseline_s", "speedup_vs_pandas",
        "pandas_first_load_s", "speedup_vs_pandas_first_load", "weekly_s", "weekly_run_s", "weekly_findings_s",
        "pandas_peak_rss_mb", "checks_s", "checks_raw_sql_s", "checks_ratio", "dashboard_p95_ms", "incremental_s",
        "full_rebuild_s", "incremental_ratio", "peak_rss_mb", "audit_pack_s"}
PUBLISHING = {"publish_s", "publishes", "publish_share", "full_rebuild_publish_s"}   # None without INSYN_TIMINGS
STEPS = {"weekly_run", "weekly_findings", "pandas_first_load", "pandas_weekly", "full_rebuild", "full_findings"}


def test_benchmark_runs_at_a_tiny_size_and_the_pandas_baseline_agrees(tmp_path):
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--contacts", "3000", "--events", "20000",
         "--dashboard-requests", "6", "--work", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert KEYS | PUBLISHING <= set(figures)
    assert STEPS <= set(figures["seconds_by_step"]) and STEPS <= set(figures["peak_rss_mb_by_step"])
    assert figures["pandas_agrees"] is True and figures["weeks"] == 4
    assert figures["full_rebuild_agrees"] is True   # the weekly run's findings are a full rebuild's
    assert figures["publishes"] >= 1 and 0 < figures["publish_share"] < 1
    assert figures["dashboard_errors"] == 0 and figures["dashboard_requests"] == 6
    assert all(figures[key] > 0 for key in KEYS)
    for key in ("ingest_ratio", "speedup_vs_pandas", "speedup_vs_pandas_first_load", "incremental_ratio",
                "publish_share"):   # the printed table
        assert key in proc.stdout
    assert not (tmp_path / "work").exists()    # the exports and warehouses are cleaned up
