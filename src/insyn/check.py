"""`insyn check`: the Great Expectations suites, run in DuckDB, kept as history.

GX runs in a child process (gx_runner.py) on a read-only connection; this
process then records every result in audit.check_results, the findings of
that as-of in audit.findings_history, and the run in audit.check_runs.

A suite over sources never loaded, and the compliance expectation of a rule
not evaluated (insyn.findings.not_evaluated), are not run: the child reports
them with `success` None and the missing sources, and they are kept in
audit.check_not_evaluated, never counted as passed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import findings as findings_mod
from .db import ident, insert_rows, transaction
from .errors import InsynError
from .schema import ensure_audit

COMPLIANCE_SUITE = "compliance"     # expectations/suites.py: one expectation per rule


@dataclass
class CheckReport:
    check_run_id: int | None        # None: nothing loaded yet, nothing run or recorded
    as_of: dt.date
    results: list[dict]             # `success` None: not evaluated (its `not_evaluated` names what is missing)
    data_docs: Path | None
    unable: list[dict] = field(default_factory=list)   # the rules not evaluated (findings.not_evaluated)

    @property
    def success(self) -> bool:
        """No expectation that ran failed (some may not have run: see `complete`)."""
        return all(r["success"] is not False for r in self.results)

    @property
    def complete(self) -> bool:
        """Every rule was evaluated (exit code 4 otherwise). A quality suite over a source kind the
        workbench never loads is reported as not evaluated, but does not make the run incomplete."""
        return self.check_run_id is not None and not self.unable

    def by_suite(self) -> list[tuple]:
        """(suite, expectations, passed, failed, not evaluated, unexpected rows) per suite."""
        suites: dict[str, list[dict]] = {}
        for r in self.results:
            suites.setdefault(r["suite"], []).append(r)
        return [(name, len(rs), sum(1 for r in rs if r["success"] is True),
                 sum(1 for r in rs if r["success"] is False), sum(1 for r in rs if r["success"] is None),
                 sum(r["unexpected_count"] or 0 for r in rs)) for name, rs in suites.items()]

    def failed(self) -> list[dict]:
        return [r for r in self.results if r["success"] is False]

    def not_evaluated(self) -> list[dict]:
        return [r for r in self.results if r["success"] is None]


def run_gx(db: Path, workbench: Path, suites: Path, pipelines: Path, docs: Path | None,
           lake: str | None = None, *, scratch: Path, available: set[str] | None = None,
           unable: list[dict] = ()) -> list[dict]:
    """Run the suites in a child process (on the lake's Spark build with `lake`); its results as dicts.
    `scratch` (the warehouse's own state folder) holds the child's temporary files while it runs.
    `available` (the source kinds loaded, findings.available_sources) and `unable` (the rules not
    evaluated) say which suites and rule expectations are not run."""
    command = [sys.executable, "-m", "insyn.gx_runner", "--db", str(db), "--workbench", str(workbench),
               "--suites", str(suites), "--pipelines", str(pipelines)]
    if available is not None:
        # a rule's missing sources, or (a rule that ran but could not judge, e.g. a field not exported)
        # the source it could not judge
        unrun = {e["rule"]: e["missing_sources"] or [e["source"] or e["rule"]] for e in unable}
        command += ["--not-evaluated", json.dumps({"available": sorted(available), "rules": unrun})]
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
    """Keep the run, its results and that as-of's findings as history (one transaction); what was
    not evaluated (suites, and the rules of audit.not_evaluated) in audit.check_not_evaluated.
    A run with a rule not evaluated is not a success."""
    unable = findings_mod.not_evaluated(con)
    skipped = [r for r in results if r["success"] is None]
    results = [r for r in results if r["success"] is not None]
    with transaction(con):
        ensure_audit(con)
        run_id = con.execute("select coalesce(max(check_run_id), 0) + 1 from audit.check_runs").fetchone()[0]
        con.execute(
            "insert into audit.check_runs values ($id, $as_of, $started, $finished, $ok, $n, $failed, $docs)",
            {"id": run_id, "as_of": as_of, "started": started,
             "finished": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
             "ok": all(r["success"] for r in results) and not unable, "n": len(results),
             "failed": sum(1 for r in results if not r["success"]), "docs": str(docs) if docs else None})
        insert_rows(con, "audit.check_not_evaluated",
                    ["check_run_id", "as_of", "suite", "rule", "missing_sources", "source", "detail", "detail_id",
                     "first_date", "first_text"],
                    [(run_id, as_of, suite, None, missing, None, None, None, None, None) for suite, missing in
                     sorted({(r["suite"], ",".join(r["not_evaluated"])) for r in skipped
                             if r["suite"] != COMPLIANCE_SUITE})]
                    + [(run_id, as_of, COMPLIANCE_SUITE, e["rule"], ",".join(e["missing_sources"]), e["source"],
                        e["detail"], e["detail_id"], e["first_date"], e["first_text"]) for e in unable])
        insert_rows(con, "audit.check_results",
                    ["check_run_id", "suite", "expectation_type", "column_name", "check_name", "rule", "severity",
                     "legal_reference", "description", "success", "element_count", "unexpected_count", "exception"],
                    [(run_id, r["suite"], r["expectation_type"], r["column"], r["check"], r["rule"], r["severity"],
                      r["legal_reference"], r["description"], r["success"], r["element_count"],
                      r["unexpected_count"], r["exception"]) for r in results])
        # in SQL: 68,000 findings at 500 k contacts took 1.0-1.4 s through Python, 0.05 s so
        columns = ", ".join(ident(c) for c in findings_mod.FINDING_COLUMNS)
        con.execute(f"insert into audit.findings_history (check_run_id, as_of, {columns}) "
                    f"select $id, $as_of, {columns} from audit.current_findings", {"id": run_id, "as_of": as_of})
    return run_id
