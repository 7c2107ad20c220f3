"""dsar.*: the request register against the policy's 30-day target, the legal one-month deadline
(rolled to a Swedish working day), valid extensions, identity checks and the yearly free report."""

import datetime as dt

AS_OF = dt.date(2026, 11, 24)
TARGET = "dsar__policy_target_missed"
LEGAL = "dsar__legal_deadline_missed"
EXTENDED = "dsar__extended_deadline_missed"
IDENTITY = "dsar__answered_before_identity_verified"
REPEAT = "dsar__repeat_free_access"
ALL_RULES = (TARGET, LEGAL, EXTENDED, IDENTITY, REPEAT)


def built(wh, rule):
    """Findings of `rule` from the last build (no rebuild): for a second rule at the same as-of."""
    return wh.rows(f"select record_id, email, source, count from rules.{rule} order by record_id")


def d(text):
    return dt.date.fromisoformat(text) if text else None


def request(rid, received, closed=None, *, request_type="access", email=None, verified="same",
            extension=None, answered=None, outcome="done", fee=None):
    """A register row; identity is verified on the day received unless said otherwise."""
    return {"request_id": rid, "received_on": d(received), "email_key": email or f"{rid.lower()}@example.se",
            "request_type": request_type, "closed_on": d(closed), "answered_on": d(answered),
            "identity_verified_on": d(received) if verified == "same" else d(verified),
            "extension_notified_on": d(extension), "outcome": outcome if closed else None, "fee_sek": fee}


def ids(rows):
    return [r[0] for r in rows]


def test_the_30_day_target_closed_or_open(wh):
    wh.seed("stg_register__requests",
            request("R-DAY30", "2026-06-01", "2026-07-01"),
            request("R-DAY31", "2026-06-01", "2026-07-02"),
            request("R-OPEN30", "2026-10-25"),
            request("R-OPEN31", "2026-10-24"))
    assert wh.findings(TARGET, AS_OF) == [("R-DAY31", "r-day31@example.se", "register.requests", 1),
                                          ("R-OPEN31", "r-open31@example.se", "register.requests", 1)]
    details = wh.details(TARGET)
    assert details["R-DAY31"] == "closed after 31 days (target 30 days, 2026-07-01)"
    assert details["R-OPEN31"] == "open 31 days at 2026-11-24 (target 30 days, 2026-11-23)"


def test_the_legal_deadline_is_one_calendar_month_rolled_to_a_working_day(wh):
    wh.seed("stg_register__requests",
            # 31 Jan + 1 month = Sat 28 Feb 2026, rolled to Mon 2 March
            request("R-JAN31-OK", "2026-01-31", "2026-03-02"),
            request("R-JAN31-LATE", "2026-01-31", "2026-03-03"),
            # 6 Dec + 1 month = Tue 6 Jan 2026, Epiphany (trettondedag jul), rolled to Wed 7 Jan
            request("R-EPIPH-OK", "2025-12-06", "2026-01-07"),
            request("R-EPIPH-LATE", "2025-12-06", "2026-01-08"),
            # a plain working day: 10 Mar 2026 + 1 month = Fri 10 Apr
            request("R-APR-OK", "2026-03-10", "2026-04-10"),
            request("R-APR-LATE", "2026-03-10", "2026-04-13"),
            # open on its deadline (Tue 24 Nov) is not yet late; open past it is
            request("R-OPEN-OK", "2026-10-24"),
            request("R-OPEN-LATE", "2026-10-23"))
    assert ids(wh.findings(LEGAL, AS_OF)) == ["R-APR-LATE", "R-EPIPH-LATE", "R-JAN31-LATE", "R-OPEN-LATE"]
    details = wh.details(LEGAL)
    assert details["R-JAN31-LATE"] == "closed 2026-03-03 after the deadline 2026-03-02 (2026-02-28 rolled to a working day)"
    assert details["R-EPIPH-LATE"] == "closed 2026-01-08 after the deadline 2026-01-07 (2026-01-06 rolled to a working day)"
    assert details["R-APR-LATE"] == "closed 2026-04-13 after the deadline 2026-04-10"
    assert details["R-OPEN-LATE"] == "open after the deadline 2026-11-23"
    # the calendar month is not 30 days: received 31 Jan, closed 2 March is also within the policy target
    assert "R-JAN31-OK" not in ids(built(wh, TARGET))


def test_an_extension_is_valid_only_if_told_by_the_rolled_one_month_deadline(wh):
    wh.seed("stg_register__requests",
            # told on Mon 2 March, the rolled deadline (after the unrolled 28 Feb): valid
            request("R-EXT-ONTIME", "2026-01-31", "2026-04-15", extension="2026-03-02"),
            # told on 3 March: too late, so the legal deadline applies
            request("R-EXT-LATE", "2026-01-31", "2026-04-15", extension="2026-03-03"))
    assert ids(wh.findings(LEGAL, AS_OF)) == ["R-EXT-LATE"]
    assert wh.details(LEGAL)["R-EXT-LATE"] == (
        "closed 2026-04-15 after the deadline 2026-03-02 (2026-02-28 rolled to a working day); "
        "extension told 2026-03-03, too late")
    assert built(wh, EXTENDED) == []


def test_a_validly_extended_request_must_close_by_the_rolled_three_month_deadline(wh):
    wh.seed("stg_register__requests",
            # 10 Feb + 3 months = Sun 10 May 2026, rolled to Mon 11 May
            request("R-3M-OK", "2026-02-10", "2026-05-11", extension="2026-02-20"),
            request("R-3M-LATE", "2026-02-10", "2026-05-12", extension="2026-02-20"),
            # open past its extended deadline (24 Jul + 3 months = Sat 24 Oct, rolled to Mon 26 Oct)
            request("R-3M-OPEN", "2026-07-24", extension="2026-08-01"))
    assert ids(wh.findings(EXTENDED, AS_OF)) == ["R-3M-LATE", "R-3M-OPEN"]
    details = wh.details(EXTENDED)
    assert details["R-3M-LATE"] == "closed 2026-05-12 after the extended deadline 2026-05-11"
    assert details["R-3M-OPEN"] == "open after the extended deadline 2026-10-26"
    # a valid extension is not a legal-deadline miss
    assert built(wh, LEGAL) == []


def test_an_answer_needs_identity_verified_on_or_before_the_day_it_was_sent(wh):
    wh.seed("stg_register__requests",
            request("R-ID-LATER", "2026-03-01", "2026-03-12", answered="2026-03-10", verified="2026-03-11"),
            request("R-ID-SAME", "2026-03-01", "2026-03-12", answered="2026-03-10", verified="2026-03-10"),
            request("R-ID-NEVER", "2026-03-01", "2026-03-12", answered="2026-03-10", verified=None),
            request("R-ID-BEFORE", "2026-03-01", "2026-03-12", answered="2026-03-10", verified="2026-03-02"),
            request("R-NO-ANSWER", "2026-03-01", "2026-03-12", verified=None, outcome="refused"))
    assert ids(wh.findings(IDENTITY, AS_OF)) == ["R-ID-LATER", "R-ID-NEVER"]
    details = wh.details(IDENTITY)
    assert details["R-ID-LATER"] == "answered 2026-03-10, identity verified 2026-03-11"
    assert details["R-ID-NEVER"] == "answered 2026-03-10, identity never verified"


def test_a_second_free_access_report_within_twelve_months_is_flagged_on_the_later_request(wh):
    a, b, c, e, f = (f"{x}@example.se" for x in "abcef")
    wh.seed("stg_register__requests",
            # a: free (blank fee), then free again (fee 0) within 12 months: the later one is the finding
            request("A-1", "2025-03-15", "2025-03-20", email=a),
            request("A-2", "2026-01-10", "2026-01-20", email=a, fee=0),
            # b: exactly add_months(earlier, 12) later is a new year
            request("B-1", "2025-03-15", "2025-03-20", email=b, fee=0),
            request("B-2", "2026-03-15", "2026-03-20", email=b),
            # c: a charged repeat is fine
            request("C-1", "2025-06-01", "2025-06-10", email=c),
            request("C-2", "2026-01-01", "2026-01-10", email=c, fee=250),
            # e: an erasure request is not an access report
            request("E-1", "2026-01-01", "2026-01-10", email=e),
            request("E-2", "2026-02-01", "2026-02-10", email=e, request_type="erasure"),
            # f: the outcome does not matter (a refused earlier request counts)
            request("F-1", "2026-01-01", "2026-01-10", email=f, outcome="refused"),
            request("F-2", "2026-06-01", None, email=f))
    assert wh.findings(REPEAT, AS_OF) == [("A-2", a, "register.requests", 1), ("F-2", f, "register.requests", 1)]
    assert wh.details(REPEAT)["A-2"] == "a second free access report within 12 months (earlier: A-1, 2025-03-15)"


def test_a_request_received_after_the_as_of_date_is_ignored(wh):
    g = "g@example.se"
    wh.seed("stg_register__requests",
            request("G-1", "2026-10-30", "2026-11-10", email=g, answered="2026-11-10"),
            # received tomorrow, answered without identity, a repeat free access: none of it counts yet
            request("G-2", "2026-11-25", None, email=g, answered="2026-11-25", verified=None))
    wh.build(AS_OF)
    for rule in ALL_RULES:
        assert built(wh, rule) == [], rule


def test_a_later_as_of_turns_an_open_request_into_a_miss(wh):
    # received Tue 1 Sep 2026; day 30 and the one-month deadline are both Thu 1 Oct
    wh.seed("stg_register__requests", request("R-OPEN", "2026-09-01"), exported_at=dt.datetime(2026, 9, 30))
    assert wh.findings(TARGET, dt.date(2026, 10, 1)) == []
    assert built(wh, LEGAL) == []
    assert ids(wh.findings(TARGET, dt.date(2026, 10, 2))) == ["R-OPEN"]
    assert ids(built(wh, LEGAL)) == ["R-OPEN"]


def test_the_latest_register_export_on_or_before_as_of_is_judged(wh):
    # open and late in the October register; closed in time in the November one
    wh.seed("stg_register__requests", request("R-1", "2026-08-01"), exported_at=dt.datetime(2026, 10, 1))
    wh.seed("stg_register__requests", request("R-1", "2026-08-01", "2026-08-20"),
            exported_at=dt.datetime(2026, 11, 1))
    assert wh.findings(TARGET, AS_OF) == []
    assert ids(wh.findings(TARGET, dt.date(2026, 10, 15))) == ["R-1"]
