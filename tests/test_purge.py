"""`insyn purge`: raw snapshots and web log lines past their retention leave the warehouse, with a record."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from helpers import CONTACT_HEADER, EXPECTED, SAMPLE, contact_row, copy_workbench, layout, sf_csv, write

AS_OF = dt.date.fromisoformat(EXPECTED["as_of"])
LEAD_HEADER = ["Id", "IsDeleted", "LastName", "Company", "Email", "LeadSource", "Status", "HasOptedOutOfEmail",
               "IsConverted", "ConvertedContactId", "ConvertedDate", "CreatedDate", "Lawful_Basis__c"]


def _loads(insyn):
    return {e["file_id"]: e for e in insyn("loads", "--format", "json").json()}


def test_a_dry_run_reports_the_expired_log_lines_and_changes_nothing(insyn, query):
    assert insyn("-q", "load", SAMPLE).code == 0
    before = (_loads(insyn), query("select count(*) from raw.weblog__access"))
    r = insyn("purge", "--as-of", AS_OF.isoformat(), "--dry-run", "--format", "json")
    assert r.code == 0
    plan = r.json()
    # the same lines the rule weblog.retention_exceeded counts in the sample (13 months, Stockholm midnight)
    assert plan["weblog_before"] == "2025-10-23T22:00:00Z" and plan["rows"] == 37 and plan["dry_run"] is True
    assert (_loads(insyn), query("select count(*) from raw.weblog__access")) == before


def test_purging_the_expired_log_lines_clears_the_retention_finding_and_is_recorded(insyn, query, db):
    assert insyn("-q", "load", SAMPLE).code == 0
    found = insyn("-q", "findings", "--as-of", AS_OF.isoformat(), "--rule", "weblog.retention_exceeded",
                  "--format", "json").json()["findings"]
    assert sum(f.get("count", 1) for f in found) == 37
    assert len(list(layout(db).published.glob("insyn-*.duckdb"))) > 1   # the load's and the build's
    r = insyn("purge", "--as-of", AS_OF.isoformat())
    assert r.code == 0 and "deleted 37 raw rows" in r.out and "purge 1" in r.out
    assert f"rebuilding the models as of {AS_OF.isoformat()} without the purged rows" in r.err   # said, not silent
    # no snapshot for the dashboard keeps the purged lines: one, made after the purge, whose models
    # were rebuilt without them (not only the raw layer)
    (snapshot,) = layout(db).published.glob("insyn-*.duckdb")
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for table, column in (("raw.weblog__access", "time_local__utc"), ("staging.stg_weblog__requests",
                                                                          "requested_at"),
                              ("marts.fct_weblog_lines", "requested_at")):
            assert con.execute(f"select count(*) from {table} "
                               f"where {column} < timestamp '2025-10-23 22:00:00'").fetchone() == (0,), table
        assert con.execute("select count(*) from marts.fct_weblog_lines").fetchone()[0] > 0
    finally:
        con.close()
    # the purge rebuilt the models: the rule is now kept
    after = insyn("-q", "findings", "--as-of", AS_OF.isoformat(), "--rule", "weblog.retention_exceeded",
                  "--format", "json").json()["findings"]
    assert after == []
    assert query("select purge_id, reason, raw_table, rows_deleted from audit.purges") == [
        (1, "web log lines past the policy's log retention", "raw.weblog__access", 37)]
    assert query("select count(*) from raw.weblog__access where time_local__utc < timestamp '2025-10-23 22:00:00'") \
        == [(0,)]
    again = insyn("purge", "--as-of", AS_OF.isoformat(), "--format", "json").json()
    assert again["rows"] == 0 and again["purge_id"] is None


def _old_lines_in(path: Path, tables=(("raw.weblog__access", "time_local__utc"),
                                      ("staging.stg_weblog__requests", "requested_at"))) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {table: con.execute(f"select count(*) from {table} where {column} < timestamp '2025-10-23 22:00:00'")
                .fetchone()[0] for table, column in tables}
    finally:
        con.close()


def test_a_purge_whose_clean_up_failed_is_finished_by_the_next_purge(insyn, query, db, monkeypatch):
    """The purge commits its deletions first; if the rebuild, the compaction or the publish after it
    fails (a full disk), the next `insyn purge` does them, though it finds nothing new to delete."""
    from insyn import erasure
    from insyn import purge as purge_mod

    assert insyn("-q", "load", SAMPLE).code == 0
    assert insyn("-q", "build", "--as-of", AS_OF.isoformat()).code == 0
    real_compact, real_files = erasure.compact, purge_mod.purge_files

    def disk_full(path):
        raise duckdb.IOException("could not write file: No space left on device")

    monkeypatch.setattr(erasure, "compact", disk_full)
    retention_steps = []
    monkeypatch.setattr(purge_mod, "purge_files", lambda **kw: retention_steps.append(kw) or real_files(**kw))
    failed = insyn("purge", "--as-of", AS_OF.isoformat())
    assert failed.code == 5 and "Traceback" not in failed.err
    assert ("purge 1: the rows are deleted, but rebuilding the models, rewriting the warehouse file or replacing "
            "the dashboard's snapshots did not finish (IOException); run `insyn purge` again" in failed.err)
    assert len(retention_steps) == 1   # the files past [retention] went all the same
    assert query("select count(*) from raw.weblog__access where time_local__utc < timestamp '2025-10-23 22:00:00'") \
        == [(0,)]   # the deletions were committed
    assert query("select count(*) from audit.purges_settled") == [(0,)]
    assert any(_old_lines_in(p, (("raw.weblog__access", "time_local__utc"),))["raw.weblog__access"]
               for p in layout(db).published.glob("insyn-*.duckdb"))   # not yet replaced

    monkeypatch.setattr(erasure, "compact", real_compact)
    again = insyn("purge", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert again.code == 0 and again.json()["rows"] == 0 and again.json()["purge_id"] is None
    assert again.json()["finished_earlier_purges"] == [1]   # said, not only done
    assert query("select purge_id from audit.purges_settled") == [(1,)]
    (snapshot,) = layout(db).published.glob("insyn-*.duckdb")
    assert _old_lines_in(snapshot) == {"raw.weblog__access": 0, "staging.stg_weblog__requests": 0}
    assert _old_lines_in(db) == {"raw.weblog__access": 0, "staging.stg_weblog__requests": 0}
    # settled: a third purge has nothing to do and publishes nothing
    assert insyn("purge", "--as-of", AS_OF.isoformat()).code == 0
    assert list(layout(db).published.glob("insyn-*.duckdb")) == [snapshot]


def test_a_purge_is_not_settled_while_an_earlier_snapshot_may_hold_its_rows(insyn, query, db, monkeypatch):
    from insyn import snapshot

    assert insyn("-q", "load", SAMPLE).code == 0
    real_remove = snapshot.remove_published

    def cannot_remove(folder):
        raise PermissionError("snapshot folder")

    monkeypatch.setattr(snapshot, "remove_published", cannot_remove)
    assert insyn("purge", "--as-of", AS_OF.isoformat()).code == 5
    assert query("select count(*) from audit.purges_settled") == [(0,)]
    monkeypatch.setattr(snapshot, "remove_published", real_remove)
    finished = insyn("purge", "--as-of", AS_OF.isoformat())
    assert finished.code == 0 and "finished purge 1: models rebuilt without its rows" in finished.out
    assert query("select purge_id from audit.purges_settled") == [(1,)]
    (snapshot_file,) = layout(db).published.glob("insyn-*.duckdb")
    assert _old_lines_in(snapshot_file, (("raw.weblog__access", "time_local__utc"),)) == {"raw.weblog__access": 0}


def test_old_snapshots_go_but_the_latest_of_each_source_stays_however_old(tmp_path, insyn, query):
    for day, ids in (("2023-01-10", ["0035g00000AaAaAAAA"]), ("2024-06-01", ["0035g00000BbBbBAAA"]),
                     ("2026-11-17", ["0035g00000CcCcCAAA", "0035g00000DdDdDAAA"])):
        write(tmp_path / "exports" / day / "Contact.csv",
              sf_csv(CONTACT_HEADER, [contact_row(i, email=f"{i}@example.se") for i in ids]))
    # a lead export from 2023 is old, but the only one: the rules still judge it
    write(tmp_path / "exports" / "2023-01-10" / "Lead.csv",
          sf_csv(LEAD_HEADER, [["00Q5g00000EeEeEAAA"] + [""] * (len(LEAD_HEADER) - 1)]))
    assert insyn("-q", "load", tmp_path / "exports").code == 0
    r = insyn("purge", "--as-of", "2026-11-24", "--format", "json")
    plan = r.json()
    # [purge] snapshot_months = 25 in insyn.toml: exported before 24 October 2024 goes
    assert plan["snapshots_before"] == "2024-10-24T00:00:00Z"
    assert [(f["source"], f["exported_at"][:10], f["rows_deleted"]) for f in plan["snapshot_files"]] == [
        ("salesforce.contact", "2023-01-10", 1), ("salesforce.contact", "2024-06-01", 1)]
    assert query("select id from raw.salesforce__contact order by id") == [("0035g00000CcCcCAAA",),
                                                                          ("0035g00000DdDdDAAA",)]
    assert query("select count(*) from raw.salesforce__lead") == [(1,)]
    status = {(e["source"], e["exported_at"][:10]): e["status"] for e in _loads(insyn).values()}
    assert status == {("salesforce.contact", "2023-01-10"): "purged", ("salesforce.contact", "2024-06-01"): "purged",
                      ("salesforce.contact", "2026-11-17"): "loaded", ("salesforce.lead", "2023-01-10"): "loaded"}
    # an unchanged old file is not loaded again: its hash is still known
    again = insyn("load", tmp_path / "exports")
    assert again.code == 0 and "0 file(s) loaded" in again.out


def test_purge_needs_a_warehouse_and_refuses_the_spark_engine(tmp_path, insyn):
    r = insyn("purge", "--dry-run")
    assert r.code == 2 and "no warehouse yet" in r.err
    r = insyn("--engine", "spark", "--lake", str(tmp_path / "lake"), "purge")
    assert r.code == 2 and "not available with --engine spark" in r.err


def _ledger_line(entry_id: str, kind: str, recorded_at: str, path: str) -> str:
    return json.dumps({"entry_id": entry_id, "kind": kind, "recorded_at": recorded_at, "recorded_by": "dpo",
                       "email_sha256": "ab" * 32, "path": path}) + "\n"


def _aged(path: Path, day: str, data: bytes = b"x") -> Path:
    write(path, data)
    stamp = dt.datetime.fromisoformat(day + "T12:00:00+00:00").timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_access_log_reports_and_deletion_tasks_past_their_retention_go_and_an_unreachable_copy_is_named(
        tmp_path, insyn, db):
    assert insyn("-q", "load", SAMPLE / "exports" / "2026-11-01").code == 0
    home = layout(db).state
    # [retention] in insyn.toml: access log 365 days, reports 30, deletion tasks 90; as of 2026-11-24
    write(home / "access-log.jsonl", "".join(
        json.dumps({"at": at, "event": "lookup", "user": "karin", "subject": None, "address": None,
                    "success": True, "detail": None}) + "\n"
        for at in ("2025-11-01T10:00:00+00:00", "2026-11-20T10:00:00+00:00")))
    old_report = _aged(home / "reports" / "access-report-DSAR-2026-001-20261001-100000.pdf", "2026-10-01")
    new_report = _aged(home / "reports" / "access-report-DSAR-2026-002-20261120-100000.pdf", "2026-11-20")
    sent = write(tmp_path / "sent" / "letter.pdf", b"x")                  # --out elsewhere, recorded in the ledger
    stick = tmp_path / "usb-stick" / "letter.pdf"                          # recorded, its folder not there now
    new_html = _aged(home / "reports" / "recorded-new.html", "2026-09-01")  # the ledger's date counts, not the file's
    old_tasks = write(home / "deletion-tasks" / "L00004-deletion-tasks.csv", b"x")
    new_tasks = _aged(home / "deletion-tasks" / "L00005-deletion-tasks.csv", "2026-11-01")
    write(home / "dsar-ledger.jsonl",
          _ledger_line("L00001", "access_report", "2026-10-01T09:00:00+00:00", str(sent))
          + _ledger_line("L00002", "access_report", "2026-10-02T09:00:00+00:00", str(stick))
          + _ledger_line("L00003", "access_report", "2026-11-20T09:00:00+00:00", "reports/recorded-new.html")
          + _ledger_line("L00004", "erasure", "2026-08-01T09:00:00+00:00", "deletion-tasks/L00004-deletion-tasks.csv"))

    dry = insyn("purge", "--as-of", "2026-11-24", "--dry-run", "--format", "json")
    assert dry.code == 0, dry.err
    kept = dry.json()["retention"]
    assert kept["access_log_entries"] == 1 and kept["horizons"]["reports_days"] == "2026-10-25T00:00:00+00:00"
    assert sorted(kept["reports"]) == sorted([str(old_report), str(sent)])
    assert kept["deletion_tasks"] == [str(old_tasks)]
    assert old_report.exists() and sent.exists() and old_tasks.exists()
    assert len((home / "access-log.jsonl").read_text().splitlines()) == 2

    r = insyn("purge", "--as-of", "2026-11-24")
    assert r.code == 1, r.err                    # done, but one recorded copy could not be reached: named
    assert "deleted 1 access-log entries written before 2025-11-24 ([retention] access_log_days)" in r.out
    assert "deleted 2 access reports written before 2026-10-25" in r.out
    assert "deleted 1 deletion-task files written before 2026-08-26" in r.out
    assert f"NOT deleted, could not be reached (its folder is missing (a drive not mounted?)): {stick}" in r.out
    assert not old_report.exists() and not sent.exists() and not old_tasks.exists()
    assert new_report.exists() and new_html.exists() and new_tasks.exists()
    assert [json.loads(line)["at"][:10] for line in (home / "access-log.jsonl").read_text().splitlines()] == \
        ["2026-11-20"]


@pytest.mark.parametrize("setting, problem", [
    ("reports_days = 0", "retention.reports_days: expected a number of days"),
    ('access_log_days = "a year"', "retention.access_log_days: expected a number of days"),
    ("logins_days = 30", "retention.logins_days: not a setting this version knows"),
])
def test_a_bad_retention_setting_names_the_file_and_key(tmp_path, setting, problem):
    from insyn.cli import main

    root, _ = copy_workbench(tmp_path / "wb")
    toml = root / "insyn.toml"
    toml.write_text(re.sub(r"\[retention\][^\[]*", f"[retention]\n{setting}\n\n", toml.read_text()))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "purge", "--dry-run"])
    assert code == 2 and f"insyn.toml: {problem}" in err.getvalue()


@pytest.mark.parametrize("holder", ["insyn run", "insyn dsar erase"])
def test_a_purge_beside_a_running_insyn_run_is_refused_and_deletes_nothing(insyn, query, db, holder):
    from insyn.db import run_lock

    assert insyn("-q", "load", SAMPLE).code == 0
    with run_lock(db, holder):   # an `insyn run` between its steps, or an erasure rebuilding
        r = insyn("purge", "--as-of", AS_OF.isoformat())
        assert r.code == 3 and f"another `{holder}` is working on this warehouse" in r.err
        assert insyn("purge", "--as-of", AS_OF.isoformat(), "--dry-run").code == 0   # reading is fine
    assert query("select count(*) from audit.purges") == [(0,)]
    assert query("select count(*) from raw.weblog__access where time_local__utc < timestamp '2025-10-23 22:00:00'") \
        == [(37,)]


def test_an_erasure_beside_a_purge_is_refused_and_erases_nothing(insyn, query, db):
    from insyn.db import run_lock

    assert insyn("-q", "load", SAMPLE).code == 0
    person = query("select email from raw.salesforce__contact where email like '%@%' order by 1 limit 1")[0][0]
    before = query("select count(*) from raw.salesforce__contact")
    with run_lock(db, "insyn purge"):
        r = insyn("dsar", "erase", person, "--on", AS_OF.isoformat())
        assert r.code == 3 and "another `insyn purge` is working on this warehouse" in r.err
    assert query("select count(*) from raw.salesforce__contact") == before
