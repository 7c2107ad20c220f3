"""`insyn check`, `findings` and `run` as the operator uses them: exit codes, as-of, clean data."""

import contextlib
import io
import json
import shutil

import pytest

from insyn.cli import main

from helpers import CONTACT_HEADER, REPO, contact_row, sf_csv, write
from helpers import EXPECTED

CLEAN_POLICY_TEXT = """Integritetspolicy för marknadsföring

Senast uppdaterad: 2026-09-01

Klagomål lämnas till Integritetsskyddsmyndigheten (IMY). Vi svarar inom en månad.
Överföringar till USA sker med EU-kommissionens standardavtalsklausuler.
"""


def run(wb, db, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(wb), "--db", str(db), *map(str, args)])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def clean_workbench(tmp_path):
    """A workbench whose policy text and review date are current, with exports that break no rule."""
    wb = tmp_path / "wb"
    for folder in ("pipelines", "expectations"):
        shutil.copytree(REPO / folder, wb / folder)
    shutil.copy(REPO / "insyn.toml", wb / "insyn.toml")
    write(wb / "policy" / "policy.sv.txt", CLEAN_POLICY_TEXT)
    policy = (REPO / "policy.toml").read_text(encoding="utf-8")
    policy = policy.replace('text_path = "data/sample/policy/integritetspolicy.sv.txt"', 'text_path = "policy/policy.sv.txt"')
    policy = policy.replace("last_reviewed_on = 2024-10-01", "last_reviewed_on = 2026-09-01")
    (wb / "policy.toml").write_text(policy, encoding="utf-8")
    inbox = wb / "inbox" / "2026-11-23"
    write(inbox / "Contact.csv", sf_csv(CONTACT_HEADER, [
        contact_row("0035g00000AbCdEAAV", email="anna.ek@example.se", lead_source="Webinar",
                    Lawful_Basis__c="Legitimate interest"),
        contact_row("0035g00000AbCdFAAV", email="per.lind@example.se", lead_source="Contact Form",
                    Lawful_Basis__c="Legitimate interest")]))
    write(inbox / "register" / "dpo-register.csv",
          "Ärende-ID;Inkom datum;E-post;Typ av begäran;Identitet verifierad datum;Svar skickat datum;"
          "Avslutat datum;Utfall;Avgift (kr)\r\n"
          "2026-001;2026-03-02;anna.ek@example.se;Tillgång;2026-03-03;2026-03-12;2026-03-12;Utförd;0\r\n")
    write(inbox / "subprocessors.csv",
          "name,country_iso2,role,transfer_mechanism,dpf_certified_until,tia_on,dpa_on\n"
          "Nordic Mail AB,SE,e-mail delivery,none,,,2025-01-10\n"
          "Salesforce,US,CRM,dpf,2027-10-01,,2024-01-10\n")
    # every rule has what it judges (a rule without its sources is not evaluated: exit 4)
    write(inbox / "events" / "esp-events.jsonl",
          '{"email": "anna.ek@example.se", "timestamp": 1763632800, "event": "delivered", '
          '"category": "newsletter", "sg_event_id": "cleanEvent0000000000001"}\n')
    write(inbox / "mailchimp" / "subscribed_email_audience_export_0123456789.csv",
          '"Email Address","First Name","Last Name",LEID,EUID\n'
          "anna.ek@example.se,Anna,Ek,41497665,689e69b022\n")
    write(inbox / "weblogs" / "access.log",
          '198.51.100.61 - - [20/Nov/2026:11:19:12 +0100] "GET /priser HTTP/1.1" 200 6016 "-" "Mozilla/5.0"\n')
    return wb


def test_run_on_clean_data_exits_0_with_no_findings(clean_workbench, tmp_path):
    db = tmp_path / "clean.duckdb"
    code, out, err = run(clean_workbench, db, "run", clean_workbench / "inbox", "--as-of", "2026-11-24")
    assert code == 0, out + err
    # no Tasks, Events or opportunity roles exported: those quality suites were not run, and say so
    assert "no expectation failed" in out and "quality.activities" in out.split("suites not evaluated")[1]
    code, out, _ = run(clean_workbench, db, "findings", "--as-of", "2026-11-24", "--format", "json")
    assert code == 0 and json.loads(out) == {"as_of": "2026-11-24", "findings": [], "not_evaluated": []}


def test_a_violation_makes_check_exit_1_naming_the_rule(clean_workbench, tmp_path):
    db = tmp_path / "w.duckdb"
    write(clean_workbench / "inbox" / "2026-11-23" / "subprocessors.csv",
          "name,country_iso2,role,transfer_mechanism,dpf_certified_until,tia_on,dpa_on\n"
          "Old Queue Inc,US,e-mail queue,privacy_shield,,,2018-05-01\n")
    code, out, _ = run(clean_workbench, db, "run", clean_workbench / "inbox", "--as-of", "2026-11-24")
    assert code == 1
    assert "transfer.invalid_mechanism" in out
    code, out, _ = run(clean_workbench, db, "findings", "--as-of", "2026-11-24", "--format", "csv")
    # the English detail, then the facts it was made from (detail_id and the typed facts)
    assert out.splitlines() == ["rule,record_id,email,source,detail,count,detail_id,first_date,second_date,"
                                "third_date,fourth_date,first_number,second_number,first_text,second_text,reason,"
                                "first_time",
                                "transfer.invalid_mechanism,Old Queue Inc,,register.subprocessors,"
                                "\"US, privacy_shield: Privacy Shield was invalidated (C-311/18)\",1,"
                                "rule.transfer.invalid_mechanism.recorded,,,,,,,US,privacy_shield,"
                                "Privacy Shield was invalidated (C-311/18),"]


def test_a_register_date_that_cannot_be_read_fails_the_quality_check(clean_workbench, tmp_path):
    """An unreadable date would read as "none recorded" in the transfer rule and the letter: the
    quality suite names it rather than let it pass as a blank."""
    db = tmp_path / "w.duckdb"
    write(clean_workbench / "inbox" / "2026-11-23" / "subprocessors.csv",
          "name,country_iso2,role,transfer_mechanism,dpf_certified_until,tia_on,dpa_on\n"
          "Nordic Mail AB,SE,e-mail delivery,none,,,2025-01-10\n"
          "Salesforce,US,CRM,dpf,2027-13-01,,2024-01-10\n")
    code, out, _ = run(clean_workbench, db, "run", clean_workbench / "inbox", "--as-of", "2026-11-24")
    assert code == 1, out
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        failed = con.execute("select suite, check_name, unexpected_count from audit.check_results "
                             "where not success").fetchall()
    finally:
        con.close()
    assert ("quality.subprocessors", "unparseable_date", 1) in failed


@pytest.fixture
def demo_db(demo, tmp_path):  # noqa: F811
    wb, _ = demo
    db = tmp_path / "demo.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", db)
    return wb, db


def test_findings_are_evaluated_for_their_own_as_of(demo_db):
    wb, db = demo_db

    def count(as_of, rule):
        code, out, _ = run(wb, db, "findings", "--as-of", as_of, "--rule", rule, "--format", "json")
        assert code == 0
        return len(json.loads(out)["findings"])

    at_sample = count(EXPECTED["as_of"], "retention.inactive_company_initiated")
    assert at_sample == sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")
    later = count("2027-06-30", "retention.inactive_company_initiated")
    assert later > at_sample  # more contacts fall out of the window
    assert count(EXPECTED["as_of"], "retention.inactive_company_initiated") == at_sample  # not a stale answer


def test_check_evaluates_its_own_as_of(demo_db):
    wb, db = demo_db
    code, _, _ = run(wb, db, "findings", "--as-of", "2027-06-30")
    assert code == 0
    code, out, _ = run(wb, db, "check", "--as-of", EXPECTED["as_of"])
    assert code == 1 and f"as of {EXPECTED['as_of']}" in out
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        n = con.execute("select unexpected_count from audit.check_results where rule = 'dsar.policy_target_missed' "
                        "order by check_run_id desc limit 1").fetchone()[0]
    finally:
        con.close()
    assert n == sum(1 for f in EXPECTED["findings"] if f["rule"] == "dsar.policy_target_missed")


def test_unknown_rule_is_a_usage_error(demo_db):
    wb, db = demo_db
    code, _, err = run(wb, db, "findings", "--as-of", EXPECTED["as_of"], "--rule", "retention.forever")
    assert code == 2 and "unknown rule id" in err


def test_findings_json_omits_count_1_and_keeps_other_counts(demo_db):
    wb, db = demo_db
    code, out, _ = run(wb, db, "findings", "--as-of", EXPECTED["as_of"], "--format", "json")
    items = json.loads(out)["findings"]
    assert all("count" not in f for f in items if not f["rule"].startswith(("weblog.", "policy.outdated")))
    assert all(f["count"] > 1 for f in items if "count" in f)
    keys = [(f["rule"], f["record_id"]) for f in items]
    assert keys == sorted(keys)


def test_docs_writes_a_dictionary_of_every_table(demo_db, tmp_path):
    wb, db = demo_db
    code, out, _ = run(wb, db, "docs", "--out", tmp_path / "dict")
    assert code == 0
    page = (tmp_path / "dict" / "index.html").read_text(encoding="utf-8")
    for table in ("raw.salesforce__contact", "staging.stg_salesforce__contacts", "marts.fct_dsar_requests",
                  "rules.retention__inactive_company_initiated", "params.run", "audit.files"):
        assert table in page
    assert "http://" not in page and "https://" not in page
    assert (tmp_path / "dict" / "data-dictionary.md").exists()


def test_dsar_due_lists_open_requests_with_days_left(demo_db):
    wb, db = demo_db
    code, out, _ = run(wb, db, "dsar", "due", "--as-of", EXPECTED["as_of"], "--format", "json")
    assert code == 0
    due = json.loads(out)
    overdue_open = {f["record_id"] for f in EXPECTED["findings"]
                    if f["rule"] in ("dsar.legal_deadline_missed", "dsar.extended_deadline_missed")}
    assert {d["request_id"] for d in due if d["is_overdue"]} <= overdue_open
    assert all((d["days_left"] < 0) == d["is_overdue"] for d in due)
    assert [d["days_left"] for d in due] == sorted(d["days_left"] for d in due)
    code, out, _ = run(wb, db, "dsar", "due", "--as-of", "2026-11-30", "--format", "json")
    later = {d["request_id"]: d["days_left"] for d in json.loads(out)}
    assert all(later[d["request_id"]] == d["days_left"] - 6 for d in due if d["request_id"] in later)


def test_the_check_process_does_not_build_jsonschema_s_iri_grammars_nor_import_spark():
    """gx_runner marks rfc3987_syntax absent before GX imports jsonschema (0.9 s of grammars for a
    format GX never validates), and pyspark on DuckDB (0.3-0.4 s); GX still imports and makes its
    context, and jsonschema still validates."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from insyn.gx_runner import _without_unused_modules\n"
            "_without_unused_modules(spark=False)\n"
            "import great_expectations as gx, jsonschema\n"
            "assert sys.modules['rfc3987_syntax'] is None and sys.modules['pyspark'] is None\n"
            "gx.get_context(mode='ephemeral')\n"
            "jsonschema.validate({'a': 1}, {'type': 'object', 'properties': {'a': {'type': 'integer'}}})\n"
            "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_the_duckdb_check_process_runs_every_suite_without_importing_spark(demo_db):
    """What `insyn check` starts (gx_runner.main): every suite runs, and pyspark, installed for the
    Spark engine, is never imported."""
    import subprocess
    import sys

    wb, db = demo_db
    code = ("import sys\n"
            "from insyn import gx_runner\n"
            f"gx_runner.main(['--db', {str(db)!r}, '--workbench', {str(wb)!r}, "
            f"'--suites', {str(REPO / 'expectations' / 'suites.py')!r}, '--pipelines', {str(REPO / 'pipelines')!r}])\n"
            "print('\\npyspark imported' if sys.modules.get('pyspark') is not None else '\\nno pyspark')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    results, marker = proc.stdout.rstrip("\n").rsplit("\n", 1)
    assert proc.returncode == 0 and marker == "no pyspark", proc.stderr[-2000:]
    rows = json.loads(results)
    assert len(rows) > 20 and all(r["exception"] is None for r in rows)
