"""The same models and checks on DuckDB and on Spark (pyspark local[2]) give the same answers.

The sample exports, plus a CRM export of edge cases in the judged snapshot, are
loaded and built by the command line on both engines, for the sample's as-of
date and for a leap day. Every model's rows (sorted) and column types must be
equal, and the Great Expectations suites the same successes and unexpected counts.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.dataset as pads
import pytest

from insyn.build import discover

from helpers import EXPECTED, REPO, SAMPLE, sf_csv

pytestmark = pytest.mark.engines

AS_OF = dt.date.fromisoformat(EXPECTED["as_of"])
LEAP_DAY = dt.date(2028, 2, 29)   # the retention window starts add_months(29 Feb, -12) = 28 Feb
HEADER = ["Id", "IsDeleted", "Email", "LeadSource", "HasOptedOutOfEmail", "CreatedDate", "LastActivityDate",
          "Lawful_Basis__c", "FirstName", "LastName"]
# Rows the sample lacks, in the judged (latest) contact snapshot of 2026-11-23.
EDGE_CONTACTS = [
    # double inner space in a company-initiated lead source; a +01:00 offset that puts creation
    # 23:30 UTC the day before the retention window start (2025-11-24); an 18-character id
    ["0035g0000EdGe01AAA", "false", "edge.one@example.se", "Web  Research", "false",
     "2025-11-24T00:30:00+01:00", "", "Legitimate interest", "Ed", "One"],
    # a 15-character id, blank e-mail, a leap-day creation, a non-breaking space in the source
    ["0035g0000EdGe02", "false", "", " Public\u00a0Website ", "false", "2024-02-29T12:00:00.000Z", "",
     "Legitimate interest", "Ed", "Two"],
    # created exactly at the window start; an e-mail with capitals and a trailing space
    ["0035g0000EdGe03AAA", "false", "Edge.Three@Example.se ", "cold call", "false",
     "2025-11-24T00:00:00.000Z", "", "Consent", "Ed", "Three"],
    # created on 31 January: due 31 January a year later
    ["0035g0000EdGe04AAA", "false", "edge.four@example.se", "Purchased List", "false",
     "2020-01-31T10:00:00.000Z", "", "Legitimate interest", "Ed", "Four"],
]


def _insyn(*args: str, workbench: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("insyn")
    return subprocess.run([str(exe), "--workbench", str(workbench), *args], capture_output=True, text=True,
                          timeout=900, env={**os.environ, "INSYN_ENGINE": "", "INSYN_LAKE": "",
                                            "INSYN_SPARK_REMOTE": "", **(env or {})})


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """Both engines' warehouses (and the lake), built and checked for AS_OF."""
    if shutil.which("java") is None:
        pytest.fail("the Spark engine needs Java (Debian: openjdk-17-jre-headless; .ci/run installs it)")
    root = tmp_path_factory.mktemp("engines")
    inbox = root / "inbox"
    shutil.copytree(SAMPLE, inbox)
    edge = inbox / "exports" / "2026-11-23" / "edge-cases" / "Contact.csv"
    edge.parent.mkdir(parents=True)
    edge.write_bytes(sf_csv(HEADER, EDGE_CONTACTS))
    duck, spark_db, lake = root / "duckdb.duckdb", root / "served.duckdb", root / "lake"
    for args in (["--db", str(duck)], ["--engine", "spark", "--lake", str(lake), "--db", str(spark_db)]):
        proc = _insyn(*args, "-q", "load", str(inbox), workbench=REPO)
        assert proc.returncode == 0, proc.stderr[-2000:]
        proc = _insyn(*args, "-q", "check", "--as-of", AS_OF.isoformat(), workbench=REPO)
        assert proc.returncode in (0, 1), proc.stderr[-2000:]   # 1: the sample breaks rules on purpose
    return {"duckdb": duck, "served": spark_db, "lake": lake}


def _spark_build(lake: Path) -> Path:
    return lake / "models" / (lake / "models" / "CURRENT").read_text().strip()


def _key(row: tuple) -> tuple:
    return tuple((v is None, str(type(v).__name__), v if v is not None else 0) for v in row)


def _compare_models(duck: Path, lake: Path, layers=("staging", "marts", "rules")) -> list[str]:
    """Differences between the DuckDB warehouse and the lake's Spark build, model by model."""
    build = _spark_build(lake)
    con = duckdb.connect(str(duck), read_only=True)
    problems = []
    try:
        for model in discover(REPO / "pipelines"):
            if model.layer not in layers:
                continue
            ours = con.execute(f"select * from {model.layer}.{model.name}").to_arrow_table()
            theirs = pads.dataset(build / model.layer / model.name, format="parquet",
                                  ignore_prefixes=[".", "_"]).to_table()
            if ours.schema.names != theirs.schema.names:
                problems.append(f"{model.table}: columns {ours.schema.names} vs {theirs.schema.names}")
                continue
            types = [(n, str(a.type), str(b.type)) for n, a, b in zip(ours.schema.names, ours.schema, theirs.schema)
                     if str(a.type) != str(b.type)]
            if types:
                problems.append(f"{model.table}: types differ {types}")
            a = sorted((tuple(r.values()) for r in ours.to_pylist()), key=_key)
            b = sorted((tuple(r.values()) for r in theirs.to_pylist()), key=_key)
            if a != b:
                only_a = [r for r in a if r not in b][:3]
                only_b = [r for r in b if r not in a][:3]
                problems.append(f"{model.table}: {len(a)} vs {len(b)} rows; DuckDB only {only_a}; Spark only {only_b}")
    finally:
        con.close()
    return problems


def test_every_model_gives_the_same_rows_and_types_on_both_engines(engines):
    assert _compare_models(engines["duckdb"], engines["lake"]) == []


def test_everything_in_the_lake_is_readable_by_its_owner_only(engines):
    written = [p for p in engines["lake"].rglob("*")]
    assert any(p.match("*.parquet") and "models" in p.parts for p in written)
    assert [str(p) for p in written if p.stat().st_mode & 0o077] == []


def test_the_edge_cases_reach_the_rules_on_both_engines(engines):
    """The edge rows are judged, not dropped (the rows are equal on both engines, above)."""
    con = duckdb.connect(str(engines["served"]), read_only=True)
    try:
        found = {r[0] for r in con.execute(
            "select record_id from rules.retention__inactive_company_initiated").fetchall()}
        clock = {r[0]: r[1:] for r in con.execute(
            "select record_id, record_key, created_on, due_on from marts.fct_retention_clock "
            "where record_id like '0035g0000EdGe%'").fetchall()}
    finally:
        con.close()
    d = dt.date
    assert clock == {
        # +01:00: created 23:30 UTC the day before the window start; the 18-character id keys as 15
        "0035g0000EdGe01AAA": ("0035g0000EdGe01", d(2025, 11, 23), d(2026, 11, 23)),
        # 29 February + 12 months = 28 February; a blank e-mail is still a record to delete
        "0035g0000EdGe02": ("0035g0000EdGe02", d(2024, 2, 29), d(2025, 2, 28)),
        # exactly at the window start: due on the as-of itself, not yet overdue
        "0035g0000EdGe03AAA": ("0035g0000EdGe03", d(2025, 11, 24), d(2026, 11, 24)),
        "0035g0000EdGe04AAA": ("0035g0000EdGe04", d(2020, 1, 31), d(2021, 1, 31)),
    }
    # `Web  Research` (two spaces) and ` Public\u00a0Website ` still classify as company-initiated
    assert {"0035g0000EdGe01AAA", "0035g0000EdGe02", "0035g0000EdGe04AAA"} <= found
    assert "0035g0000EdGe03AAA" not in found


def test_spark_rolls_deadlines_past_holidays_and_weekends_from_31_january(engines):
    """Read from Spark's own output: the calendar table decides, not a day-of-week number."""
    rows = pads.dataset(_spark_build(engines["lake"]) / "marts" / "fct_dsar_requests", format="parquet",
                        ignore_prefixes=[".", "_"]).to_table().to_pylist()
    due = {r["request_id"]: (r["received_on"], r["legal_due_unrolled_on"], r["legal_due_on"]) for r in rows}
    d = dt.date
    # one month after 6 December is Epiphany (Trettondedag jul), a Swedish public holiday
    assert due["DSAR-2025-015"] == (d(2025, 12, 6), d(2026, 1, 6), d(2026, 1, 7))
    # 31 January + one month = 28 February, a Saturday: due the Monday after
    assert due["DSAR-2026-002"] == (d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 2))


def _check_results(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return sorted(con.execute(
            "select suite, expectation_type, coalesce(rule, check_name), column_name, success, unexpected_count "
            "from audit.check_results where check_run_id = (select max(check_run_id) from audit.check_runs)"
        ).fetchall(), key=_key)
    finally:
        con.close()


def test_the_expectation_suites_give_the_same_results_on_both_engines(engines):
    duck, spark = _check_results(engines["duckdb"]), _check_results(engines["served"])
    assert len(duck) >= 30 and any(not r[4] for r in duck)   # the sample fails some checks on purpose
    assert spark == duck


def test_findings_read_from_the_spark_build_equal_duckdbs(engines):
    args = ["findings", "--as-of", AS_OF.isoformat(), "--format", "json"]
    duck = _insyn("--db", str(engines["duckdb"]), *args, workbench=REPO)
    spark = _insyn("--engine", "spark", "--lake", str(engines["lake"]), "--db", str(engines["served"]), *args,
                   workbench=REPO)
    assert duck.returncode == spark.returncode == 0, spark.stderr[-2000:]
    assert spark.stdout == duck.stdout and '"rule": "retention.inactive_company_initiated"' in spark.stdout
    assert "(Spark)" not in spark.stderr   # already built for that as-of: not rebuilt


def test_a_leap_day_as_of_gives_the_same_rules_on_both_engines(engines):
    for args in (["--db", str(engines["duckdb"])],
                 ["--engine", "spark", "--lake", str(engines["lake"]), "--db", str(engines["served"])]):
        proc = _insyn(*args, "-q", "build", "--as-of", LEAP_DAY.isoformat(), workbench=REPO)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert _compare_models(engines["duckdb"], engines["lake"], layers=("marts", "rules")) == []
    con = duckdb.connect(str(engines["served"]), read_only=True)
    try:
        assert con.execute("select as_of from params.run").fetchone()[0] == LEAP_DAY
    finally:
        con.close()


def test_the_build_runs_over_spark_connect_with_the_same_rules(engines):
    """A Spark Connect server started from the pyspark package (remote `local[2]`), spoken to over gRPC."""
    args = ["build", "--as-of", AS_OF.isoformat()]
    duck = _insyn("--db", str(engines["duckdb"]), "-q", *args, workbench=REPO)
    spark = _insyn("--engine", "spark", "--lake", str(engines["lake"]), "--db", str(engines["served"]), *args,
                   workbench=REPO, env={"INSYN_SPARK_REMOTE": "local[2]"})
    assert duck.returncode == spark.returncode == 0, spark.stderr[-2000:]
    assert "rules.retention__inactive_company_initiated (Spark Connect)" in spark.stderr
    assert _compare_models(engines["duckdb"], engines["lake"], layers=("rules",)) == []
