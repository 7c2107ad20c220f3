"""Staging models: typed and normalised, built by `insyn build` from raw exports."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from helpers import CONTACT_HEADER, contact_row, sf_csv, write
from test_load import HEADERS, MC_UNSUB, REGISTER


@pytest.fixture
def built(tmp_path, insyn, query):
    """Load the given files, build as of 2026-11-24, and return a query function."""

    def run(files: dict[str, bytes | str]):
        (tmp_path / "exports").mkdir(exist_ok=True)
        for name, data in files.items():
            write(tmp_path / "exports" / name, data)
        result = insyn("load", tmp_path / "exports")
        assert result.code == 0, result.err
        result = insyn("build", "--as-of", "2026-11-24")
        assert result.code == 0, result.err
        return query

    return run


def test_contacts_identity_keys_and_origin(built):
    rows = [
        contact_row("0035g00000AbCdEAAV", email="\u00a0Anna.Ek@Example.SE ", lead_source=" web\u00a0 RESEARCH"),
        contact_row("0035g00000AbCdF", email="", lead_source="Whitepaper Download",
                    created="2024-03-01T23:30:00.000+02:00", IsDeleted="true"),
        contact_row("0035g00000AbCdGAAV", email="per@example.se", lead_source="Partner Referral",
                    Lawful_Basis__c=" Samtycke "),
    ]
    q = built({"2026-11-23/Contact.csv": sf_csv(CONTACT_HEADER, rows)})
    assert q("select contact_id, contact_key, email_key, contact_origin, is_deleted, created_on, lawful_basis "
             "from staging.stg_salesforce__contacts order by contact_key") == [
        ("0035g00000AbCdE" + "AAV", "0035g00000AbCdE", "anna.ek@example.se", "company_initiated", False,
         dt.date(2024, 3, 1), None),
        ("0035g00000AbCdF", "0035g00000AbCdF", None, "self_initiated", True, dt.date(2024, 3, 1), None),
        ("0035g00000AbCdGAAV", "0035g00000AbCdG", "per@example.se", "unclassified", False, dt.date(2024, 3, 1),
         "Samtycke"),
    ]
    # +02:00 at 23:30 is 21:30 UTC: still 1 March in UTC
    assert q("select created_at from staging.stg_salesforce__contacts where contact_key = '0035g00000AbCdF'") == \
        [(dt.datetime(2024, 3, 1, 21, 30),)]
    assert q("select exported_at from staging.stg_salesforce__contacts limit 1") == [(dt.datetime(2026, 11, 23),)]


def test_contacts_without_the_lawful_basis_field_say_so(built):
    header = [h for h in CONTACT_HEADER if h != "Lawful_Basis__c"]
    row = contact_row("0035g00000AbCdEAAV")[: len(header)]
    q = built({"Contact.csv": sf_csv(header, [row])})
    assert q("select lawful_basis, has_lawful_basis_field from staging.stg_salesforce__contacts") == [(None, False)]


def test_a_15_character_id_joins_its_18_character_form(built):
    task_header = HEADERS["salesforce.task"]
    task = dict(zip(task_header, [""] * len(task_header)))
    task.update(Id="00T5g00000QwErTAAR", WhoId="0035g00000AbCdE", ActivityDate="2026-05-04", IsClosed="true",
                IsDeleted="false", TaskSubtype="Call", CreatedDate="2026-05-04T10:00:00.000Z")
    q = built({"Contact.csv": sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]),
               "Task.csv": sf_csv(task_header, [[task[h] for h in task_header]])})
    assert q("select c.contact_id, t.task_id, t.activity_on, t.is_closed, t.task_subtype "
             "from staging.stg_salesforce__contacts c join staging.stg_salesforce__tasks t on t.who_key = c.contact_key") == [
        ("0035g00000AbCdEAAV", "00T5g00000QwErTAAR", dt.date(2026, 5, 4), True, "Call")]


def test_register_dates_fees_types_and_unreadable_cells(built):
    q = built({"dpo-register.csv": REGISTER.encode("cp1252")})
    assert q("select request_id, received_on, received_text, request_type, outcome, fee_sek, crm_key, "
             "email_key, has_unreadable_date from staging.stg_register__requests order by 1") == [
        ("2026-001", dt.date(2026, 1, 31), "2026-01-31", "access", "done", Decimal("1250.00"), "0035g00000AbCdE",
         "asa@example.se", False),
        ("2026-002", None, "snart", "erasure", None, None, None, "per@example.se", True),
    ]


def test_unknown_request_type_is_kept_as_unknown(built):
    data = "Request ID,Received,Email,Type\nR-1,2026-03-02,a@b.se,klagomål\n"
    q = built({"requests.csv": data})
    assert q("select request_type_label, request_type from staging.stg_register__requests") == [("klagomål", "unknown")]


def test_esp_events_are_counted_once_per_event_id_and_categories_classed(built):
    events = [
        {"email": "Anna.Ek@Example.se", "timestamp": 1767225600, "event": "delivered", "category": "newsletter", "sg_event_id": "e1"},
        {"email": "anna.ek@example.se", "timestamp": 1767225700, "event": "Delivered", "category": ["art14_information", "x"],
         "sg_event_id": "e2"},
        {"email": "per@example.se", "timestamp": 1767225800, "event": "delivered", "category": "transactional"},
    ]
    first = "\n".join(json.dumps(e) for e in events)
    again = json.dumps(events[:2])  # an overlapping webhook batch: e1 and e2 again
    q = built({"a/events.jsonl": first, "b/batch.json": again})
    assert q("select event_id, email_key, event_type, occurred_on from staging.stg_esp__events order by occurred_at") == [
        ("e1", "anna.ek@example.se", "delivered", dt.date(2026, 1, 1)),
        ("e2", "anna.ek@example.se", "delivered", dt.date(2026, 1, 1)),
        (None, "per@example.se", "delivered", dt.date(2026, 1, 1)),
    ]
    assert q("select c.category, c.category_class from staging.stg_esp__events e join staging.stg_esp__event_categories c "
             "using (file_id, record_no) order by 1") == [
        ("art14_information", "first_notice"), ("newsletter", "marketing"), ("transactional", "transactional"),
        ("x", "other")]


def test_mailchimp_members_status_and_utc_times(built):
    q = built({"unsubscribed_email_audience_export_1.csv": MC_UNSUB})
    assert q("select email_key, member_status, unsubscribed_at, unsubscribe_reason from staging.stg_mailchimp__members") == [
        ("per@example.se", "unsubscribed", dt.datetime(2025, 6, 1, 9, 30), "I no longer want to receive these emails")]


def test_weblog_requests_in_utc_with_decoded_targets(built):
    lines = ['192.0.2.1 - - [29/Mar/2026:01:59:59 +0100] "GET /a?email=anna%40example.se HTTP/1.1" 200 10 "-" "x"',
             '2001:db8::2 - - [29/Mar/2026:03:00:00 +0200] "GET /b HTTP/1.1" 304 - "-" "y"']
    q = built({"access.log": "\n".join(lines) + "\n"})
    assert q("select client_address, requested_at, target_decoded, status_code, bytes_sent "
             "from staging.stg_weblog__requests order by line_no") == [
        ("192.0.2.1", dt.datetime(2026, 3, 29, 0, 59, 59), "/a?email=anna@example.se", 200, 10),
        ("2001:db8::2", dt.datetime(2026, 3, 29, 1, 0, 0), "/b", 304, None)]


def test_subprocessors_typed(built):
    data = ("name,country_iso2,role,transfer_mechanism,dpf_certified_until,tia_on,dpa_on\n"
            " Salesforce ,us,CRM, DPF ,2027-10-01,,2024-01-10\n")
    q = built({"subprocessors.csv": data})
    assert q("select subprocessor_name, country_iso2, transfer_mechanism, dpf_certified_until, tia_on "
             "from staging.stg_register__subprocessors") == [
        ("Salesforce", "US", "dpf", dt.date(2027, 10, 1), None)]


def test_build_records_the_as_of_and_policy_values(built):
    q = built({})
    assert q("select as_of, retention_inactive_months, dsar_policy_target_days from params.run") == \
        [(dt.date(2026, 11, 24), 12, 30)]
    assert q("select count(*) from params.lead_source_classes") == [(9,)]


def test_a_later_as_of_rebuilds_the_parameters(built, insyn):
    q = built({})
    assert insyn("build", "--as-of", "2027-01-31").code == 0
    assert q("select as_of from params.run") == [(dt.date(2027, 1, 31),)]
