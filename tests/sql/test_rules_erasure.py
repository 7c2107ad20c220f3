"""erasure.not_executed: a person whose erasure was carried out must not appear in any CRM export or
e-mail audience file taken after the erasure date."""

import datetime as dt

AS_OF = dt.date(2026, 11, 24)
RULE = "erasure__not_executed"
ERASED_ON = "2026-03-10"


def erasure(rid, email, closed=ERASED_ON, outcome="done", crm_id=None, request_type="erasure"):
    return {"request_id": rid, "received_on": dt.date(2026, 3, 1), "email_key": email, "request_type": request_type,
            "crm_id": crm_id, "crm_key": crm_id[:15] if crm_id else None, "identity_verified_on": dt.date(2026, 3, 1),
            "answered_on": dt.date.fromisoformat(closed) if closed else None,
            "closed_on": dt.date.fromisoformat(closed) if closed else None, "outcome": outcome}


def contact(key, email, **kw):
    return {"contact_id": key + "AAA", "contact_key": key, "email": email, "email_key": email,
            "contact_origin": "company_initiated", "created_at": dt.datetime(2024, 1, 1),
            "created_on": dt.date(2024, 1, 1), **kw}


def test_a_person_in_a_contact_export_taken_after_the_erasure_is_a_finding_naming_where(wh):
    wh.seed("stg_register__requests", erasure("E-1", "anna@example.se"))
    wh.seed("stg_salesforce__contacts", contact("003ANNA0000001", "anna@example.se"),
            exported_at=dt.datetime(2026, 3, 11, 6, 0))
    assert wh.findings(RULE, AS_OF) == [("E-1", "anna@example.se", "register.requests", 1)]
    assert wh.details(RULE)["E-1"] == "erased 2026-03-10, still in: salesforce.contact 003ANNA0000001AAA"


def test_an_export_taken_on_the_erasure_date_is_not_a_finding(wh):
    wh.seed("stg_register__requests", erasure("E-1", "anna@example.se"))
    wh.seed("stg_salesforce__contacts", contact("003ANNA0000001", "anna@example.se"),
            exported_at=dt.datetime(2026, 3, 10, 23, 0))
    wh.export("salesforce.contact", dt.datetime(2026, 3, 11, 6, 0))  # the next export: she is gone
    assert wh.findings(RULE, AS_OF) == []


def test_the_person_is_found_by_crm_id_when_the_email_differs(wh):
    # the register holds the 18-character id; the contact's key is its 15-character form
    wh.seed("stg_register__requests", erasure("E-2", "old.address@example.se", crm_id="0035g00000AbCdEAAV"))
    wh.seed("stg_salesforce__contacts", contact("0035g00000AbCdE", "new.address@example.se"),
            contact("0035g00000AbCdF", "someone.else@example.se"), exported_at=dt.datetime(2026, 4, 1))
    assert wh.findings(RULE, AS_OF) == [("E-2", "old.address@example.se", "register.requests", 1)]
    assert wh.details(RULE)["E-2"] == "erased 2026-03-10, still in: salesforce.contact 0035g00000AbCdEAAA"


def test_cleaned_and_unsubscribed_audience_files_and_converted_leads_are_presence(wh):
    wh.seed("stg_register__requests", erasure("E-3", "bo@example.se"), erasure("E-4", "cia@example.se"),
            erasure("E-5", "dan@example.se"), erasure("E-6", "eva@example.se"))
    wh.seed("stg_mailchimp__members",
            {"email": "bo@example.se", "email_key": "bo@example.se", "member_status": "cleaned", "euid": "eubo"},
            source="mailchimp.cleaned", exported_at=dt.datetime(2026, 5, 1))
    wh.seed("stg_mailchimp__members",
            {"email": "cia@example.se", "email_key": "cia@example.se", "member_status": "unsubscribed",
             "euid": "eucia", "unsubscribed_at": dt.datetime(2026, 3, 1)},
            source="mailchimp.unsubscribed", exported_at=dt.datetime(2026, 5, 1))
    wh.seed("stg_salesforce__leads",
            {"lead_id": "00QDAN0000001AAA", "lead_key": "00QDAN0000001", "email_key": "dan@example.se",
             "is_converted": True},
            {"lead_id": "00QEVA0000001AAA", "lead_key": "00QEVA0000001", "email_key": "eva@example.se",
             "is_deleted": True},
            exported_at=dt.datetime(2026, 5, 1))
    assert [r[0] for r in wh.findings(RULE, AS_OF)] == ["E-3", "E-4", "E-5"]
    details = wh.details(RULE)
    assert details["E-3"] == "erased 2026-03-10, still in: mailchimp.cleaned eubo"
    assert details["E-4"] == "erased 2026-03-10, still in: mailchimp.unsubscribed eucia"
    assert details["E-5"] == "erased 2026-03-10, still in: salesforce.lead 00QDAN0000001AAA"


def test_every_later_export_is_listed_not_only_the_latest(wh):
    # Deleted from the CRM by the June export, but the April export still had her.
    wh.seed("stg_register__requests", erasure("E-7", "fia@example.se"))
    wh.seed("stg_salesforce__contacts", contact("003FIA00000001", "fia@example.se"),
            exported_at=dt.datetime(2026, 4, 1))
    wh.export("salesforce.contact", dt.datetime(2026, 6, 1))
    wh.seed("stg_mailchimp__members",
            {"email": "fia@example.se", "email_key": "fia@example.se", "member_status": "subscribed", "euid": "eufia"},
            source="mailchimp.subscribed", exported_at=dt.datetime(2026, 4, 1))
    assert [r[0] for r in wh.findings(RULE, AS_OF)] == ["E-7"]
    assert wh.details(RULE)["E-7"] == (
        "erased 2026-03-10, still in: mailchimp.subscribed eufia, salesforce.contact 003FIA00000001AAA")


def test_refused_or_unfinished_erasures_and_other_request_types_are_not_checked(wh):
    wh.seed("stg_register__requests",
            erasure("E-REFUSED", "gus@example.se", outcome="refused"),
            erasure("E-OPEN", "hed@example.se", closed=None, outcome=None),
            erasure("A-ACCESS", "ida@example.se", request_type="access"))
    wh.seed("stg_salesforce__contacts", contact("003GUS00000001", "gus@example.se"),
            contact("003HED00000001", "hed@example.se"), contact("003IDA00000001", "ida@example.se"),
            exported_at=dt.datetime(2026, 5, 1))
    assert wh.findings(RULE, AS_OF) == []


def test_exports_after_the_as_of_date_are_not_looked_at(wh):
    wh.seed("stg_register__requests", erasure("E-8", "jan@example.se"), exported_at=dt.datetime(2026, 4, 1))
    wh.seed("stg_salesforce__contacts", contact("003JAN00000001", "jan@example.se"),
            exported_at=dt.datetime(2026, 6, 1))
    assert wh.findings(RULE, dt.date(2026, 5, 31)) == []
    assert [r[0] for r in wh.findings(RULE, dt.date(2026, 6, 1))] == ["E-8"]


# ---- erasures recorded by `insyn dsar erase` in the workbench's ledger (salted hashes only)

SALT = "5a1t" * 16


def ledger(*entries):
    from insyn.ledger import Entry, Erasures

    return Erasures(SALT, [Entry(recorded_at="2026-03-10T09:00:00+00:00", recorded_by="dpo", kind="erasure", **e)
                           for e in entries])


def hashed(email=None, ids=()):
    from insyn.ledger import email_hash, id_hash

    return {"email_sha256": email_hash(SALT, email) if email else None,
            "crm_id_sha256": [id_hash(SALT, i) for i in ids]}


def test_a_ledger_erasure_matches_a_later_export_by_salted_hash_of_the_address(wh):
    wh.erasures = ledger({"entry_id": "L00001", "erased_on": ERASED_ON, **hashed("anna@example.se")})
    wh.seed("stg_salesforce__contacts", contact("003ANNA0000001", "anna@example.se"),
            exported_at=dt.datetime(2026, 3, 10, 23, 0))          # on the erasure date: not presence
    wh.seed("stg_salesforce__contacts", contact("003ANNA0000001", "anna@example.se"),
            contact("003BO000000001", "bo@example.se"), exported_at=dt.datetime(2026, 3, 11, 6, 0))
    assert wh.findings(RULE, AS_OF) == [("L00001", None, "register.requests", 1)]
    assert wh.details(RULE)["L00001"] == "erased 2026-03-10, still in: salesforce.contact 003ANNA0000001AAA"
    # the salt never reaches the warehouse: only the hashes do
    assert wh.rows("select count(*) from duckdb_tables() where table_name = 'erasure_salt' and not temporary") == [(0,)]


def test_a_ledger_erasure_matches_by_crm_id_hash_when_the_address_changed(wh):
    wh.erasures = ledger({"entry_id": "L00001", "erased_on": ERASED_ON,
                          **hashed("old@example.se", ids=["0035g00000AbCdEAAV"])})
    wh.seed("stg_salesforce__contacts", contact("0035g00000AbCdE", "new@example.se"),
            exported_at=dt.datetime(2026, 4, 1))
    assert wh.findings(RULE, AS_OF) == [("L00001", None, "register.requests", 1)]


def test_a_ledger_entry_naming_a_register_erasure_is_one_finding_with_the_earlier_date(wh):
    wh.seed("stg_register__requests", erasure("E-1", "anna@example.se", closed="2026-03-20"))
    wh.erasures = ledger({"entry_id": "L00001", "request_id": "E-1", "erased_on": ERASED_ON,
                          **hashed("anna@example.se")})
    wh.seed("stg_salesforce__contacts", contact("003ANNA0000001", "anna@example.se"),
            exported_at=dt.datetime(2026, 3, 15))                  # after the ledger date, before the register's
    assert wh.findings(RULE, AS_OF) == [("E-1", "anna@example.se", "register.requests", 1)]
    assert wh.details(RULE)["E-1"].startswith("erased 2026-03-10, still in: salesforce.contact")
