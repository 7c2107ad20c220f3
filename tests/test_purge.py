"""`insyn purge`: raw snapshots and web log lines past their retention leave the warehouse, with a record."""

from __future__ import annotations

import datetime as dt

from helpers import CONTACT_HEADER, EXPECTED, SAMPLE, contact_row, sf_csv, write

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


def test_purging_the_expired_log_lines_clears_the_retention_finding_and_is_recorded(insyn, query):
    assert insyn("-q", "load", SAMPLE).code == 0
    found = insyn("-q", "findings", "--as-of", AS_OF.isoformat(), "--rule", "weblog.retention_exceeded",
                  "--format", "json").json()["findings"]
    assert sum(f.get("count", 1) for f in found) == 37
    r = insyn("purge", "--as-of", AS_OF.isoformat())
    assert r.code == 0 and "deleted 37 raw rows" in r.out and "purge 1" in r.out
    # the findings are rebuilt (a purge makes the last build stale) and the rule is now kept
    after = insyn("-q", "findings", "--as-of", AS_OF.isoformat(), "--rule", "weblog.retention_exceeded",
                  "--format", "json").json()["findings"]
    assert after == []
    assert query("select purge_id, reason, raw_table, rows_deleted from audit.purges") == [
        (1, "web log lines past the policy's log retention", "raw.weblog__access", 37)]
    assert query("select count(*) from raw.weblog__access where time_local__utc < timestamp '2025-10-23 22:00:00'") \
        == [(0,)]
    again = insyn("purge", "--as-of", AS_OF.isoformat(), "--format", "json").json()
    assert again["rows"] == 0 and again["purge_id"] is None


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
