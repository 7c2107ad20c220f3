"""The benchmark runs, and its pandas baseline agrees with Insyn (a smoke test: no timing is asserted).

benchmarks/run.py at a tiny size: every step of the real run (generate,
raw DuckDB, insyn load/build/findings, the pandas baseline, the GX compliance
suite and the same rule SQL, the dashboard over HTTP, the audit pack, an
incremental and a full load) runs once, and the figures come out as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import REPO

KEYS = {"ingest_s", "ingest_raw_duckdb_s", "ingest_ratio", "pipeline_s", "pandas_baseline_s", "speedup_vs_pandas",
        "pandas_peak_rss_mb", "checks_s", "checks_raw_sql_s", "checks_ratio", "dashboard_p95_ms", "incremental_s",
        "full_rebuild_s", "incremental_ratio", "peak_rss_mb", "audit_pack_s"}


def test_benchmark_runs_at_a_tiny_size_and_the_pandas_baseline_agrees(tmp_path):
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--contacts", "3000", "--events", "20000",
         "--dashboard-requests", "6", "--work", str(tmp_path / "work"), "--json", str(out)],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert KEYS <= set(figures)
    assert figures["pandas_agrees"] is True
    assert figures["dashboard_errors"] == 0 and figures["dashboard_requests"] == 6
    assert all(figures[key] > 0 for key in KEYS)
    assert "ingest_ratio" in proc.stdout and "speedup_vs_pandas" in proc.stdout   # the printed table
    assert not (tmp_path / "work").exists()    # the exports and warehouses are cleaned up
