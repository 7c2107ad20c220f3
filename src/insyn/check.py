"""`insyn check`: the Great Expectations suites, run in DuckDB, kept as history.

GX runs in a child process (gx_runner.py) on a read-only connection; this
process then records every result in audit.check_results, the findings of
that as-of in audit.findings_history, and the run in audit.check_runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import findings as findings_mod
from .db import insert_rows, transaction
from .errors import InsynError
from .schema import ensure_audit


@dataclass
class CheckReport:
    check_run_id: int
    as_of: dt.date
    results: list[dict]
    data_docs: Path | None

    @property
    def success(self) -> bool:
        return all(r["success"] for r in self.results)

    def by_suite(self) -> list[tuple]:
        suites: dict[str, list[dict]] = {}
        for r in self.results:
            suites.setdefault(r["suite"], []).append(r)
        return [(name, len(rs), sum(1 for r in rs if r["success"]), sum(1 for r in rs if not r["success"]),
                 sum(r["unexpected_count"] or 0 for r in rs)) for name, rs in suites.items()]

    def failed(self) -> list[dict]:
        return [r for r in self.results if not r["success"]]


def run_gx(db: Path, workbench: Path, suites: Path, pipelines: Path, docs: Path | None,
           lake: str | None = None, *, scratch: Path) -> list[dict]:
    """Run the suites in a child process (on the lake's Spark build with `lake`); its results as dicts.
    `scratch` (the warehouse's own state folder) holds the child's temporary files while it runs."""
    command = [sys.executable, "-m", "insyn.gx_runner", "--db", str(db), "--workbench", str(workbench),
               "--suites", str(suites), "--pipelines", str(pipelines)]
    if lake is not None:
        command += ["--lake", lake]
    if docs is not None:
        command += ["--docs", str(docs)]
    # The child's temporary files (GX's, DuckDB's, Spark's) stay with the warehouse and go with the run.
    private = Path(tempfile.mkdtemp(prefix=".check-tmp-", dir=scratch))
    env = {**os.environ, "TMPDIR": str(private), "TEMP": str(private), "TMP": str(private),
           "SPARK_LOCAL_DIRS": str(private)}
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise InsynError(f"check: the Great Expectations run failed ({last})")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise InsynError("check: the Great Expectations run printed no results") from None


def record(con: duckdb.DuckDBPyConnection, as_of: dt.date, results: list[dict], started: dt.datetime,
           docs: Path | None) -> int:
    """Keep the run, its results and that as-of's findings as history (one transaction)."""
    with transaction(con):
        ensure_audit(con)
        run_id = con.execute("select coalesce(max(check_run_id), 0) + 1 from audit.check_runs").fetchone()[0]
        con.execute(
            "insert into audit.check_runs values ($id, $as_of, $started, $finished, $ok, $n, $failed, $docs)",
            {"id": run_id, "as_of": as_of, "started": started,
             "finished": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
             "ok": all(r["success"] for r in results), "n": len(results),
             "failed": sum(1 for r in results if not r["success"]), "docs": str(docs) if docs else None})
        insert_rows(con, "audit.check_results",
                    ["check_run_id", "suite", "expectation_type", "column_name", "check_name", "rule", "severity",
                     "legal_reference", "description", "success", "element_count", "unexpected_count", "exception"],
                    [(run_id, r["suite"], r["expectation_type"], r["column"], r["check"], r["rule"], r["severity"],
                      r["legal_reference"], r["description"], r["success"], r["element_count"],
                      r["unexpected_count"], r["exception"]) for r in results])
        insert_rows(con, "audit.findings_history", ["check_run_id", "as_of", *findings_mod.FINDING_COLUMNS],
                    [(run_id, as_of, *(f[c] for c in findings_mod.FINDING_COLUMNS)) for f in findings_mod.read(con)])
    return run_id
