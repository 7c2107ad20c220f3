"""An empty or partial warehouse does not look compliant (issue 17, point 7).

A rule whose needed source kinds (its yml's `needs`) were never loaded is not run and is
reported as not evaluated with the missing sources, by `findings`, `check`, the dashboard and
the audit pack; `findings` and `check` then exit 4 (1 wins over 4)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from dataclasses import dataclass

import dash
import pytest

from helpers import CONTACT_HEADER, EXPECTED, REPO, SAMPLE, contact_row, copy_workbench, published, sf_csv, write
from helpers import component_text as _text, find_component as _find

AS_OF = EXPECTED["as_of"]
RULES = sorted(p.stem.replace("__", ".") for p in (REPO / "pipelines" / "rules").glob("*.sql"))
# the sample's CRM export: Contacts, Leads, Tasks, Events, ... and the Contact field history; no e-mail events
CRM = [SAMPLE / "exports" / "2026-11-23" / "WE_00D5g000004xYzEAAU_1.zip",
       SAMPLE / "exports" / "2026-11-23" / "extract_contacthistory.csv"]
NEED_EMAIL = ["notice.first_mailing_late", "notice.first_mailing_missing", "optout.marketing_after_optout",
              "optout.not_synced"]
CRM_ONLY = ["lawful_basis.consent_recorded", "retention.inactive_company_initiated"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def cli(*args) -> Result:
    from insyn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


def _by_rule(entries):
    return {e["rule"]: e for e in entries}


# ---------------------------------------------------------------- nothing loaded


def test_an_empty_warehouse_lists_every_rule_as_not_evaluated_and_exits_4(insyn, db):
    got = insyn("findings", "--as-of", AS_OF, "--format", "json")
    assert got.code == 4, got.err
    body = got.json()
    assert body["findings"] == []
    assert sorted(e["rule"] for e in body["not_evaluated"]) == RULES
    assert {e["detail"] for e in body["not_evaluated"]} == {"not evaluated: nothing is loaded yet"}
    assert _by_rule(body["not_evaluated"])["dsar.legal_deadline_missed"]["missing_sources"] == ["register.requests"]
    assert not db.exists()                       # nothing was made that could later look compliant

    text = insyn("findings", "--as-of", AS_OF)
    assert text.code == 4 and "nothing is loaded yet: no rule was evaluated" in text.out
    assert all(rule in text.out for rule in RULES)

    csv = insyn("findings", "--as-of", AS_OF, "--format", "csv")
    assert csv.code == 4
    lines = csv.out.splitlines()[1:]
    assert len(lines) == len(RULES) and all("not_evaluated.nothing_loaded" in line for line in lines)


def test_check_on_an_empty_workbench_runs_nothing_and_says_so(insyn, db):
    got = insyn("check", "--as-of", AS_OF)
    assert got.code == 4, got.err
    assert "nothing is loaded yet" in got.out
    assert "all expectations met" not in got.out
    assert not db.exists()


# ---------------------------------------------------------------- a partial warehouse


@pytest.fixture(scope="module")
def crm_only(tmp_path_factory):
    """A warehouse holding the sample's CRM export and nothing else, built as of the sample's as-of."""
    db = tmp_path_factory.mktemp("crm") / "insyn.duckdb"
    loaded = cli("--workbench", REPO, "--db", db, "load", *CRM)
    assert loaded.code == 0, loaded.err
    return db


def test_crm_without_email_events_leaves_the_notice_and_optout_rules_not_evaluated(crm_only):
    got = cli("--workbench", REPO, "--db", crm_only, "findings", "--as-of", AS_OF, "--format", "json")
    assert got.code == 4, got.err
    body = got.json()
    unable = _by_rule(body["not_evaluated"])
    for rule in NEED_EMAIL:
        assert rule in unable, rule
    assert "esp.events" in unable["notice.first_mailing_missing"]["missing_sources"]
    assert unable["optout.not_synced"]["missing_sources"] == ["mailchimp.subscribed", "mailchimp.unsubscribed"]
    assert unable["notice.first_mailing_late"]["detail"] == \
        f"not evaluated: nothing loaded from esp.events on or before {AS_OF}"
    assert not any(f["rule"] in NEED_EMAIL for f in body["findings"])
    # the CRM-only rules are still evaluated, with the sample's findings
    for rule in CRM_ONLY:
        assert rule not in unable
    retention = "retention.inactive_company_initiated"
    assert sorted(f["record_id"] for f in body["findings"] if f["rule"] == retention) == \
        sorted(f["record_id"] for f in EXPECTED["findings"] if f["rule"] == retention)


def test_a_rule_is_not_evaluated_for_an_as_of_before_its_first_export(crm_only, tmp_path):
    """A snapshot exported after the as-of is not what the rules judge at that date."""
    db = tmp_path / "insyn.duckdb"
    shutil.copy(crm_only, db)
    got = cli("--workbench", REPO, "--db", db, "findings", "--as-of", "2026-06-30", "--format", "json",
              "--rule", "retention.inactive_company_initiated")
    assert got.code == 4, got.err
    assert got.json()["findings"] == []
    assert got.json()["not_evaluated"][0]["missing_sources"] == ["salesforce.contact", "salesforce.lead"]


def test_the_overview_shows_not_evaluated_never_a_green_zero(crm_only, tmp_path):
    from insyn import snapshot

    db = tmp_path / "insyn.duckdb"
    shutil.copy(crm_only, db)
    checked = cli("--workbench", REPO, "--db", db, "check", "--as-of", AS_OF)   # check publishes
    assert checked.code == 1, checked.err          # the sample's CRM breaks rules and checks: 1 wins over 4
    assert "quality.email_events" in checked.out.split("suites not evaluated")[1]
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from dashboards.app import create_app

    create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
    pages = {entry["path"]: sys.modules[entry["module"]] for entry in dash.page_registry.values()}
    body = pages["/"].render(AS_OF, "en")
    notice = _text(_find(body, "kpi-first-notice-gaps"))
    assert notice.startswith("not evaluated") and "0" not in notice
    assert _find(body, "kpi-first-notice-gaps").className == "kpi not-evaluated"
    assert _text(_find(body, "kpi-open-requests")).startswith("not evaluated")     # no register loaded
    retention = sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")
    assert _text(_find(body, "kpi-contacts-due-for-deletion")).startswith(str(retention))
    listed = _text(_find(body, "overview-not-evaluated"))
    assert "(notice.first_mailing_missing)" in listed and "esp.events" in listed
    assert "(retention.inactive_company_initiated)" not in listed
    assert "Quality suite E-mail events: nothing loaded from esp.events" in listed   # a suite by its name
    swedish = _text(_find(pages["/"].render(AS_OF, "sv"), "kpi-first-notice-gaps"))
    assert swedish.startswith("inte bedömt")
    quality = _text(_find(pages["/quality"].render("en", AS_OF), "quality-not-evaluated"))
    assert "Register of requests" in quality and "CRM records" not in quality


def test_the_audit_report_names_the_rules_not_evaluated(crm_only, tmp_path):
    from insyn.report import YearlyReport

    db = tmp_path / "insyn.duckdb"
    shutil.copy(crm_only, db)
    assert cli("--workbench", REPO, "--db", db, "build", "--as-of", AS_OF).code == 0
    section = YearlyReport.load(str(db), str(REPO / "pipelines" / "queries"), 2026, AS_OF, "en").findings_section()
    plain = section.replace("<wbr>", "").replace("\\", "")          # the Markdown's escapes and break points
    assert f"Not evaluated as of {AS_OF}" in plain
    assert "(notice.first_mailing_missing): not evaluated: nothing loaded from esp.events" in plain
    assert "| notice.first_mailing_missing | high | GDPR art. 14(1)-(3) | not evaluated |" in plain
    retention = sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")
    assert f"| retention.inactive_company_initiated | high | GDPR art. 5(1)(e), art. 17 | {retention} |" in plain
    swedish = YearlyReport.load(str(db), str(REPO / "pipelines" / "queries"), 2026, AS_OF, "sv").findings_section()
    assert "inte bedömd" in swedish






# ---------------------------------------------------------------- a new company's workbench


def test_check_exits_4_when_nothing_failed_but_rules_were_not_evaluated(tmp_path):
    """`insyn init`: the policy text is the placeholder; one clean Contact export without the
    lawful-basis field. Nothing fails, and nothing passes that was not judged."""
    from insyn.findings import PLACEHOLDER_MARK
    from insyn.init import PLACEHOLDER_MARK as written

    assert PLACEHOLDER_MARK == written
    root = tmp_path / "company"
    made = cli("init", root)
    assert made.code == 0, made.err
    header = [h for h in CONTACT_HEADER if h != "Lawful_Basis__c"]
    rows = [contact_row("0035g00000AbCdEAAV", created="2026-11-02T09:00:00.000Z")[:len(header)],
            contact_row("0035g00000AbCdFAAV", email="bo.ek@example.se", created="2026-11-03T09:00:00.000Z")
            [:len(header)]]
    export = write(tmp_path / "Contact.csv", sf_csv(header, rows))
    loaded = cli("--workbench", root, "load", export, "--exported-at", "2026-11-20T08:00:00Z")
    assert loaded.code == 0, loaded.err

    checked = cli("--workbench", root, "check", "--as-of", AS_OF)
    assert checked.code == 4, checked.out + checked.err
    assert "all expectations met" not in checked.out
    assert "no expectation failed" in checked.out
    assert "quality.email_events" in checked.out                    # a suite over nothing loaded
    assert "the policy text is still the placeholder" in checked.out
    # a rule that could judge nothing is not recorded as a passed expectation (the Data Docs, /quality)
    import duckdb

    con = duckdb.connect(str(root / "data" / "warehouse" / "insyn.duckdb"), read_only=True)
    try:
        passed = {r for (r,) in con.execute("select rule from audit.check_results where success").fetchall()}
        unrun = {r for (r,) in con.execute("select rule from audit.check_not_evaluated").fetchall()}
    finally:
        con.close()
    assert "lawful_basis.consent_recorded" not in passed and "lawful_basis.consent_recorded" in unrun
    assert "retention.inactive_company_initiated" in passed

    got = cli("--workbench", root, "findings", "--as-of", AS_OF, "--format", "json")
    assert got.code == 4
    body = got.json()
    assert body["findings"] == []
    unable = _by_rule(body["not_evaluated"])
    assert unable["policy.review_overdue"]["missing_sources"] == ["policy.text"]
    assert unable["policy.review_overdue"]["detail_id"] == "not_evaluated.policy_placeholder"
    # the rule's own "could not judge" (the field was not exported) is reported the same way
    lawful = unable["lawful_basis.consent_recorded"]
    assert lawful["source"] == "salesforce.contact" and lawful["missing_sources"] == []
    assert lawful["detail"] == "not evaluated: the export has no Lawful_Basis__c field"
    assert "retention.inactive_company_initiated" not in unable


def test_a_rule_naming_an_unknown_source_kind_is_refused(tmp_path):
    root, db = copy_workbench(tmp_path / "wb")
    models = root / "pipelines" / "rules" / "_models.yml"
    models.write_text(models.read_text(encoding="utf-8").replace("needs: [esp.events]", "needs: [esp.event]"),
                      encoding="utf-8")
    got = cli("--workbench", root, "--db", db, "findings")
    assert got.code == 2
    assert "optout.marketing_after_optout" in got.err and "esp.event" in got.err and "Traceback" not in got.err


# ---------------------------------------------------------------- the full sample


def test_the_full_sample_is_evaluated_in_full(demo):
    wb, _ = demo
    got = cli("--workbench", wb, "--db", wb / "data" / "demo" / "insyn.duckdb", "findings", "--as-of", AS_OF,
              "--format", "json")
    assert got.code == 0, got.err
    assert got.json()["not_evaluated"] == []
    assert len(got.json()["findings"]) == len(EXPECTED["findings"])
