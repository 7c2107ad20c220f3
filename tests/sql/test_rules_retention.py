"""retention.inactive_company_initiated, with the boundaries the policy lives by."""

import datetime as dt

AS_OF = dt.date(2026, 11, 24)          # window: [2025-11-24, 2026-11-24]
RULE = "retention__inactive_company_initiated"


def contact(key, created="2024-01-10 09:00:00", origin="company_initiated", **kw):
    return {"contact_id": key + "AAA", "contact_key": key, "email_key": f"{key.lower()}@example.se",
            "contact_origin": origin, "created_at": dt.datetime.fromisoformat(created),
            "created_on": dt.datetime.fromisoformat(created).date(), **kw}


def task(who, on, **kw):
    return {"task_id": f"00T{who}{on}", "who_key": who, "activity_on": dt.date.fromisoformat(on), "is_closed": True,
            "task_subtype": "Call", **kw}


def test_a_stale_company_initiated_contact_is_flagged_and_an_active_one_is_not(wh):
    wh.seed("stg_salesforce__contacts", contact("003STALE000001"), contact("003ACTIVE00001"))
    wh.seed("stg_salesforce__tasks", task("003ACTIVE00001", "2026-06-01"), task("003STALE000001", "2025-11-23"))
    assert wh.findings(RULE, AS_OF) == [("003STALE000001AAA", "003stale000001@example.se", "salesforce.contact", 1)]
    assert wh.details(RULE)["003STALE000001AAA"] == "no dialogue since 2025-11-23"


def test_a_task_on_the_first_day_of_the_window_counts(wh):
    wh.seed("stg_salesforce__contacts", contact("003EDGE0000001"))
    wh.seed("stg_salesforce__tasks", task("003EDGE0000001", "2025-11-24"))
    assert wh.findings(RULE, AS_OF) == []


def test_list_emails_open_and_deleted_tasks_are_not_dialogue(wh):
    wh.seed("stg_salesforce__contacts", contact("003LIST0000001"), contact("003OPEN0000001"), contact("003DEL00000001"))
    wh.seed("stg_salesforce__tasks", task("003LIST0000001", "2026-10-01", task_subtype="ListEmail"),
            task("003OPEN0000001", "2026-10-01", is_closed=False), task("003DEL00000001", "2026-10-01", is_deleted=True))
    assert [r[0] for r in wh.findings(RULE, AS_OF)] == ["003DEL00000001AAA", "003LIST0000001AAA", "003OPEN0000001AAA"]


def test_a_meeting_after_the_export_day_does_not_count(wh):
    wh.seed("stg_salesforce__contacts", contact("003MEET0000001"), contact("003HELD0000001"))
    wh.seed("stg_salesforce__events",
            {"event_id": "00U1", "who_key": "003MEET0000001", "activity_on": dt.date(2026, 12, 1)},
            {"event_id": "00U2", "who_key": "003HELD0000001", "activity_on": dt.date(2026, 11, 23)})
    assert [r[0] for r in wh.findings(RULE, AS_OF)] == ["003MEET0000001AAA"]


def test_created_exactly_at_the_window_start_is_not_judged(wh):
    wh.seed("stg_salesforce__contacts", contact("003NEW00000001", created="2025-11-24 00:00:00"),
            contact("003OLD00000001", created="2025-11-23 23:59:59"))
    assert [r[0] for r in wh.findings(RULE, AS_OF)] == ["003OLD00000001AAA"]


def test_self_initiated_deleted_and_converted_records_are_out_of_scope(wh):
    wh.seed("stg_salesforce__contacts", contact("003SELF0000001", origin="self_initiated"),
            contact("003GONE0000001", is_deleted=True))
    wh.seed("stg_salesforce__leads",
            {"lead_id": "00QCONV000001AAA", "lead_key": "00QCONV000001", "contact_origin": "company_initiated",
             "created_at": dt.datetime(2024, 1, 1), "created_on": dt.date(2024, 1, 1), "is_converted": True},
            {"lead_id": "00QSTALE00001AAA", "lead_key": "00QSTALE00001", "contact_origin": "company_initiated",
             "created_at": dt.datetime(2024, 1, 1), "created_on": dt.date(2024, 1, 1), "is_converted": False})
    assert wh.findings(RULE, AS_OF) == [("00QSTALE00001AAA", None, "salesforce.lead", 1)]


def test_an_opportunity_through_a_contact_role_is_dialogue(wh):
    wh.seed("stg_salesforce__contacts", contact("003OPP00000001"), contact("003ROLEDEL0001"))
    wh.seed("stg_salesforce__opportunities",
            {"opportunity_id": "0061", "opportunity_key": "0061", "created_on": dt.date(2024, 1, 1),
             "last_activity_on": dt.date(2026, 9, 1), "is_closed": False})
    wh.seed("stg_salesforce__opportunity_contact_roles",
            {"opportunity_contact_role_id": "00K1", "opportunity_key": "0061", "contact_key": "003OPP00000001"},
            {"opportunity_contact_role_id": "00K2", "opportunity_key": "0061", "contact_key": "003ROLEDEL0001",
             "is_deleted": True})
    assert [r[0] for r in wh.findings(RULE, AS_OF)] == ["003ROLEDEL0001AAA"]


def test_the_latest_export_on_or_before_as_of_is_judged(wh):
    # In the older export the contact had a recent task; in the newer one the contact is gone.
    old, new = dt.datetime(2026, 11, 9), dt.datetime(2026, 11, 23)
    wh.seed("stg_salesforce__contacts", contact("003GONE0000001"), exported_at=old)
    wh.export("salesforce.contact", new)  # an export with no rows: everyone deleted
    assert wh.findings(RULE, AS_OF) == []
    assert [r[0] for r in wh.findings(RULE, dt.date(2026, 11, 10))] == ["003GONE0000001AAA"]


def test_a_15_character_who_id_matches_the_18_character_contact(wh):
    wh.seed("stg_salesforce__contacts", contact("0035g00000AbCdE"))
    wh.seed("stg_salesforce__tasks", task("0035g00000AbCdE", "2026-01-15"))
    assert wh.findings(RULE, AS_OF) == []
