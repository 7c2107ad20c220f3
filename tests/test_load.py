"""`insyn load`: detection, provenance, atomic and idempotent batches."""

import datetime as dt
import gzip
import json
import os
import zipfile

import pytest

from helpers import CONTACT_HEADER, contact_row, sf_csv, write

HEADERS = {
    "salesforce.contact": CONTACT_HEADER,
    "salesforce.lead": ["Id", "IsDeleted", "LastName", "Company", "Email", "LeadSource", "Status", "HasOptedOutOfEmail",
                        "IsConverted", "ConvertedContactId", "ConvertedDate", "CreatedDate", "Lawful_Basis__c"],
    "salesforce.account": ["Id", "IsDeleted", "Name", "Type", "BillingCity", "BillingCountry", "Industry", "CreatedDate"],
    "salesforce.task": ["Id", "WhoId", "WhatId", "Subject", "ActivityDate", "Status", "IsClosed", "IsDeleted",
                        "TaskSubtype", "CreatedDate"],
    "salesforce.event": ["Id", "WhoId", "WhatId", "Subject", "ActivityDate", "ActivityDateTime", "StartDateTime",
                         "EndDateTime", "DurationInMinutes", "IsDeleted", "CreatedDate"],
    "salesforce.opportunity": ["Id", "IsDeleted", "AccountId", "Name", "StageName", "Amount", "CloseDate", "IsClosed",
                               "IsWon", "CreatedDate", "LastActivityDate"],
    "salesforce.opportunitycontactrole": ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary", "IsDeleted", "CreatedDate"],
    "salesforce.contacthistory": ["Id", "IsDeleted", "ContactId", "CreatedById", "CreatedDate", "Field", "DataType",
                                  "OldValue", "NewValue"],
    "salesforce.campaign": ["Id", "IsDeleted", "Name", "Type", "Status", "StartDate", "EndDate", "IsActive", "CreatedDate"],
    "salesforce.campaignmember": ["Id", "IsDeleted", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded", "CreatedDate"],
}


def one_row(header):
    return [[f"v{i}" if h not in ("CreatedDate",) else "2025-01-02T03:04:05.000Z" for i, h in enumerate(header)]]


def files(insyn):
    return insyn("loads", "--format", "json").json()


@pytest.mark.parametrize("kind", sorted(HEADERS))
@pytest.mark.parametrize("upper", [False, True], ids=["export-service", "data-loader"])
def test_each_salesforce_object_is_recognised_by_its_header(tmp_path, insyn, kind, upper):
    # A neutral file name: the header alone decides.
    path = write(tmp_path / "2026-11-09" / "extract.csv", sf_csv(HEADERS[kind], one_row(HEADERS[kind]), upper=upper))
    result = insyn("load", path)
    assert result.code == 0, result.err
    [entry] = files(insyn)
    assert entry["source"] == kind
    assert entry["rows"] == 1 and entry["rejected"] == 0


def test_file_name_decides_between_kinds_the_header_allows(tmp_path, insyn):
    header = ["Id", "IsDeleted", "Name", "Type", "Status", "StartDate", "IsActive", "BillingCity"]
    write(tmp_path / "Account.csv", sf_csv(header, []))
    write(tmp_path / "Campaign.csv", sf_csv(header, one_row(header)))  # not the same bytes: not a duplicate
    assert insyn("load", tmp_path / "Account.csv", tmp_path / "Campaign.csv").code == 0
    assert [e["source"] for e in files(insyn)] == ["salesforce.account", "salesforce.campaign"]


MC_SUB = '"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,NOTES,TAGS\n' \
         'anna.ek@example.se,Anna,Ek,2,"2025-01-02 10:00:00",,"2025-01-02 10:01:00",,,,,,,SE,,"2025-01-03 12:00:00",44877845,c2cb0681af,,"""Newsletter"",""VIP"""\n'
MC_UNSUB = '"Email Address","First Name",MEMBER_RATING,OPTIN_TIME,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER,LEID,EUID,NOTES,TAGS\n' \
           'per@example.se,Per,1,"2024-05-01 08:00:00","2025-06-01 09:30:00",Nyhetsbrev juni,abc,"I no longer want to receive these emails",,1234,aa11bb22cc,,\n'
MC_CLEAN = '"Email Address",MEMBER_RATING,OPTIN_TIME,CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID,LEID,EUID,NOTES,TAGS\n' \
           'gone@example.se,1,"2024-05-01 08:00:00","2025-07-01 00:00:00",x,y,99,dd33ee44ff,,\n'


def test_mailchimp_audience_status_from_file_name_inside_a_zip(tmp_path, insyn, query):
    archive = tmp_path / "2026-11-23" / "members_export_4f2a.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("subscribed_members_export_4f2a.csv", MC_SUB)
        zf.writestr("unsubscribed_members_export_4f2a.csv", MC_UNSUB)
        zf.writestr("cleaned_members_export_4f2a.csv", MC_CLEAN)
    assert insyn("load", archive).code == 0
    entries = files(insyn)
    assert [e["source"] for e in entries] == ["mailchimp.cleaned", "mailchimp.subscribed", "mailchimp.unsubscribed"]
    assert all(e["file"].startswith(str(archive)) and "!" in e["file"] for e in entries)
    assert {e["archive_sha256"] for e in entries} == {__import__("hashlib").sha256(archive.read_bytes()).hexdigest()}
    assert all(e["exported_at"] == "2026-11-23T00:00:00Z" and e["exported_at_from"] == "folder" for e in entries)
    assert query("select tags, _status from raw.mailchimp__audience where _status = 'subscribed'") == \
        [('"Newsletter","VIP"', "subscribed")]


def test_mailchimp_status_from_columns_when_the_name_says_nothing(tmp_path, insyn):
    path = write(tmp_path / "audience.csv", MC_UNSUB)
    assert insyn("load", path).code == 0
    assert files(insyn)[0]["source"] == "mailchimp.unsubscribed"


def test_esp_events_categories_and_utc_times(tmp_path, insyn, query):
    events = [{"email": "Anna.Ek@Example.se", "timestamp": 1767225600, "event": "delivered", "category": "newsletter",
               "sg_event_id": "e1", "smtp-id": "<x@y>"},
              {"email": "per@example.se", "timestamp": 1767225601, "event": "group_unsubscribe",
               "category": ["campaign", "newsletter"], "sg_event_id": "e2", "asm_group_id": 7, "custom": {"a": 1}}]
    write(tmp_path / "events.jsonl", "\n".join(json.dumps(e) for e in events))
    write(tmp_path / "batch.json", json.dumps(events, indent=2))
    assert insyn("load", tmp_path / "events.jsonl", tmp_path / "batch.json").code == 0
    assert [e["rows"] for e in files(insyn)] == [2, 2]
    assert query("select sg_event_id, timestamp__utc::varchar, asm_group_id, smtp_id, _extra from raw.esp__event "
                 "where _file_id = 1 order by 1") == [
        ("e1", "2026-01-01 00:00:00", None, "<x@y>", None),
        ("e2", "2026-01-01 00:00:01", "7", None, '{"custom":{"a":1}}')]
    assert query("select _record_no, category from raw.esp__event_category where _file_id = 1 order by 1, 2") == [
        (1, "newsletter"), (2, "campaign"), (2, "newsletter")]


def test_access_logs_count_rejected_lines_and_keep_them_out_of_rows(tmp_path, insyn, query):
    lines = ['192.0.2.1 - - [24/Nov/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 10 "-" "x"',
             '\\x16\\x03\\x01 garbage',
             '2001:db8::2 - - [24/Nov/2026:10:00:01 +0100] "GET /a HTTP/1.1" 404 0 "-" "y"']
    write(tmp_path / "access.log.1.gz", gzip.compress("\n".join(lines).encode()))
    assert insyn("load", tmp_path / "access.log.1.gz").code == 0
    [entry] = files(insyn)
    assert (entry["source"], entry["rows"], entry["rejected"], entry["status"]) == \
        ("weblog.access", 2, 1, "loaded_with_rejects")
    assert query("select line_no, reason from audit.rejected_lines") == [(2, "not a combined-format log line")]
    assert query("select time_local__utc::varchar from raw.weblog__access order by 1") == \
        [("2026-11-24 09:00:00",), ("2026-11-24 09:00:01",)]


REGISTER = ("Ärende-ID;Inkom datum;Kanal;Namn;E-post;CRM-ID;Typ av begäran;Identitet verifierad datum;"
            "Verifieringsmetod;Förlängning meddelad datum;Skäl för förlängning;Svar skickat datum;Avslutat datum;"
            "Utfall;Avgift (kr);Handläggare;Anteckningar\r\n"
            "2026-001;2026-01-31;E-post;Åsa Öberg;asa@example.se;0035g00000AbCdE;Tillgång;2026-02-02;BankID;;;"
            "2026-02-27;2026-02-27;Utförd;1\u00a0250,00;DPO;\"rad ett\nrad två\"\r\n"
            "2026-002;snart;Telefon;Per Ek;per@example.se;;Radering;;;;;;;;;DPO;\r\n")


@pytest.mark.parametrize("encoding, bom", [("cp1252", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_register_saved_by_swedish_excel(tmp_path, insyn, query, encoding, bom):
    path = write(tmp_path / "dpo-register.csv", bom + REGISTER.encode(encoding))
    assert insyn("load", path).code == 0
    [entry] = files(insyn)
    assert (entry["source"], entry["rows"]) == ("register.requests", 2)
    assert query("select request_id, received, fee, notes, name from raw.register__requests order by 1") == [
        ("2026-001", "2026-01-31", "1\u00a0250,00", "rad ett\nrad två", "Åsa Öberg"),
        ("2026-002", "snart", "", "", "Per Ek")]


def test_register_with_english_column_names(tmp_path, insyn, query):
    data = "Request ID,Received,Email,Type,Closed\nR-1,2026-03-02,a@b.se,access,2026-03-20\n"
    assert insyn("load", write(tmp_path / "requests.csv", data)).code == 0
    assert query("select request_id, received, request_type, closed from raw.register__requests") == \
        [("R-1", "2026-03-02", "access", "2026-03-20")]


def test_subprocessor_register(tmp_path, insyn):
    data = "name,country_iso2,role,transfer_mechanism,dpf_certified_until,tia_on,dpa_on\nSalesforce,US,CRM,dpf,2027-10-01,,2024-01-10\n"
    assert insyn("load", write(tmp_path / "subprocessors.csv", data)).code == 0
    assert files(insyn)[0]["source"] == "register.subprocessors"


# ---------------------------------------------------------------- provenance


def test_exported_at_option_beats_folder_and_offsets_become_utc(tmp_path, insyn):
    path = write(tmp_path / "2026-11-09" / "Contact.csv", sf_csv(CONTACT_HEADER, []))
    assert insyn("load", path, "--exported-at", "2026-11-10T08:00:00+01:00").code == 0
    [entry] = files(insyn)
    assert (entry["exported_at"], entry["exported_at_from"]) == ("2026-11-10T07:00:00Z", "option")


def test_exported_at_from_the_archive_then_the_file_time(tmp_path, insyn):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("Contact.csv", date_time=(2026, 11, 2, 6, 30, 0)), sf_csv(CONTACT_HEADER, []))
    loose = write(tmp_path / "Lead.csv", sf_csv(HEADERS["salesforce.lead"], []))
    os.utime(loose, (1762329600, 1762329600))  # 2025-11-05 08:00 UTC
    assert insyn("load", archive, loose).code == 0
    stamps = {e["source"]: (e["exported_at"], e["exported_at_from"]) for e in files(insyn)}
    assert stamps == {"salesforce.contact": ("2026-11-02T06:30:00Z", "archive"),
                      "salesforce.lead": ("2025-11-05T08:00:00Z", "mtime")}


def test_raw_rows_keep_file_record_and_first_line(tmp_path, insyn, query):
    rows = [contact_row("0035g00000AbCdEAAV", Description="a\nb\nc"), contact_row("0035g00000AbCdFAAV")]
    assert insyn("load", write(tmp_path / "Contact.csv", sf_csv(CONTACT_HEADER, rows))).code == 0
    assert query("select _file_id, _record_no, _line_no, id from raw.salesforce__contact order by 2") == [
        (1, 1, 2, "0035g00000AbCdEAAV"), (1, 2, 5, "0035g00000AbCdFAAV")]


def test_snapshots_are_all_kept(tmp_path, insyn, query):
    for day, n in (("2026-11-09", 2), ("2026-11-16", 1)):
        rows = [contact_row(f"0035g00000AbCd{i}AAV") for i in range(n)]
        write(tmp_path / day / "Contact.csv", sf_csv(CONTACT_HEADER, rows))
    assert insyn("load", tmp_path).code == 0
    assert query("select _exported_at::date::varchar, count(*) from raw.salesforce__contact group by 1 order by 1") == [
        ("2026-11-09", 2), ("2026-11-16", 1)]


def test_new_columns_in_a_later_export_are_added(tmp_path, insyn, query):
    write(tmp_path / "a" / "Contact.csv", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]))
    header = CONTACT_HEADER + ["IndividualId"]
    write(tmp_path / "b" / "Contact.csv", sf_csv(header, [contact_row("0035g00000AbCdFAAV") + ["0PK5g000000abcd"]]))
    assert insyn("load", tmp_path / "a", tmp_path / "b").code == 0
    assert query("select id, individualid from raw.salesforce__contact order by 1") == [
        ("0035g00000AbCdEAAV", None), ("0035g00000AbCdFAAV", "0PK5g000000abcd")]


# ---------------------------------------------------------------- idempotent, atomic


def test_reloading_the_same_file_is_skipped_and_said(tmp_path, insyn, query):
    path = write(tmp_path / "Contact.csv", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]))
    assert insyn("load", path).code == 0
    copy = write(tmp_path / "again" / "Contact-copy.csv", path.read_bytes())
    second = insyn("load", copy)
    assert second.code == 0
    assert "already loaded" in second.out
    assert len(files(insyn)) == 1
    assert query("select count(*) from raw.salesforce__contact") == [(1,)]


def test_an_unchanged_snapshot_exported_later_is_a_new_snapshot_but_events_load_once(tmp_path, insyn, query):
    """A CRM export byte-identical to last week's still says what the CRM held this week
    (erasure.not_executed must see a person still there); the same events again are not new events."""
    contacts = sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")])
    events = b'{"email": "per@example.se", "timestamp": 1700000000, "event": "delivered", "sg_event_id": "e1"}\n'
    exports = tmp_path / "exports"
    for day in ("2026-11-17", "2026-11-24"):
        write(exports / day / "Contact.csv", contacts)
        write(exports / day / "events.jsonl", events)
    result = insyn("load", exports)
    assert result.code == 0
    skipped = [line for line in result.out.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 1 and "2026-11-24/events.jsonl" in skipped[0] and "already loaded" in skipped[0]
    assert query("select cast(_exported_at as date), count(*) from raw.salesforce__contact group by 1 order by 1") == [
        (dt.date(2026, 11, 17), 1), (dt.date(2026, 11, 24), 1)]
    assert query("select count(*) from raw.esp__event") == [(1,)]
    again = insyn("load", exports)      # and a rerun loads nothing twice
    assert again.code == 0 and query("select count(*) from raw.salesforce__contact") == [(2,)]


BAD_INPUTS = {
    "ragged row": ("Contact.csv", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]) + b'"x","y"\r\n', ":3:"),
    "missing required column": ("Contact.csv", sf_csv([h for h in CONTACT_HEADER if h != "Email"], []), None),
    "binary content": ("Contact.csv", b"\x00\x01\x02PK\x00\x00", None),
    "no header": ("Contact.csv", b"", None),
    "malformed json": ("events.jsonl", b'{"email": "a@b.se", "timestamp": 1, "event": "open"}\n{oops}\n', ":2:"),
    "unknown kind": ("notes.csv", b"colour,size\nred,3\n", None),
    "bad timestamp": ("events.jsonl", b'{"email": "a@b.se", "timestamp": "yesterday", "event": "open"}\n', ":1:"),
    "broken xlsx": ("register.xlsx", b"PK\x03\x04broken", None),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_bad_file_refuses_the_whole_batch(tmp_path, insyn, query, case):
    good = write(tmp_path / "first" / "Contact.csv", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]))
    assert insyn("load", good).code == 0
    before = files(insyn)
    name, data, where = BAD_INPUTS[case]
    other_good = write(tmp_path / "second" / "Lead.csv", sf_csv(HEADERS["salesforce.lead"], one_row(HEADERS["salesforce.lead"])))
    bad = write(tmp_path / "second" / name, data)
    result = insyn("load", other_good, bad)
    assert result.code == 2
    assert str(bad) in result.err
    if where:
        assert where in result.err
    assert "Traceback" not in result.err
    assert files(insyn) == before
    assert query("select count(*) from raw.salesforce__lead") == [(0,)]


def test_inside_a_folder_files_of_no_known_kind_are_skipped_and_listed(tmp_path, insyn):
    write(tmp_path / "inbox" / "Contact.csv", sf_csv(CONTACT_HEADER, []))
    write(tmp_path / "inbox" / "budget.csv", "colour,size\nred,3\n")
    write(tmp_path / "inbox" / "photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    result = insyn("load", tmp_path / "inbox")
    assert result.code == 0
    assert "budget.csv" in result.out and "photo.jpg" in result.out
    assert [(e["source"], e["rows"]) for e in files(insyn)] == [("salesforce.contact", 0)]


def test_a_malformed_export_inside_a_folder_still_refuses_the_batch(tmp_path, insyn):
    write(tmp_path / "inbox" / "Contact.csv", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]) + b'"x"\r\n')
    result = insyn("load", tmp_path / "inbox")
    assert result.code == 2 and "Contact.csv:3" in result.err
    assert files(insyn) == []


def test_forced_source_kind_still_needs_its_columns(tmp_path, insyn):
    path = write(tmp_path / "odd-name.txt", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]))
    assert insyn("load", path, "--source", "salesforce.lead").code == 2
    assert insyn("load", path, "--source", "salesforce.contact").code == 0
    assert files(insyn)[0]["source"] == "salesforce.contact"


def test_unknown_source_option_is_a_usage_error(tmp_path, insyn):
    path = write(tmp_path / "Contact.csv", sf_csv(CONTACT_HEADER, []))
    result = insyn("load", path, "--source", "salesforce.kontakt")
    assert result.code == 2 and "unknown kind" in result.err


def test_missing_path_is_an_input_error(tmp_path, insyn):
    result = insyn("load", tmp_path / "nope.csv")
    assert result.code == 2 and "no such file" in result.err


def test_a_refused_first_load_leaves_no_warehouse_behind(tmp_path, insyn, db):
    bad = write(tmp_path / "Contact.csv", b"\x00binary")
    assert insyn("load", bad).code == 2
    assert not db.exists()


def test_register_saved_as_excel_unicode_text_is_detected(tmp_path, insyn, query):
    data = REGISTER.replace(";", "\t").encode("utf-16")
    assert insyn("load", write(tmp_path / "register.txt", data)).code == 0
    assert query("select count(*), min(name) from raw.register__requests") == [(2, "Per Ek")]


def test_a_key_sources_toml_comes_to_declare_moves_out_of_extra_in_rows_loaded_before(tmp_path):
    """A warehouse loaded while `tls` was not declared kept it in `_extra`; once sources.toml
    declares it, the next load moves those values to the new column, so an event loaded before and
    the same event loaded after read the same (the access report shows it once)."""
    import duckdb

    from insyn.cli import main

    from helpers import copy_workbench

    wb, db = copy_workbench(tmp_path / "wb")
    sources = wb / "pipelines" / "sources.toml"
    declared = sources.read_text(encoding="utf-8")
    assert '"ip", "tls", "useragent"' in declared
    sources.write_text(declared.replace('"ip", "tls", "useragent"', '"ip", "useragent"'), encoding="utf-8")
    event = {"email": "per@example.se", "timestamp": 1767225600, "event": "delivered", "sg_event_id": "e1",
             "tls": 1, "custom": "x"}
    write(tmp_path / "a" / "events.jsonl", json.dumps(event))
    write(tmp_path / "b" / "events.jsonl", json.dumps({**event, "sg_event_id": "e2"}))
    args = ["--workbench", str(wb), "--db", str(db), "-q", "load"]
    assert main([*args, str(tmp_path / "a" / "events.jsonl")]) == 0
    sources.write_text(declared, encoding="utf-8")
    assert main([*args, str(tmp_path / "b" / "events.jsonl")]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select sg_event_id, tls, _extra from raw.esp__event order by 1").fetchall() == [
            ("e1", "1", '{"custom":"x"}'), ("e2", "1", '{"custom":"x"}')]
    finally:
        con.close()
