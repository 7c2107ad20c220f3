"""notice.first_mailing_late and notice.first_mailing_missing (GDPR art. 14(3)): a company-initiated
record must get its first delivered, non-transactional mailing within 30 days of its creation."""

import datetime as dt

AS_OF = dt.date(2026, 11, 24)
LATE = "notice__first_mailing_late"
MISSING = "notice__first_mailing_missing"
CLASSES = {"newsletter": "marketing", "campaign": "marketing", "art14_information": "first_notice",
           "transactional": "transactional"}


def built(wh, rule):
    """Findings of `rule` from the last build (no rebuild): for a second rule at the same as-of."""
    return wh.rows(f"select record_id, email, source, count from rules.{rule} order by record_id")


def contact(key, email, created="2026-09-01 10:00:00", origin="company_initiated", email_key=None, **kw):
    at = dt.datetime.fromisoformat(created)
    return {"contact_id": key + "AAA", "contact_key": key, "email": email,
            "email_key": email_key if email_key is not None else (email.lower() if email else None),
            "contact_origin": origin, "created_at": at, "created_on": at.date(), **kw}


def seed_events(wh, *events, file_id=900):
    """events: (email_key, event_type, 'YYYY-MM-DD HH:MM:SS', [categories]) in stg_esp__events and
    stg_esp__event_categories, joined on (file_id, record_no)."""
    rows, categories = [], []
    for n, (email_key, event_type, at, cats) in enumerate(events, start=1):
        t = dt.datetime.fromisoformat(at)
        rows.append({"event_id": f"ev{n}", "email_key": email_key, "event_type": event_type, "occurred_at": t,
                     "occurred_on": t.date(), "file_id": file_id, "record_no": n})
        categories += [{"file_id": file_id, "record_no": n, "category": c, "category_class": CLASSES.get(c, "other")}
                       for c in cats]
    wh.seed("stg_esp__events", *rows, source=None, file_id=file_id)
    if categories:
        wh.seed("stg_esp__event_categories", *categories, source=None, file_id=file_id)


# Every record below is created 2026-09-01: day 30 is 2026-10-01, day 31 is 2026-10-02. The last
# event loaded (2026-11-20) lets them all be judged.
LAST_EVENT = ("someone.else@example.se", "processed", "2026-11-20 08:00:00", ["newsletter"])


def test_a_first_mailing_on_day_30_is_in_time_and_on_day_31_is_late(wh):
    wh.seed("stg_salesforce__contacts", contact("003ONTIME00001", "ontime@example.se"),
            contact("003LATE0000001", "late@example.se"))
    seed_events(wh, ("ontime@example.se", "delivered", "2026-10-01 23:59:59", ["newsletter"]),
                ("late@example.se", "delivered", "2026-10-02 00:00:01", ["campaign"]), LAST_EVENT)
    assert wh.findings(LATE, AS_OF) == [("003LATE0000001AAA", "late@example.se", "salesforce.contact", 1)]
    assert wh.details(LATE)["003LATE0000001AAA"] == "first mailing 2026-10-02, 31 days after creation on 2026-09-01"
    assert built(wh, MISSING) == []


def test_only_a_delivered_non_transactional_mailing_informs_the_person(wh):
    wh.seed("stg_salesforce__contacts",
            contact("003BOUNCED0001", "bounced@example.se"),
            contact("003TRANS000001", "trans@example.se"),
            contact("003TRANSLATE01", "translate@example.se"),
            contact("003ART14000001", "art14@example.se"),
            contact("003NOEMAIL0001", None))
    seed_events(wh,
                ("bounced@example.se", "processed", "2026-09-02 08:00:00", ["art14_information"]),
                ("bounced@example.se", "bounce", "2026-09-02 08:00:05", ["art14_information"]),
                ("bounced@example.se", "dropped", "2026-09-20 08:00:00", ["newsletter"]),
                ("trans@example.se", "delivered", "2026-09-05 08:00:00", ["transactional"]),
                # a transactional mail in time does not count; the newsletter after day 30 is the first mailing
                ("translate@example.se", "delivered", "2026-09-05 08:00:00", ["transactional"]),
                ("translate@example.se", "delivered", "2026-10-15 08:00:00", ["newsletter"]),
                ("art14@example.se", "delivered", "2026-09-03 08:00:00", ["art14_information"]),
                LAST_EVENT)
    assert wh.findings(MISSING, AS_OF) == [
        ("003BOUNCED0001AAA", "bounced@example.se", "salesforce.contact", 1),
        ("003NOEMAIL0001AAA", None, "salesforce.contact", 1),
        ("003TRANS000001AAA", "trans@example.se", "salesforce.contact", 1),
    ]
    details = wh.details(MISSING)
    assert details["003NOEMAIL0001AAA"] == "no e-mail address: the person cannot have been informed"
    assert details["003TRANS000001AAA"] == "no delivered mailing; created 2026-09-01"
    assert built(wh, LATE) == [("003TRANSLATE01AAA", "translate@example.se", "salesforce.contact", 1)]


def test_a_mailing_to_the_address_in_another_letter_case_counts(wh):
    wh.seed("stg_salesforce__contacts",
            contact("003CASE0000001", "Anna.Ek@Example.SE", email_key="anna.ek@example.se"))
    seed_events(wh, ("anna.ek@example.se", "delivered", "2026-09-10 08:00:00", ["newsletter"]), LAST_EVENT)
    assert wh.findings(MISSING, AS_OF) == []
    assert built(wh, LATE) == []


def test_records_whose_30_days_end_after_the_latest_event_loaded_are_not_judged(wh):
    # The last event is on 2026-11-20: created 2026-10-21 ends its 30 days that day (judged),
    # created 2026-10-22 ends them on 2026-11-21 (the data cannot tell yet), although as-of is later.
    wh.seed("stg_salesforce__contacts",
            contact("003JUDGED00001", "judged@example.se", created="2026-10-21 23:00:00"),
            contact("003NOTYET00001", "notyet@example.se", created="2026-10-22 00:30:00"))
    seed_events(wh, LAST_EVENT)
    assert [r[0] for r in wh.findings(MISSING, AS_OF)] == ["003JUDGED00001AAA"]
    # ... and nothing is judged whose 30 days end after the as-of date
    assert wh.findings(MISSING, dt.date(2026, 11, 19)) == []


def test_self_initiated_deleted_and_converted_records_are_out_of_scope(wh):
    wh.seed("stg_salesforce__contacts",
            contact("003SELF0000001", "self@example.se", origin="self_initiated"),
            contact("003UNCL0000001", "uncl@example.se", origin="unclassified"),
            contact("003GONE0000001", "gone@example.se", is_deleted=True))
    wh.seed("stg_salesforce__leads",
            {"lead_id": "00QCONV000001AAA", "lead_key": "00QCONV000001", "contact_origin": "company_initiated",
             "created_at": dt.datetime(2026, 9, 1), "created_on": dt.date(2026, 9, 1), "is_converted": True},
            {"lead_id": "00QOPEN000001AAA", "lead_key": "00QOPEN000001", "email_key": "lead@example.se",
             "contact_origin": "company_initiated", "created_at": dt.datetime(2026, 9, 1),
             "created_on": dt.date(2026, 9, 1), "is_converted": False})
    seed_events(wh, LAST_EVENT)
    assert wh.findings(MISSING, AS_OF) == [("00QOPEN000001AAA", "lead@example.se", "salesforce.lead", 1)]
