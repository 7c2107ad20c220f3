"""The request assistant: access report, identity first, erasure, suppression list.

Runs on a copy of the demo warehouse in a private workbench (its own salt,
ledger and reports), with the sample's demo person, who is in every source.
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import io
import json
import re
import shutil
import stat
import subprocess

import duckdb
import pytest

from insyn.cli import main
from insyn.ledger import Ledger, salted
from sample import DEMO_PERSON_EMAIL, DEMO_PERSON_NAME

from helpers import copy_workbench, layout, write

AS_OF = "2026-11-24"
FOLDERS = ("pipelines", "expectations", "templates")


@pytest.fixture
def bench(demo, tmp_path):
    """A private workbench holding a copy of the demo warehouse; run(*args) -> (code, out, err)."""
    wb, _ = demo
    root, db = copy_workbench(tmp_path / "wb", folders=FOLDERS, warehouse=wb / "data" / "demo" / "insyn.duckdb")

    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--workbench", str(root), "--db", str(db), "-q", *map(str, args)])
        return code, out.getvalue(), err.getvalue()

    run.root, run.db = root, db
    return run


def _tables_holding(db, text: str) -> dict[str, int]:
    """Every table (any schema) with a text cell holding `text`, case-insensitively."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {}
        for schema, table, columns in con.execute(
                "select schema_name, table_name, list(column_name) from duckdb_columns() "
                "where data_type = 'VARCHAR' and not internal group by all").fetchall():
            if con.execute("select table_type from information_schema.tables where table_schema = $s "
                           "and table_name = $t", {"s": schema, "t": table}).fetchone()[0] != "BASE TABLE":
                continue
            condition = " or ".join(f'strpos(lower("{c}"), $x) > 0' for c in columns)
            n = con.execute(f'select count(*) from "{schema}"."{table}" where {condition}', {"x": text.lower()}).fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
        return found
    finally:
        con.close()


# ---------------------------------------------------------------- the access report


def test_report_json_gathers_every_source_with_art15_content(bench, tmp_path):
    out = tmp_path / "report.json"
    code, printed, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--format", "json",
                               "--lang", "en", "--out", out)
    assert code == 0, err
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["person"] == {"email": DEMO_PERSON_EMAIL, "name": DEMO_PERSON_NAME}
    assert report["identity"]["how"] == "register" and report["request_id"] in printed
    sources = {s for c in report["categories"] for s in c["sources"]}
    assert sources == {"salesforce.contact", "salesforce.task", "salesforce.event", "salesforce.campaignmember",
                       "salesforce.opportunitycontactrole", "salesforce.contacthistory", "mailchimp.audience",
                       "esp.events", "weblog.access", "register.requests"}
    by_category = {c["category"]: c for c in report["categories"]}
    assert set(by_category) == {"crm", "email", "web", "requests"}
    for c in by_category.values():  # art. 15(1): purposes, legal basis, origin, retention, recipients
        assert c["purpose"] and c["legal_basis"] and c["origin"] and c["retention"]
    crm = by_category["crm"]
    contact = crm["sources"]["salesforce.contact"][0]
    assert len(contact["id"]) == 18 and contact["lastname"] == DEMO_PERSON_NAME.split()[-1]
    assert "Legitimate interest" in crm["legal_basis"]
    assert "Given by you (Webinar)" in crm["origin"]          # self-initiated: given by the person
    recipients = {r["name"]: r for r in crm["recipients"]}
    salesforce = next(r for name, r in recipients.items() if "Salesforce" in name)
    assert salesforce["country"] == "US" and "Privacy Shield" in salesforce["transfer_basis"]
    assert salesforce["valid"] is False                        # today's basis, honestly
    # the source's own ids: e-mail events by sg_event_id, log lines by file and line
    assert all(e["sg_event_id"] for e in by_category["email"]["sources"]["esp.events"])
    line = by_category["web"]["sources"]["weblog.access"][0]
    assert line["_file"].endswith(("access.log", "access.log.1.gz")) and line["_line"] >= 1
    assert "13 months" in by_category["web"]["retention"]     # the policy's number, not the code's
    assert "Integritetsskyddsmyndigheten (IMY)" in report["complaint"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_report_html_in_both_languages_keeps_swedish_letters(bench, tmp_path):
    for lang, title in (("sv", "Registerutdrag"), ("en", "Access report")):
        out = tmp_path / f"report-{lang}.html"
        code, _, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--lang", lang, "--out", out)
        assert code == 0, err
        html = out.read_text(encoding="utf-8")
        assert title in html and DEMO_PERSON_NAME in html and "Integritetsskyddsmyndigheten" in html
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)   # it opens offline
        assert not re.search(r">\s*(true|false)\s*<", html)   # the exports' booleans read as words
    swedish = (tmp_path / "report-sv.html").read_text(encoding="utf-8")
    assert "Berättigat intresse" in swedish and ">Nej<" in swedish


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_report_pdf_is_a_letter_with_the_persons_name(bench, tmp_path):
    out = tmp_path / "report.pdf"
    code, _, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--format", "pdf", "--out", out)
    assert code == 0, err
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert DEMO_PERSON_NAME in text                   # å, ä, ö survive the fonts
    assert "Registerutdrag" in text and "Integritetsskyddsmyndigheten" in text and "Med vänliga hälsningar" in text


def test_report_refused_without_verified_identity_then_vouched_and_recorded(bench, tmp_path):
    con = duckdb.connect(str(bench.db), read_only=True)
    unverified = con.execute(  # a CRM person with no request in the register
        "select email_key from marts.dim_crm_records where email_key not in "
        "(select email_key from marts.fct_dsar_requests where email_key is not null) "
        "and email_key is not null order by email_key limit 1").fetchone()[0]
    con.close()
    out = tmp_path / "refused.html"
    code, _, err = bench("dsar", "report", unverified, "--as-of", AS_OF, "--out", out)
    assert code == 2 and "identity" in err and "--identity-verified-by" in err
    assert not out.exists()
    code, printed, err = bench("dsar", "report", unverified, "--as-of", AS_OF, "--out", out,
                               "--identity-verified-by", "Karin Lund")
    assert code == 0, err
    assert "vouched for by Karin Lund" in printed
    ledger = layout(bench.db).ledger.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in ledger.splitlines()]
    assert [e["kind"] for e in entries] == ["identity_vouched", "access_report"]
    assert entries[0]["vouched_by"] == "Karin Lund" and entries[0]["recorded_at"]
    assert unverified not in ledger                    # the ledger keeps hashes, never the address


# ---------------------------------------------------------------- erasure


def _request_of(db, email):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("select request_id from marts.fct_dsar_requests where email_key = $e",
                           {"e": email}).fetchone()[0]
    finally:
        con.close()


def test_erase_leaves_only_the_request_record_and_the_salted_hash(bench):
    request = _request_of(bench.db, DEMO_PERSON_EMAIL)
    con = duckdb.connect(str(bench.db))
    contact_id = con.execute("select record_id from marts.dim_crm_records where email_key = $e",
                             {"e": DEMO_PERSON_EMAIL}).fetchone()[0]
    # a findings-history row that names her (as an opt-out finding would)
    con.execute("insert into audit.findings_history (check_run_id, as_of, rule, record_id, email, source, detail, "
                "count) values (1, date '2026-11-24', 'optout.not_synced', $e, $e, "
                "'mailchimp.subscribed', 'opted out: ' || upper($e), 1)", {"e": DEMO_PERSON_EMAIL})
    con.close()
    local_part = DEMO_PERSON_EMAIL.split("@")[0]      # in a log line the @ is percent-encoded
    before = _tables_holding(bench.db, local_part)
    assert {"raw.salesforce__contact", "raw.esp__event", "raw.weblog__access", "raw.mailchimp__audience"} <= set(before)
    assert len(_tables_holding(bench.db, contact_id[:15])) > 3

    code, printed, err = bench("dsar", "erase", f"  {DEMO_PERSON_EMAIL.upper()} ", "--request", request,
                               "--on", AS_OF)
    assert code == 0, err
    after = _tables_holding(bench.db, local_part)
    register_derived = {"raw.register__requests", "staging.stg_register__requests", "marts.fct_dsar_requests",
                        "marts.dim_people", "marts.fct_erasure_presence"}
    assert set(after) <= register_derived and "raw.register__requests" in after
    # nothing keyed by her CRM id is left outside the request record either
    assert set(_tables_holding(bench.db, contact_id[:15])) <= register_derived
    con = duckdb.connect(str(bench.db), read_only=True)
    history = con.execute("select record_id, email, detail from audit.findings_history "
                          "where rule = 'optout.not_synced' and check_run_id = 1 and detail like 'opted out: %'"
                          ).fetchall()
    con.close()
    salt = (bench.root / "data" / "secrets" / "suppression.salt").read_text().strip()
    hashed = "sha256:" + salted(salt, DEMO_PERSON_EMAIL)
    assert (hashed, hashed, "opted out: " + hashed) in history
    # the ledger, the salt and the deletion tasks
    entry = Ledger(layout(bench.db).ledger).erasures()[-1]
    assert entry.request_id == request and entry.erased_on == AS_OF and entry.email_sha256 == hashed[7:]
    assert DEMO_PERSON_EMAIL not in layout(bench.db).ledger.read_text(encoding="utf-8")
    assert stat.S_IMODE((bench.root / "data" / "secrets" / "suppression.salt").stat().st_mode) == 0o600
    tasks_file = next(layout(bench.db).deletion_tasks.glob("*.csv"))
    assert stat.S_IMODE(tasks_file.stat().st_mode) == 0o600
    tasks = list(csv.DictReader(io.StringIO(tasks_file.read_text(encoding="utf-8-sig"))))
    objects = {(t["system"], t["object"]) for t in tasks}
    assert ("Salesforce", "Contact") in objects and ("Salesforce", "Task") in objects
    assert any(t["system"] == "Mailchimp" for t in tasks) and any(t["system"] == "Web server" for t in tasks)
    assert contact_id in {t["record_id"] for t in tasks}
    # the dashboard's snapshots: only the new one is left
    published = list(layout(bench.db).published.glob("insyn-*.duckdb"))
    assert len(published) == 1
    assert set(_tables_holding(published[0], DEMO_PERSON_EMAIL)) <= register_derived


AUDIENCE_HEADER = ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "LEID", "EUID"]


def _audience(tmp_path, name, email):
    rows = [AUDIENCE_HEADER, [email, "Åsa", "Öhrström", "2", "2026-11-20 10:00:00", "99999", "eu9999"],
            ["other.person@example.se", "Per", "Ek", "2", "2026-11-20 10:00:00", "99998", "eu9998"]]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return write(tmp_path / name, buffer.getvalue())


def test_reimported_erased_person_is_flagged_and_older_exports_load_without_her(bench, tmp_path):
    code, _, err = bench("dsar", "erase", DEMO_PERSON_EMAIL, "--on", AS_OF)   # ledger only: no request named
    assert code == 0, err
    entry_id = Ledger(layout(bench.db).ledger).erasures()[-1].entry_id
    # an older export loaded now: she is left out of it
    older = _audience(tmp_path, "subscribed_members_export_old.csv", DEMO_PERSON_EMAIL)
    code, printed, err = bench("load", older, "--exported-at", "2026-11-20")
    assert code == 0, err
    assert "left out 1 rows of erased people" in printed
    assert "raw.mailchimp__audience" not in _tables_holding(bench.db, DEMO_PERSON_EMAIL)
    # a later export still holding her (other case, spaces): loaded, and flagged
    later = _audience(tmp_path, "subscribed_members_export_new.csv", f" {DEMO_PERSON_EMAIL.title()} ")
    code, _, err = bench("load", later, "--exported-at", "2026-11-26")
    assert code == 0, err
    code, out, err = bench("findings", "--as-of", "2026-11-26", "--rule", "erasure.not_executed", "--format", "json")
    assert code == 0, err
    found = {f["record_id"]: f for f in json.loads(out)["findings"]}
    assert entry_id in found and "mailchimp.subscribed eu9999" in found[entry_id]["detail"]
    assert found[entry_id]["email"] is None           # the ledger knows her by hash only


def test_check_import_catches_a_suppressed_address_in_another_case_and_with_spaces(bench, tmp_path):
    assert bench("dsar", "erase", DEMO_PERSON_EMAIL, "--on", AS_OF)[0] == 0
    upper = DEMO_PERSON_EMAIL.upper()
    purchased = write(tmp_path / "purchased.csv",
                      "Namn;Arbetsmejl;Anteckning\n"
                      "Per Ek;per.ek@example.se;\n"
                      f"Åsa Ö;\u00a0{upper}  ;\n"
                      f"Kim;kim@example.se;tidigare {DEMO_PERSON_EMAIL}\n")
    code, out, err = bench("dsar", "check-import", purchased, "--format", "json")
    assert code == 1, err
    assert [(h["line"], h["column"]) for h in json.loads(out)] == [(3, "Arbetsmejl"), (4, "Anteckning")]
    clean = write(tmp_path / "clean.csv", "Email\nper.ek@example.se\n")
    assert bench("dsar", "check-import", clean)[0] == 0


def test_check_import_with_no_erasures_passes_and_bad_file_is_exit_2(bench, tmp_path):
    clean = write(tmp_path / "list.csv", f"Email\n{DEMO_PERSON_EMAIL}\n")
    assert bench("dsar", "check-import", clean)[0] == 0
    code, _, err = bench("dsar", "check-import", tmp_path / "missing.csv")
    assert code == 2 and "missing.csv" in err


def test_erase_refuses_a_request_of_someone_else_and_a_blank_address(bench):
    code, _, err = bench("dsar", "erase", DEMO_PERSON_EMAIL, "--request", "DSAR-2025-001")
    assert code == 2 and "not from this address" in err
    code, _, err = bench("dsar", "erase", "   ")
    assert code == 2 and "blank" in err
    assert not layout(bench.db).ledger.exists()


def test_salted_hash_is_the_same_in_python_and_duckdb():
    con = duckdb.connect()
    assert con.execute("select sha256($s || $k)", {"s": "ab12", "k": "åsa@x.se"}).fetchone()[0] == \
        salted("ab12", "åsa@x.se")


# ---------------------------------------------------------------- the reports' copies and the access log


def test_erase_removes_every_report_the_ledger_recorded_and_names_a_copy_it_cannot_reach(bench, tmp_path):
    request = _request_of(bench.db, DEMO_PERSON_EMAIL)
    reports = layout(bench.db).reports
    elsewhere = tmp_path / "elsewhere" / "sent-to-her.json"
    stick = tmp_path / "usb-stick" / "copy.html"
    for extra in ([], ["--format", "json", "--out", elsewhere], ["--out", stick]):
        code, _, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, *extra)
        assert code == 0, err
    default = next(reports.glob("access-report-*.html"))
    paths = [e.path for e in Ledger(layout(bench.db).ledger).entries() if e.kind == "access_report"]
    assert paths == [f"reports/{default.name}", str(elsewhere.resolve()), str(stick.resolve())]
    by_hand = reports / f"access-report-{request}-20261101-101010.pdf"     # a copy the ledger never saw
    by_hand.write_bytes(b"%PDF-1.4 her letter")
    someone_else = reports / "access-report-DSAR-2025-001-20261101-101010.pdf"
    someone_else.write_bytes(b"%PDF-1.4 another letter")
    shutil.rmtree(stick.parent)                  # the stick is not plugged in

    code, printed, err = bench("dsar", "erase", DEMO_PERSON_EMAIL, "--request", request, "--on", AS_OF)
    assert code == 1, err                        # erased, but a copy is still out there: said, by path
    assert not default.exists() and not elsewhere.exists() and not by_hand.exists()
    assert someone_else.exists()
    removed = printed.split("removed (")[1].split("NOT removed")[0]
    assert str(default) in removed and str(elsewhere.resolve()) in removed and str(by_hand) in removed
    assert f"{stick.resolve()} (its folder is missing" in printed.split("NOT removed")[1]
    tasks = Ledger(layout(bench.db).ledger).erasures()[-1].path
    assert tasks.startswith("deletion-tasks/") and (layout(bench.db).state / tasks).exists()


def test_a_report_path_naming_the_person_is_refused(bench, tmp_path):
    for name in (f"{DEMO_PERSON_EMAIL}.html", f"{DEMO_PERSON_NAME.replace(' ', '_')}.html",
                 f"reports/{DEMO_PERSON_NAME.lower()}/letter.html"):
        code, _, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--out", tmp_path / name)
        assert code == 2 and "--out names the person" in err and DEMO_PERSON_EMAIL not in err
    assert not list(tmp_path.rglob("*.html"))
    assert all(e.path is None for e in Ledger(layout(bench.db).ledger).entries())


def test_reports_and_erasures_from_the_command_line_are_in_the_access_log(bench, tmp_path):
    con = duckdb.connect(str(bench.db), read_only=True)
    unverified = con.execute(
        "select email_key from marts.dim_crm_records where email_key not in "
        "(select email_key from marts.fct_dsar_requests where email_key is not null) "
        "and email_key is not null order by email_key limit 1").fetchone()[0]
    con.close()
    assert bench("dsar", "report", unverified, "--as-of", AS_OF, "--out", tmp_path / "r.html")[0] == 2
    assert bench("dsar", "report", unverified, "--as-of", AS_OF, "--out", tmp_path / "r.html",
                 "--identity-verified-by", "Karin Lund")[0] == 0
    assert bench("dsar", "erase", DEMO_PERSON_EMAIL, "--on", AS_OF)[0] == 0
    code, out, err = bench("access-log", "--format", "json")
    assert code == 0, err
    salt = (bench.root / "data" / "secrets" / "suppression.salt").read_text().strip()
    entries = json.loads(out)
    assert [(e["event"], e["success"], e["subject"]) for e in entries] == [
        ("report", False, salted(salt, unverified)), ("vouch", True, salted(salt, unverified)),
        ("report", True, salted(salt, unverified)), ("erase", True, salted(salt, DEMO_PERSON_EMAIL))]
    assert {e["user"] for e in entries} == {f"cli:{getpass.getuser()}"}
    text = layout(bench.db).access_log.read_text(encoding="utf-8")
    assert unverified not in text and DEMO_PERSON_EMAIL not in text and "Karin" not in text
    assert stat.S_IMODE(layout(bench.db).access_log.stat().st_mode) == 0o600
