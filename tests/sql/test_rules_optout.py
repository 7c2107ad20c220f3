"""optout.marketing_after_optout and optout.not_synced: once a person has opted out, no more
marketing may arrive, and the CRM and the e-mail tool must agree on who has opted out."""

import datetime as dt

AS_OF = dt.date(2026, 11, 24)
AFTER = "optout__marketing_after_optout"
NOT_SYNCED = "optout__not_synced"
CLASSES = {"newsletter": "marketing", "campaign": "marketing", "art14_information": "first_notice",
           "transactional": "transactional"}


def seed_events(wh, *events, file_id=900):
    """events: (event_id, email_key, event_type, 'YYYY-MM-DD HH:MM:SS', [categories])."""
    rows, categories = [], []
    for n, (event_id, email_key, event_type, at, cats) in enumerate(events, start=1):
        t = dt.datetime.fromisoformat(at)
        rows.append({"event_id": event_id, "email_key": email_key, "event_type": event_type, "occurred_at": t,
                     "occurred_on": t.date(), "file_id": file_id, "record_no": n})
        categories += [{"file_id": file_id, "record_no": n, "category": c, "category_class": CLASSES.get(c, "other")}
                       for c in cats]
    wh.seed("stg_esp__events", *rows, source=None, file_id=file_id)
    if categories:
        wh.seed("stg_esp__event_categories", *categories, source=None, file_id=file_id)


def contact(key, email, opted_out=False, **kw):
    return {"contact_id": key + "AAA", "contact_key": key, "email": email, "email_key": email,
            "contact_origin": "company_initiated", "created_at": dt.datetime(2024, 1, 1),
            "created_on": dt.date(2024, 1, 1), "has_opted_out_of_email": opted_out, **kw}


def member(email, status, **kw):
    return {"email": email, "email_key": email, "member_status": status, "euid": f"eu{email[:6]}", **kw}


def finding(address, source="esp.events"):
    return (address, address, source, 1)


def test_marketing_after_an_esp_unsubscribe_or_spam_report_is_a_breach(wh):
    seed_events(wh,
                ("u1", "unsub@example.se", "unsubscribe", "2026-05-01 10:00:00", []),
                ("m1", "unsub@example.se", "delivered", "2026-04-30 10:00:00", ["newsletter"]),
                ("m2", "unsub@example.se", "delivered", "2026-05-02 10:00:00", ["newsletter"]),
                ("m3", "unsub@example.se", "delivered", "2026-06-02 10:00:00", ["campaign", "transactional"]),
                ("s1", "spam@example.se", "spamreport", "2026-05-01 10:00:00", []),
                ("m4", "spam@example.se", "delivered", "2026-05-03 10:00:00", ["campaign"]))
    assert wh.findings(AFTER, AS_OF) == [finding("spam@example.se"), finding("unsub@example.se")]
    assert wh.details(AFTER)["unsub@example.se"] == "2 marketing mailing(s) after opt-out: m2, m3"


def test_a_group_unsubscribe_stops_all_marketing_until_a_group_resubscribe(wh):
    seed_events(wh,
                ("g1", "group@example.se", "group_unsubscribe", "2026-05-01 10:00:00", []),
                ("m1", "group@example.se", "delivered", "2026-08-01 10:00:00", ["campaign"]),
                ("g2", "back@example.se", "group_unsubscribe", "2026-05-01 10:00:00", []),
                ("m2", "back@example.se", "delivered", "2026-05-05 10:00:00", ["newsletter"]),
                ("r2", "back@example.se", "group_resubscribe", "2026-05-10 10:00:00", []),
                ("m3", "back@example.se", "delivered", "2026-05-20 10:00:00", ["newsletter"]),
                ("g3", "again@example.se", "group_unsubscribe", "2026-05-01 10:00:00", []),
                ("r3", "again@example.se", "group_resubscribe", "2026-05-10 10:00:00", []),
                ("m4", "again@example.se", "delivered", "2026-05-20 10:00:00", ["newsletter"]))
    assert wh.findings(AFTER, AS_OF) == [finding("back@example.se"), finding("group@example.se")]
    # back@: only the mailing between unsubscribe and resubscribe is a breach
    assert wh.details(AFTER)["back@example.se"] == "1 marketing mailing(s) after opt-out: m2"


def test_marketing_after_a_mailchimp_unsubscribe_is_a_breach(wh):
    wh.seed("stg_mailchimp__members",
            member("mc@example.se", "unsubscribed", unsubscribed_at=dt.datetime(2026, 4, 1, 9, 0)),
            source="mailchimp.unsubscribed")
    seed_events(wh, ("m1", "mc@example.se", "delivered", "2026-03-31 09:00:00", ["newsletter"]),
                ("m2", "mc@example.se", "delivered", "2026-04-02 09:00:00", ["newsletter"]))
    assert wh.findings(AFTER, AS_OF) == [finding("mc@example.se")]
    assert wh.details(AFTER)["mc@example.se"] == "1 marketing mailing(s) after opt-out: m2"


def test_a_crm_opt_out_counts_from_its_field_history_and_a_flag_without_history_is_not_dated(wh):
    wh.seed("stg_salesforce__contacts", contact("003CRMOPT00001", "crm@example.se", opted_out=True),
            contact("003NOHIST00001", "nohist@example.se", opted_out=True))
    wh.seed("stg_salesforce__contact_history",
            {"history_id": "017A", "contact_key": "003CRMOPT00001", "field_name": "HasOptedOutOfEmail",
             "old_value": "false", "new_value": "true", "changed_at": dt.datetime(2026, 3, 1, 12, 0)},
            {"history_id": "017B", "contact_key": "003NOHIST00001", "field_name": "Email",
             "old_value": "x@example.se", "new_value": "nohist@example.se", "changed_at": dt.datetime(2025, 1, 1)})
    seed_events(wh, ("m1", "crm@example.se", "delivered", "2026-03-01 11:59:59", ["newsletter"]),
                ("m2", "crm@example.se", "delivered", "2026-03-02 12:00:00", ["newsletter"]),
                ("m3", "nohist@example.se", "delivered", "2026-06-01 12:00:00", ["newsletter"]))
    assert wh.findings(AFTER, AS_OF) == [finding("crm@example.se")]
    assert wh.details(AFTER)["crm@example.se"] == "1 marketing mailing(s) after opt-out: m2"


def test_drops_transactional_mail_and_a_delivery_in_the_same_second_are_not_breaches(wh):
    seed_events(wh,
                ("u1", "drop@example.se", "unsubscribe", "2026-05-01 10:00:00", []),
                ("d1", "drop@example.se", "dropped", "2026-05-02 10:00:00", ["newsletter"]),
                ("b1", "drop@example.se", "bounce", "2026-05-03 10:00:00", ["newsletter"]),
                ("p1", "drop@example.se", "processed", "2026-05-03 10:00:00", ["newsletter"]),
                ("u2", "receipt@example.se", "unsubscribe", "2026-05-01 10:00:00", []),
                ("t2", "receipt@example.se", "delivered", "2026-05-02 10:00:00", ["transactional"]),
                ("n2", "receipt@example.se", "delivered", "2026-05-02 10:00:00", ["art14_information"]),
                ("u3", "same@example.se", "unsubscribe", "2026-05-01 10:00:00", []),
                ("m3", "same@example.se", "delivered", "2026-05-01 10:00:00", ["newsletter"]))
    assert wh.findings(AFTER, AS_OF) == []


def test_mailings_after_the_as_of_date_are_not_judged(wh):
    seed_events(wh, ("u1", "later@example.se", "unsubscribe", "2026-11-20 10:00:00", []),
                ("m1", "later@example.se", "delivered", "2026-11-25 10:00:00", ["newsletter"]))
    assert wh.findings(AFTER, AS_OF) == []
    assert wh.findings(AFTER, dt.date(2026, 11, 25)) == [finding("later@example.se")]


def test_not_synced_both_ways_names_the_side_that_needs_fixing(wh):
    wh.seed("stg_salesforce__contacts",
            contact("003CRMONLY0001", "crmonly@example.se", opted_out=True),      # still subscribed in the tool
            contact("003TOOLONLY001", "toolonly@example.se", opted_out=False),    # unsubscribed in the tool
            contact("003NULLFLAG001", "nullflag@example.se", opted_out=None),     # unsubscribed in the tool
            contact("003BOTH0000001", "both@example.se", opted_out=True),         # unsubscribed in both
            contact("003NEITHER0001", "neither@example.se", opted_out=False),     # subscribed, not opted out
            contact("003GONE0000001", "gone@example.se", opted_out=True, is_deleted=True))
    wh.seed("stg_salesforce__leads",
            {"lead_id": "00QLEAD000001AAA", "lead_key": "00QLEAD000001", "email_key": "lead@example.se",
             "contact_origin": "company_initiated", "has_opted_out_of_email": False, "is_converted": False})
    wh.seed("stg_mailchimp__members", member("crmonly@example.se", "subscribed"),
            member("neither@example.se", "subscribed"), member("gone@example.se", "subscribed"),
            source="mailchimp.subscribed")
    wh.seed("stg_mailchimp__members",
            *[member(e, "unsubscribed", unsubscribed_at=dt.datetime(2026, 1, 1))
              for e in ("toolonly@example.se", "nullflag@example.se", "both@example.se", "lead@example.se",
                        "nocrm@example.se")],
            source="mailchimp.unsubscribed")
    assert wh.findings(NOT_SYNCED, AS_OF) == [
        finding("crmonly@example.se", "mailchimp.subscribed"),
        finding("lead@example.se", "salesforce.lead"),
        finding("nullflag@example.se", "salesforce.contact"),
        finding("toolonly@example.se", "salesforce.contact"),
    ]
    details = wh.details(NOT_SYNCED)
    assert details["crmonly@example.se"] == "opted out in the CRM but subscribed in the e-mail tool"
    assert details["toolonly@example.se"] == "unsubscribed in the e-mail tool but not opted out in the CRM"


def test_not_synced_reads_the_latest_audience_export(wh):
    # Subscribed in October; the November export no longer has the address as subscribed.
    wh.seed("stg_salesforce__contacts", contact("003CRMOPT00001", "crm@example.se", opted_out=True),
            exported_at=dt.datetime(2026, 10, 1))
    wh.seed("stg_mailchimp__members", member("crm@example.se", "subscribed"),
            source="mailchimp.subscribed", exported_at=dt.datetime(2026, 10, 1))
    wh.export("mailchimp.subscribed", dt.datetime(2026, 11, 1))
    assert wh.findings(NOT_SYNCED, AS_OF) == []
    assert wh.findings(NOT_SYNCED, dt.date(2026, 10, 15)) == [finding("crm@example.se", "mailchimp.subscribed")]
