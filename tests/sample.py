"""Seeded generator of the synthetic sample exports and the findings they must yield.

The sample company is "Nordlys Software AB" (nordlys.se), a small Swedish B2B
software vendor. `generate()` writes, into one folder, the exports a DPO would
hand over (Salesforce weekly export ZIPs and a Data Loader extract, Mailchimp
audience files, SendGrid event webhook dumps, web server access logs, the
request register as Excel and as a Swedish-Excel CSV, the sub-processor
register and the privacy policy text) in the shapes of
``../shared/design/export-formats.md``, plus ``expected_findings.json``.

Every compliance case is planted on purpose (see ``Plan.expect``) and the
expected findings are evaluated from the generator's own plan, never from the
files it writes; the two must agree or generation fails. Background ("filler")
records are built so that they yield nothing.

Every number, value list and label of the policy comes from the policy file
(``policy.toml``); the dates of the planted cases are derived from it and from
the sample's as-of date. Only the standard library, openpyxl and holidays are
used, and the output is byte-for-byte the same for the same seed.

    python tests/sample.py OUT_DIR [--seed N] [--policy FILE]

It lives with the tests, not in the runtime package: the tests, the demo's committed
sample (data/sample) and the benchmarks' generator (headers) use it.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import gzip
import io
import json
import random
import re
import string
import sys
import tomllib
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

AS_OF = dt.date(2026, 11, 24)
DEFAULT_SEED = 20261124
# The demo person: hand-written (no random draws), present in every source, so that
# `insyn dsar report` shows records from every export. Her Contact is attached to the
# account whose domain her address has.
DEMO_PERSON_NAME = "Åsa Öhrström"
DEMO_PERSON_EMAIL = "asa.ohrstrom@stenbygg.se"
COMPANY = "Nordlys Software AB"
DOMAIN = "nordlys.se"
ORG_ID = "00D5g000004xYzEAAU"          # the org id in the weekly export's file name

# Export days (the folder names). The CRM is exported weekly-ish; the newer
# export is the one judged at the as-of date.
CRM_OLD = dt.date(2026, 11, 9)
CRM_NEW = dt.date(2026, 11, 23)
MC_OLD, MC_NEW = CRM_OLD, CRM_NEW          # the audience exports sit beside the CRM exports
REGISTER_OLD = dt.date(2026, 6, 30)
REGISTER_NEW = dt.date(2026, 11, 23)
SUBPROC_DAY = dt.date(2026, 11, 1)
EVENTS_DAY = dt.date(2026, 11, 24)
WEBLOG_DAY = dt.date(2026, 11, 24)
LATEST_EVENT_DAY = dt.date(2026, 11, 23)   # no e-mail event is dated later than this

XLSX_TIME = dt.datetime(2026, 6, 30, 16, 12, 0)
UTC = dt.timezone.utc

# Vocabulary of the tools (not of the law): SendGrid event names, Salesforce picklists.
EV_PROCESSED, EV_DEFERRED, EV_BOUNCE, EV_DROPPED = "processed", "deferred", "bounce", "dropped"
EV_OPEN, EV_CLICK = "open", "click"
SUB_TASK, SUB_EMAIL, SUB_CALL = "Task", "Email", "Call"

# Data that must fall outside the policy's value lists (checked at start-up).
UNCLASSIFIED_SOURCES = ["Partner Referral", "Other", "Partner Referral"]
NON_CONSENT_BASES = ["Berättigat intresse", "Legitimate interest", "Berättigat intresse (B2B)"]
UNKNOWN_REQUEST_TYPE = "Klagomål"
UNPARSEABLE_DATE = "snart"


# ----------------------------------------------------------------- policy


class Policy:
    """The parts of the policy file the sample uses (read with tomllib)."""

    def __init__(self, path: Path):
        self.path = path
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        self.raw = raw
        pol = raw["policy"]
        self.last_reviewed_on: dt.date = _as_date(pol["last_reviewed_on"])
        self.review_interval_months = int(pol["review_interval_months"])
        self.date_zone = ZoneInfo(raw.get("dates", {}).get("date_timezone", "UTC"))
        ret = raw["retention"]
        self.retention_months = int(ret["company_initiated_inactive_months"])
        self.non_dialogue_subtypes = list(ret["non_dialogue_task_subtypes"])
        ls = raw["lead_source"]
        self.company_sources = list(ls["company_initiated"])
        self.self_sources = list(ls["self_initiated"])
        em = raw["email"]
        self.marketing_categories = list(em["marketing_categories"])
        self.first_notice_categories = list(em["first_notice_categories"])
        self.transactional_categories = list(em["transactional_categories"])
        self.delivered_events = list(em["delivered_events"])
        self.optout_events = list(em["optout_events"])
        self.group_optout_events = list(em["group_optout_events"])
        self.group_resubscribe_events = list(em["group_resubscribe_events"])
        self.notice_days = int(raw["notice"]["first_mailing_days"])
        crm = raw["crm"]
        self.history_field = crm["optout_history_field"]
        self.history_true_values = list(crm["optout_history_true_values"])
        ds = raw["dsar"]
        self.policy_target_days = int(ds["policy_target_days"])
        self.legal_months = int(ds["legal_deadline_months"])
        self.extended_months = int(ds["extended_deadline_months"])
        self.free_access_months = int(ds["free_access_interval_months"])
        self.holiday_country = ds["holiday_country"]
        self.weekend_days = [str(d).lower() for d in ds["weekend_days"]]
        self.extra_non_working = {_as_date(d) for d in ds.get("extra_non_working_days", [])}
        self.request_types: dict[str, list[str]] = {k: list(v) for k, v in ds["request_types"].items()}
        self.outcomes: dict[str, list[str]] = {k: list(v) for k, v in ds["outcomes"].items()}
        self.register_columns: dict[str, list[str]] = {k: list(v) for k, v in ds["register_columns"].items()}
        wl = raw["weblog"]
        self.weblog_months = int(wl["retention_months"])
        self.horizon_zone = ZoneInfo(wl["horizon_timezone"])
        lb = raw["lawful_basis"]
        self.contact_basis_field = lb["contact_field"]
        self.lead_basis_field = lb["lead_field"]
        self.consent_values = list(lb["consent_values"])
        tr = raw["transfer"]
        self.mechanisms = list(tr["mechanisms"])
        self.privacy_shield_invalid_from = _as_date(tr["privacy_shield_invalid_from"])
        self.old_scc_valid_until = _as_date(tr["old_scc_valid_until"])
        self.dpf_adequacy_from = _as_date(tr["dpf_adequacy_from"])
        self.dpf_country = tr["dpf_country"]
        self.eea = list(tr["eea_countries"])
        self.adequacy = list(tr["adequacy_countries"])
        pt = raw["policy_text"]
        self.outdated_patterns = [r["pattern"] for r in pt["outdated_references"]]
        self.date_markers = list(pt["date_markers"])

    # labels -----------------------------------------------------------
    def column(self, key: str) -> str:
        """The register template's column name (the first label)."""
        return self.register_columns[key][0]

    def type_label(self, canonical: str, i: int = 0) -> str:
        labels = self.request_types[canonical]
        return labels[min(i, len(labels) - 1)]

    def outcome_label(self, canonical: str) -> str:
        return self.outcomes[canonical][0].capitalize()

    def canonical_type(self, label: str) -> str | None:
        key = (trim(label) or "").lower()
        for canonical, labels in self.request_types.items():
            if key in [x.strip().lower() for x in labels]:
                return canonical
        return None

    def canonical_outcome(self, label: str | None) -> str | None:
        key = (trim(label) or "").lower()
        for canonical, labels in self.outcomes.items():
            if key in [x.strip().lower() for x in labels]:
                return canonical
        return None

    def origin(self, lead_source: str | None) -> str:
        key = squish(lead_source)
        if key in self.company_sources:
            return "company"
        if key in self.self_sources:
            return "self"
        return "unclassified"

    def is_consent(self, value: str | None) -> bool:
        return (trim(value) or "").lower() in [v.lower() for v in self.consent_values]

    # the marketing / notice / opt-out vocabulary ----------------------
    @property
    def newsletter(self) -> str:
        return self.marketing_categories[0]

    @property
    def campaign(self) -> str:
        return self.marketing_categories[-1]

    @property
    def art14(self) -> str:
        return self.first_notice_categories[0]

    @property
    def transactional(self) -> str:
        return self.transactional_categories[0]

    @property
    def delivered(self) -> str:
        return self.delivered_events[0]

    @property
    def unsubscribe(self) -> str:
        return self.optout_events[0]

    @property
    def spamreport(self) -> str:
        return self.optout_events[-1]

    @property
    def group_unsubscribe(self) -> str:
        return self.group_optout_events[0]

    @property
    def group_resubscribe(self) -> str:
        return self.group_resubscribe_events[0]

    def check_sample_data(self) -> None:
        """The sample's off-list values must really be off the policy's lists."""
        for value in UNCLASSIFIED_SOURCES:
            if self.origin(value) != "unclassified":
                raise ValueError(f"sample LeadSource {value!r} is classified by the policy")
        for value in NON_CONSENT_BASES:
            if self.is_consent(value):
                raise ValueError(f"sample lawful basis {value!r} is a consent value in the policy")
        if self.canonical_type(UNKNOWN_REQUEST_TYPE) is not None:
            raise ValueError(f"sample request type {UNKNOWN_REQUEST_TYPE!r} is known to the policy")
        if "erasure" not in self.request_types or "access" not in self.request_types:
            raise ValueError("the policy must define the request types 'access' and 'erasure'")


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def default_policy_path() -> Path:
    return Path(__file__).resolve().parents[1] / "policy.toml"


# ----------------------------------------------------------------- text and dates

# Every character for which str.isspace() is true (non-breaking spaces included).
_WS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
       "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_INNER_WS = re.compile("[" + re.escape(_WS) + "]+")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def trim(value: str | None) -> str | None:
    return None if value is None else value.strip(_WS)


def squish(value: str | None) -> str:
    return _INNER_WS.sub(" ", trim(value) or "").lower()


def email_key(value: str | None) -> str | None:
    t = trim(value)
    return t.lower() if t else None


def add_months(d: dt.date, n: int) -> dt.date:
    """Same day number n months later, or that month's last day (31 Jan + 1 = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def ascii_fold(text: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "ł": "l", "ı": "i",
                           "Å": "A", "Ä": "A", "Ö": "O", "É": "E", "Ü": "U", "Ł": "L", "ë": "e", "è": "e"})
    return text.translate(table)


class WorkingDays:
    """Non-working days: the policy's weekend days, named public holidays and extra days."""

    def __init__(self, policy: Policy):
        import holidays

        names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        self.weekend = {names.index(d) for d in policy.weekend_days}
        years = range(2023, 2029)
        table = holidays.country_holidays(policy.holiday_country, years=years)
        self.holidays = {d for d, name in table.items()
                         if not any(w in str(name).lower() for w in ("sunday", "söndag"))}
        self.holidays |= policy.extra_non_working

    def working(self, d: dt.date) -> bool:
        return d.weekday() not in self.weekend and d not in self.holidays

    def roll(self, d: dt.date) -> dt.date:
        while not self.working(d):
            d += dt.timedelta(days=1)
        return d


# ----------------------------------------------------------------- Salesforce ids

_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def sf_checksum(id15: str) -> str:
    out = ""
    for b in range(3):
        block = id15[b * 5:(b + 1) * 5]
        out += _SUFFIX[sum(1 << i for i, c in enumerate(block) if "A" <= c <= "Z")]
    return out


def sf18(id15: str) -> str:
    return id15 + sf_checksum(id15)


class IdMaker:
    """18-character Salesforce ids with a correct checksum, unique even case-insensitively."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.seen: set[str] = set()

    def new(self, prefix: str) -> str:
        while True:
            body = prefix + "5g0000" + "".join(self.rnd.choice(_B62) for _ in range(6))
            if body.lower() not in self.seen:
                self.seen.add(body.lower())
                return sf18(body)


# ----------------------------------------------------------------- formats

def sf_dt(ts: dt.datetime | None) -> str:
    return "" if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sf_d(d: dt.date | None) -> str:
    return "" if d is None else d.isoformat()


def sf_b(flag: bool) -> str:
    return "true" if flag else "false"


def mc_dt(ts: dt.datetime | None) -> str:
    return "" if ts is None else ts.strftime("%Y-%m-%d %H:%M:%S")


def unix(ts: dt.datetime) -> int:
    return int(ts.replace(tzinfo=UTC).timestamp())


def csv_all_quoted(header: list[str], rows: list[list], encoding: str = "utf-8", bom: bool = False) -> bytes:
    """Salesforce style: every value double-quoted, CRLF record ends."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def csv_excel_sv(header: list[str], rows: list[list]) -> bytes:
    """Swedish Excel "CSV" save: cp1252, ';', CRLF, minimal quoting (bare LF inside quoted cells)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("cp1252")


def _mc_cell(value) -> str:
    text = "" if value is None else str(value)
    if any(ch in text for ch in ' ,"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_mailchimp(header: list[str], rows: list[list]) -> bytes:
    """Mailchimp audience export: minimal quoting (cells with spaces are quoted), UTF-8."""
    lines = [",".join(_mc_cell(h) for h in header)]
    lines += [",".join(_mc_cell(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def zip_bytes(members: list[tuple[str, bytes]], when: dt.datetime) -> bytes:
    """A ZIP with a fixed member date_time (deterministic)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as g:
        g.write(data)
    return buf.getvalue()


# ----------------------------------------------------------------- the plan's objects


@dataclass(eq=False)
class User:
    id: str
    first: str
    last: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(eq=False)
class Account:
    id: str
    name: str
    domain: str
    city: str
    industry: str
    created: dt.datetime
    type: str = "Prospect"


@dataclass(eq=False)
class Person:
    kind: str                      # "contact" | "lead"
    id: str
    first: str
    last: str
    email: str                     # as exported (may be blank, padded, odd case)
    lead_source: str
    created: dt.datetime
    account: Account | None = None
    company: str = ""
    title: str = ""
    phone: str = ""
    city: str = ""
    lawful_basis: str = ""
    flag_old: bool = False         # HasOptedOutOfEmail in the older CRM export
    flag_new: bool = False         # ... in the newer (judged) one
    state_old: str | None = "A"    # A = present, D = present with IsDeleted true, None = absent
    state_new: str | None = "A"
    converted_to: Person | None = None
    converted_on: dt.date | None = None
    description: str = ""
    tag: str = ""
    bulk: bool = True              # a filler that may receive bulk mail
    owner: User | None = None
    modified: dt.datetime | None = None

    def state(self, export: dt.date) -> str | None:
        return self.state_old if export == CRM_OLD else self.state_new

    def flag(self, export: dt.date) -> bool:
        return self.flag_old if export == CRM_OLD else self.flag_new

    @property
    def source_kind(self) -> str:
        return f"salesforce.{self.kind}"


@dataclass(eq=False)
class Task:
    id: str
    who: Person
    who_id: str                    # as exported (18 characters, or 15 for one planted row)
    subject: str
    date: dt.date
    subtype: str
    closed: bool
    deleted: bool
    created: dt.datetime
    description: str = ""
    what: str = ""


@dataclass(eq=False)
class Meeting:
    id: str
    who: Person
    subject: str
    start: dt.datetime
    minutes: int
    deleted: bool
    created: dt.datetime
    location: str = ""


@dataclass(eq=False)
class Opportunity:
    id: str
    account: Account
    name: str
    stage: str
    closed: bool
    won: bool
    close_date: dt.date
    last_activity: dt.date | None
    created: dt.datetime
    amount: int
    lead_source: str = ""
    deleted: bool = False


@dataclass(eq=False)
class ContactRole:
    id: str
    opp: Opportunity
    contact: Person
    role: str
    primary: bool
    deleted: bool
    created: dt.datetime


@dataclass(eq=False)
class HistoryRow:
    id: str
    contact: Person
    created: dt.datetime
    field: str
    datatype: str
    old: str
    new: str
    by: User
    deleted: bool = False


@dataclass(eq=False)
class Campaign:
    id: str
    name: str
    type: str
    status: str
    start: dt.date
    end: dt.date
    created: dt.datetime
    description: str = ""
    deleted: bool = False


@dataclass(eq=False)
class CampaignMember:
    id: str
    campaign: Campaign
    person: Person
    status: str
    responded: bool
    created: dt.datetime
    deleted: bool = False


@dataclass(eq=False)
class Member:
    """A Mailchimp audience member; the status in an export follows from the times."""

    email: str
    first: str
    last: str
    company: str
    optin: dt.datetime
    unsub: dt.datetime | None = None
    cleaned: dt.datetime | None = None
    unsub_reason: str = ""
    unsub_campaign: str = ""
    tags: list[str] = field(default_factory=list)
    rating: int = 2
    leid: int = 0
    euid: str = ""
    receives: bool = False         # gets the bulk newsletter while subscribed
    person: Person | None = None
    region: str = "AB"

    def status(self, export: dt.date) -> str | None:
        if self.optin.date() > export:
            return None
        if self.cleaned is not None and self.cleaned.date() <= export:
            return "cleaned"
        if self.unsub is not None and self.unsub.date() <= export:
            return "unsubscribed"
        return "subscribed"


@dataclass(eq=False)
class MailEvent:
    ts: dt.datetime
    event: str
    email: str
    category: object               # str, list of str, or None
    msg: str                       # message key (sg_message_id / smtp-id)
    extra: dict = field(default_factory=dict)
    sg_event_id: str = ""


@dataclass(eq=False)
class Request:
    received: dt.date
    channel: str
    name: str
    email: str
    type_label: str
    verified: dt.date | None = None
    method: str = ""
    extension: dt.date | None = None
    extension_reason: str = ""
    answered: dt.date | str | None = None
    closed: dt.date | None = None
    outcome: str = ""
    fee: str = ""
    handler: str = ""
    notes: str = ""
    crm_id: str = ""
    rid: str = ""


@dataclass(eq=False)
class LogLine:
    text: str
    ts: dt.datetime | None         # UTC; None for junk lines
    target: str = ""
    junk: bool = False


@dataclass
class Intent:
    rule: str
    ref: object                    # Person, Request, str ...
    flagged: bool
    why: str


# ----------------------------------------------------------------- name pools (data, not law)

FIRST = ["Anna", "Åsa", "Björn", "Göran", "Märta", "Ingrid", "Sören", "Håkan", "Jörgen", "Agnes", "Elin",
         "Linnéa", "André", "Karin", "Lars", "Per", "Maja", "Sofia", "Johan", "Erik", "Nils", "Olof",
         "Ulrika", "Kristina", "Lena", "Anders", "Emma", "Oskar", "Hugo", "Wilma", "Ebba", "Alva", "Saga",
         "Stig", "Bengt", "Gunnel", "Birgitta", "Mikael", "Fredrik", "Helén", "Renée", "Therése", "Mattias",
         "Kjell", "Tove", "Signe", "Axel", "Viktor", "Ylva", "Åke", "Örjan", "Östen", "Jöns", "Malin", "Sara",
         "Petra", "Henrik", "Magnus", "Camilla", "Jenny", "Tobias", "Rebecka", "Zoë", "Noél"]
LAST = ["Lindström", "Åkesson", "Öberg", "Sjögren", "Bäckström", "Hägglund", "Lövgren", "Ström", "Ekström",
        "Forsén", "Rosén", "Nordén", "Löfgren", "Sandén", "Wikström", "Engström", "Holmén", "Nyström",
        "Dahlén", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
        "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Hansson", "Bengtsson", "Jönsson",
        "Lindberg", "Magnusson", "Lindqvist", "Berglund", "Sjöberg", "Axelsson", "Lundgren", "Mattsson",
        "Fredriksson", "Sandberg", "Henriksson", "Forsberg", "Åström", "Holm", "Ek", "Nyberg", "Wallin",
        "Hedlund", "Söderberg", "Lundqvist", "Isaksson", "Blom", "Sundberg", "Björk", "Nordström",
        "Strand", "Engberg", "Håkansson", "Westerlund", "Öhman", "Grönlund", "Bergström", "Näslund"]
CITIES = [("Stockholm", "AB"), ("Göteborg", "O"), ("Malmö", "M"), ("Uppsala", "C"), ("Västerås", "U"),
          ("Örebro", "T"), ("Linköping", "E"), ("Umeå", "AC"), ("Luleå", "BD"), ("Jönköping", "F"),
          ("Norrköping", "E"), ("Lund", "M"), ("Gävle", "X"), ("Sundsvall", "Y"), ("Östersund", "Z"),
          ("Växjö", "G"), ("Karlstad", "S"), ("Skellefteå", "AC")]
TITLES = ["VD", "IT-chef", "CIO", "Inköpschef", "Säljchef", "Marknadschef", "Ekonomichef", "CTO",
          "Systemförvaltare", "Verksamhetsutvecklare", "Projektledare", "HR-chef", "Dataskyddsombud",
          "Utvecklingschef", "Driftansvarig", "Kundansvarig", "Informationssäkerhetsansvarig"]
INDUSTRIES = ["Technology", "Manufacturing", "Transportation", "Energy", "Healthcare", "Finance", "Retail",
              "Construction", "Media", "Government", "Education", "Utilities"]
COMPANY_A = ["Fjäll", "Norr", "Sol", "Berg", "Sjö", "Älv", "Skog", "Ljus", "Dal", "Vik", "Ek", "Hav", "Myr",
             "Sten", "Guld", "Kust", "Ren", "Björk", "Lo", "Ström", "Snö", "Tall", "Vind", "Mål"]
COMPANY_B = ["vind", "bygg", "data", "logistik", "konsult", "fastigheter", "system", "teknik", "energi",
             "media", "frakt", "vård", "finans", "handel", "byrån", "verken", "mekano", "skolan"]
PRIVATE_DOMAINS = ["hemmapost.se", "privatpost.se", "minmejl.se", "brevlada.nu"]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Sjögatan", "Skolgatan", "Järnvägsgatan", "Ågatan"]


USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
]
UNSUB_REASONS = ["I no longer want to receive these emails", "I never signed up for this mailing list",
                 "The emails are inappropriate", "Other (fill in reason below)", "N/A (Unsubscribed by an admin)"]


def _capwords(text: str) -> str:
    return " ".join(w.capitalize() for w in text.split(" "))


class Plan:
    """Everything the sample holds, built from the seed and the policy."""

    def __init__(self, policy: Policy, seed: int):
        self.p = policy
        self.seed = seed
        self.rnd = random.Random(seed)
        self.ids = IdMaker(random.Random(f"ids-{seed}"))
        self.wd = WorkingDays(policy)
        self.ws = add_months(AS_OF, -policy.retention_months)      # retention window start
        self.N = policy.notice_days
        self.users: list[User] = []
        self.accounts: list[Account] = []
        self.lead_companies: list[tuple[str, str, str]] = []       # name, domain, city
        self.people: list[Person] = []
        self.tasks: list[Task] = []
        self.meetings: list[Meeting] = []
        self.opps: list[Opportunity] = []
        self.roles: list[ContactRole] = []
        self.history: list[HistoryRow] = []
        self.campaigns: list[Campaign] = []
        self.cmembers: list[CampaignMember] = []
        self.members: list[Member] = []
        self.events: list[MailEvent] = []
        self.requests: list[Request] = []
        self.logs: dict[str, list[LogLine]] = {}
        self.subprocessors: list[dict] = []
        self.policy_text = ""
        self.intents: list[Intent] = []
        self.used_emails: set[str] = set()
        self.used_event_ids: set[str] = set()
        self.msg_no = 0
        self.newsletter_sends: list[dt.datetime] = []
        self.campaign_sends: list[tuple[dt.datetime, str]] = []

    # small helpers -----------------------------------------------------
    @staticmethod
    def at(d: dt.date, h: int = 9, m: int = 0, s: int = 0) -> dt.datetime:
        return dt.datetime(d.year, d.month, d.day, h, m, s)

    def expect(self, rule: str, ref, flagged: bool, why: str) -> None:
        self.intents.append(Intent(rule, ref, flagged, why))

    def rand_date(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rnd.randint(0, max(0, (end - start).days)))

    def rand_time(self, d: dt.date, h0: int = 7, h1: int = 16) -> dt.datetime:
        return self.at(d, self.rnd.randint(h0, h1), self.rnd.randint(0, 59), self.rnd.randint(0, 59))

    def src(self, origin: str, i: int, style: str = "title") -> str:
        """A LeadSource spelling derived from the policy's value list."""
        values = self.p.company_sources if origin == "company" else self.p.self_sources
        base = values[i % len(values)]
        if style == "title":
            return _capwords(base)
        if style == "lower":
            return base
        if style == "upper_pad":
            return " " + base.upper()
        if style == "double":
            return base.replace(" ", "  ", 1) if " " in base else base + "  "
        raise ValueError(style)

    def rand_src(self, origin: str) -> str:
        values = self.p.company_sources if origin == "company" else self.p.self_sources
        i = self.rnd.randrange(len(values))
        style = self.rnd.choices(["title", "lower", "double"], [8, 1, 1])[0]
        return self.src(origin, i, style)

    def phone(self) -> str:
        if self.rnd.random() < 0.6:
            r = self.rnd
            return f"+46 7{r.choice('0236')} {r.randint(100, 999)} {r.randint(10, 99)} {r.randint(10, 99)}"
        r = self.rnd
        return f"0{r.choice(['8', '31', '40', '90', '18'])}-{r.randint(100, 999)} {r.randint(10, 99)} {r.randint(10, 99)}"

    def make_email(self, first: str, last: str, domain: str, style: str | None = None) -> str:
        style = style or self.rnd.choices(["lower", "cap", "initial"], [7, 2, 1])[0]
        f = ascii_fold(first).replace(" ", "").replace("é", "e")
        l_ = ascii_fold(last).replace(" ", "")
        for n in range(1, 50):
            suffix = "" if n == 1 else str(n)
            if style == "cap":
                local = f"{f}.{l_}{suffix}"
            elif style == "initial":
                local = f"{f[0]}{l_}{suffix}".lower()
            else:
                local = f"{f}.{l_}{suffix}".lower()
            email = f"{local}@{domain}"
            if email.lower() not in self.used_emails:
                self.used_emails.add(email.lower())
                return email
        raise RuntimeError("no free e-mail address")

    def claim(self, email: str) -> str:
        self.used_emails.add(email.strip(_WS).lower())
        return email

    # users and accounts ------------------------------------------------
    def build_users(self) -> None:
        for first, last in [("Åsa", "Lindqvist"), ("Göran", "Sjöberg"), ("Maria", "Ek"), ("Jonas", "Öhman"),
                            ("Integration", "Användare")]:
            self.users.append(User(self.ids.new("005"), first, last))
        self.sales = self.users[1:4]
        self.dpo = self.users[0]
        self.integration = self.users[4]

    def build_accounts(self, n: int = 48) -> None:
        names: set[str] = set()
        while len(self.accounts) < n:
            a, b = self.rnd.choice(COMPANY_A), self.rnd.choice(COMPANY_B)
            name = f"{a}{b}"
            if name in names:
                continue
            names.add(name)
            city, _ = self.rnd.choice(CITIES)
            domain = ascii_fold(name).lower() + ".se"
            created = self.rand_time(self.rand_date(dt.date(2019, 1, 10), dt.date(2025, 6, 30)))
            acc = Account(self.ids.new("001"), f"{name} AB", domain, city, self.rnd.choice(INDUSTRIES), created,
                          self.rnd.choice(["Prospect", "Prospect", "Customer - Direct", "Customer - Channel"]))
            self.accounts.append(acc)
        # leads' companies: not (yet) accounts
        while len(self.lead_companies) < 40:
            a, b = self.rnd.choice(COMPANY_A), self.rnd.choice(COMPANY_B)
            name = f"{a}{b}"
            if name in names:
                continue
            names.add(name)
            self.lead_companies.append((f"{name} AB", ascii_fold(name).lower() + ".se", self.rnd.choice(CITIES)[0]))

    # people ------------------------------------------------------------
    def person(self, kind: str, lead_source: str, created: dt.datetime, *, first: str | None = None,
               last: str | None = None, email: str | None = None, email_style: str | None = None,
               account: Account | None = None, tag: str = "", bulk: bool = False, state_old: str | None = "A",
               state_new: str | None = "A", flag_old: bool = False, flag_new: bool = False,
               basis: str | None = None, title: str | None = None, description: str = "") -> Person:
        first = first or self.rnd.choice(FIRST)
        last = last or self.rnd.choice(LAST)
        company = ""
        if kind == "contact":
            account = account or self.rnd.choice(self.accounts)
            domain, city = account.domain, account.city
        else:
            company, domain, city = self.rnd.choice(self.lead_companies)
        if email is None:
            email = self.make_email(first, last, domain, email_style)
        if created.date() > CRM_OLD:
            state_old = None
        if basis is None:
            basis = self.rnd.choice(NON_CONSENT_BASES + ["", ""])
        pid = self.ids.new("003" if kind == "contact" else "00Q")
        p = Person(kind, pid, first, last, email, lead_source, created, account if kind == "contact" else None,
                   company, title if title is not None else self.rnd.choice(TITLES), self.phone(), city, basis,
                   flag_old, flag_new, state_old, state_new, description=description, tag=tag, bulk=bulk,
                   owner=self.rnd.choice(self.sales))
        self.people.append(p)
        return p

    # activities --------------------------------------------------------
    def task(self, who: Person, date: dt.date, subtype: str, *, closed: bool = True, deleted: bool = False,
             created: dt.datetime | None = None, who_id: str | None = None, subject: str | None = None) -> Task:
        if created is None:
            back = 0 if closed else self.rnd.randint(3, 14)
            created = self.rand_time(date - dt.timedelta(days=back), 8, 15)
            if created.date() < who.created.date():
                created = who.created + dt.timedelta(hours=1)
        if subject is None:
            subject = {
                SUB_CALL: ["Samtal: behovsanalys", "Samtal: uppföljning av offert", "Samtal – demo-bokning",
                           "Samtal: förnyelse av avtal"],
                SUB_EMAIL: ["E-post: offert Nordlys Insyn", "E-post: svar på fråga om integration",
                            "E-post: prisförslag"],
                SUB_TASK: ["Skicka avtalsförslag", "Boka demo", "Förbered offert", "Uppföljning efter mässa"],
            }.get(subtype, ["Massutskick: nyhetsbrev"])
            subject = self.rnd.choice(subject)
        t = Task(self.ids.new("00T"), who, who_id or who.id, subject, date, subtype, closed, deleted, created)
        self.tasks.append(t)
        return t

    def list_email(self, who: Person, date: dt.date) -> Task:
        label = self.p.non_dialogue_subtypes[0]
        return self.task(who, date, label, subject=f"Massutskick: Nyhetsbrev {date:%Y-%m}",
                         created=self.at(date, 7, 30))

    def meeting(self, who: Person, start: dt.datetime, *, deleted: bool = False,
                created: dt.datetime | None = None, subject: str | None = None) -> Meeting:
        created = created or (start - dt.timedelta(days=self.rnd.randint(2, 20), hours=2))
        if created < who.created:
            created = who.created + dt.timedelta(hours=1)
        m = Meeting(self.ids.new("00U"), who, subject or self.rnd.choice(
            ["Demo av Nordlys Insyn", "Uppstartsmöte", "Avtalsgenomgång", "Behovsanalys", "Lunchmöte"]),
            start, self.rnd.choice([30, 45, 60, 90]), deleted, created,
            self.rnd.choice(["Microsoft Teams", "Kundens kontor", "Nordlys kontor, Umeå", "Google Meet"]))
        self.meetings.append(m)
        return m

    def opportunity(self, account: Account, created: dt.datetime, stage: str, close_date: dt.date,
                    last_activity: dt.date | None, *, name: str | None = None) -> Opportunity:
        closed = stage.startswith("Closed")
        product = self.rnd.choice(["Insyn CRM", "Insyn Portal", "Licensförnyelse", "Integration", "Utbildning"])
        o = Opportunity(self.ids.new("006"), account, name or f"{account.name} – {product}",
                        stage, closed, stage == "Closed Won", close_date, last_activity, created,
                        self.rnd.choice([45000, 90000, 120000, 250000, 480000, 36000]))
        self.opps.append(o)
        return o

    def role(self, opp: Opportunity, contact: Person, *, deleted: bool = False, primary: bool = True) -> ContactRole:
        created = max(opp.created, contact.created) + dt.timedelta(hours=2)
        r = ContactRole(self.ids.new("00K"), opp, contact, self.rnd.choice(
            ["Decision Maker", "Economic Buyer", "Technical Buyer", "Evaluator", "Influencer"]), primary, deleted,
            created)
        self.roles.append(r)
        return r

    def hist(self, contact: Person, ts: dt.datetime, fld: str, datatype: str, old: str, new: str,
             by: User | None = None) -> HistoryRow:
        h = HistoryRow(self.ids.new("017"), contact, ts, fld, datatype, old, new, by or self.integration,
                       deleted=contact.state_new == "D")
        self.history.append(h)
        return h

    def optout_history(self, contact: Person, ts: dt.datetime, by: User | None = None) -> HistoryRow:
        return self.hist(contact, ts, self.p.history_field, "Boolean", "false", self.p.history_true_values[0], by)

    # e-mail events -----------------------------------------------------
    def event_id(self) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        while True:
            e = "".join(self.rnd.choice(alphabet) for _ in range(22))
            if e not in self.used_event_ids:
                self.used_event_ids.add(e)
                return e

    def category(self, base: str, ts: dt.datetime):
        """Older dumps carry the category as a string, newer ones mostly as a list."""
        if ts.year <= 2025 or base == self.p.transactional:
            return base
        if base in self.p.marketing_categories:
            return [base, f"{base}-{ts:%Y-%m}"]
        return [base]

    def _event(self, email: str, ts: dt.datetime, event: str, base: str | None, msg: str, *,
               sg_event_id: str | None = None, **extra) -> MailEvent:
        if ts.date() > LATEST_EVENT_DAY:
            raise ValueError(f"e-mail event after the latest event day: {ts}")
        cat = None if base is None else self.category(base, ts)
        if base in self.p.marketing_categories and event not in (EV_OPEN, EV_CLICK):
            extra.setdefault("asm_group_id", 21870)
            extra.setdefault("marketing_campaign_name", f"{'Nyhetsbrev' if base == self.p.newsletter else 'Kampanj'} {ts:%Y-%m}")
        if sg_event_id is not None:                 # hand-chosen (the demo person): no random draw
            if sg_event_id in self.used_event_ids:
                raise ValueError(f"sg_event_id used twice: {sg_event_id}")
            self.used_event_ids.add(sg_event_id)
        ev = MailEvent(ts, event, email, cat, msg, extra, sg_event_id or self.event_id())
        self.events.append(ev)
        return ev

    def mail(self, email: str, ts: dt.datetime, base: str, outcome: str | None = None) -> str:
        """One message: processed, then delivered (or bounce/dropped/deferred+delivered) at ts."""
        outcome = outcome or self.p.delivered
        self.msg_no += 1
        msg = f"{self.rnd.getrandbits(56):014x}.{self.msg_no:05d}"
        if outcome == EV_DROPPED:
            self._event(email, ts, EV_DROPPED, base, msg, reason="Unsubscribed Address")
            return msg
        if outcome == "dropped_bounced":
            self._event(email, ts, EV_DROPPED, base, msg, reason="Bounced Address")
            return msg
        lead_time = dt.timedelta(seconds=self.rnd.randint(2, 9))
        if outcome == EV_DEFERRED:
            lead_time += dt.timedelta(minutes=self.rnd.randint(10, 50))
        self._event(email, ts - lead_time, EV_PROCESSED, base, msg)
        if outcome == EV_BOUNCE:
            self._event(email, ts, EV_BOUNCE, base, msg, reason="550 5.1.1 The email account that you tried to reach does not exist.",
                        status="5.1.1", type="bounce", bounce_classification="Invalid Address")
        elif outcome == EV_DEFERRED:
            self._event(email, ts - lead_time + dt.timedelta(seconds=2), EV_DEFERRED, base, msg,
                        response="450 4.2.1 Mailbox temporarily unavailable", attempt="1")
            self._event(email, ts, self.p.delivered, base, msg, response="250 2.0.0 OK",
                        ip=f"149.72.{self.rnd.randint(1, 254)}.{self.rnd.randint(1, 254)}", tls=1)
        elif outcome == self.p.delivered:
            self._event(email, ts, self.p.delivered, base, msg, response="250 2.0.0 OK",
                        ip=f"149.72.{self.rnd.randint(1, 254)}.{self.rnd.randint(1, 254)}", tls=1)
        else:
            raise ValueError(outcome)
        return msg

    def engage(self, email: str, ts: dt.datetime, event: str, base: str | None, msg: str) -> MailEvent:
        extra = {}
        if event in (EV_OPEN, EV_CLICK) or event in self.p.group_optout_events + self.p.group_resubscribe_events \
                or event == self.p.unsubscribe:
            extra["useragent"] = self.rnd.choice(USER_AGENTS)
            extra["ip"] = f"{self.rnd.choice(['81.224', '90.230', '2.64', '78.69'])}.{self.rnd.randint(1, 254)}.{self.rnd.randint(1, 254)}"
        if event == EV_OPEN:
            extra["sg_machine_open"] = False
        if event == EV_CLICK:
            extra["url"] = self.rnd.choice(["https://www.nordlys.se/blogg/gdpr-i-crm", "https://www.nordlys.se/webbinar",
                                            "https://www.nordlys.se/produkter/insyn-crm"])
        if event in self.p.group_optout_events + self.p.group_resubscribe_events:
            extra["asm_group_id"] = 21870
        return self._event(email, ts, event, base, msg, **extra)

    def newsletter_at(self, day: dt.date) -> dt.datetime:
        for ts in self.newsletter_sends:
            if ts.date() == day:
                return ts
        raise KeyError(day)

    def nl(self, email: str, day: dt.date, outcome: str | None = None, ts: dt.datetime | None = None) -> str:
        """The newsletter of that day to one address (explicit, for planted cases)."""
        ts = ts or (self.newsletter_at(day) + dt.timedelta(seconds=self.rnd.randint(300, 900)))
        return self.mail(email, ts, self.p.newsletter, outcome)

    def member(self, email: str, first: str, last: str, company: str, optin: dt.datetime, *,
               unsub: dt.datetime | None = None, cleaned: dt.datetime | None = None, receives: bool = False,
               person: Person | None = None, tags: list[str] | None = None, reason: str | None = None) -> Member:
        m = Member(email, first, last, company, optin, unsub, cleaned, tags=tags if tags is not None else
                   self.rnd.choice([["Nyhetsbrev"], ["Nyhetsbrev", "Kund"], ["Webbinar"], [], ["Prospekt"]]),
                   rating=self.rnd.randint(1, 5), leid=self.rnd.randint(10_000_000, 99_999_999),
                   euid=f"{self.rnd.getrandbits(40):010x}", receives=receives, person=person,
                   region=self.rnd.choice(CITIES)[1])
        if unsub is not None:
            m.unsub_reason = reason or self.rnd.choice(UNSUB_REASONS)
            m.unsub_campaign = f"Nyhetsbrev {unsub:%Y-%m}"
        self.members.append(m)
        return m


    # the mailing calendar ----------------------------------------------
    def build_schedule(self) -> None:
        days = ["2024-04-11", "2024-09-12", "2024-11-14", "2025-03-13", "2025-06-12", "2025-09-11", "2025-11-13",
                "2026-01-15", "2026-02-12", "2026-03-12", "2026-04-16", "2026-05-14", "2026-06-11",
                "2026-08-20", "2026-09-17", "2026-10-15", "2026-11-12"]
        self.newsletter_sends = [self.at(dt.date.fromisoformat(d), 7) for d in days]
        self.campaign_sends = [(self.at(dt.date(2025, 10, 2), 8, 30), "Höstwebbinar 2025"),
                               (self.at(dt.date(2026, 4, 23), 8, 30), "Vårkampanj 2026")]

    # planted CRM cases -------------------------------------------------
    def company_person(self, kind: str, created: dt.datetime, i: int, style: str, tag: str, *,
                       notice_mail: bool = True, **kw) -> Person:
        """A company-initiated record; by default it got its first notice two days after creation."""
        x = self.person(kind, self.src("company", i, style), created, tag=tag, **kw)
        if notice_mail:
            self.mail(email_key(x.email), self.rand_time(created.date() + dt.timedelta(days=2), 8, 11), self.p.art14)
        return x

    def self_person(self, kind: str, created: dt.datetime, i: int, tag: str, style: str = "title", **kw) -> Person:
        return self.person(kind, self.src("self", i, style), created, tag=tag, **kw)

    def plant_retention(self) -> None:
        D = dt.timedelta
        ws, R = self.ws, "retention.inactive_company_initiated"
        c = self.company_person("contact", self.at(ws - D(560), 10, 12), 0, "title", "RS1")
        old = self.task(c, ws - D(167), SUB_CALL)
        self.expect(R, c, True, f"last dialogue {old.date}, before the window")
        self.rs2 = self.company_person("lead", self.at(ws - D(447), 13, 40), 2, "upper_pad", "RS2")
        self.expect(R, self.rs2, True, "only a recent campaign membership (not dialogue)")
        c = self.company_person("contact", self.at(ws - D(286), 8, 55), 0, "double", "RS3")
        self.list_email(c, CRM_NEW - D(39))
        self.list_email(c, ws - D(20))
        self.expect(R, c, True, "only ListEmail tasks in the window (LastActivityDate is recent)")
        c = self.company_person("contact", self.at(ws - D(369), 15, 2), 1, "title", "RS4")
        self.task(c, CRM_NEW - D(24), SUB_TASK, closed=False, created=self.at(CRM_NEW - D(44), 9, 20))
        self.expect(R, c, True, "only an open task in the window")
        c = self.company_person("lead", self.at(ws - D(266), 10, 30), 3, "title", "RS5")
        self.task(c, ws + D(200), SUB_CALL, deleted=True)
        self.expect(R, c, True, "only a deleted call in the window")
        c = self.company_person("contact", self.at(ws - D(524), 11, 11), 0, "title", "RS6")
        self.meeting(c, self.at(CRM_NEW + D(7), 9), created=self.at(CRM_OLD - D(4), 14, 3),
                     subject="Demo av Nordlys Insyn (planerad)")
        self.expect(R, c, True, f"only a meeting planned for {CRM_NEW + D(7)}, after the export day")
        c = self.company_person("contact", self.at(ws - D(230), 9, 45), 3, "lower", "RS7")
        self.meeting(c, self.at(CRM_NEW + D(1), 13), created=self.at(CRM_NEW - D(5), 10, 0),
                     subject="Uppföljningsmöte (planerat)")
        self.expect(R, c, True, f"only a meeting dated {CRM_NEW + D(1)}: in the window but after the export day")
        c = self.company_person("contact", self.at(ws - D(1), 23, 30), 0, "double", "RS8")
        self.expect(R, c, True, "boundary: created 23:30 UTC the day before the window start")
        c = self.company_person("contact", self.at(ws - D(400), 14, 0), 2, "title", "RS9")
        o = self.opportunity(c.account, self.at(ws + D(120), 10), "Proposal/Price Quote", CRM_NEW + D(40),
                             CRM_NEW - D(20))
        self.role(o, c, deleted=True)
        self.expect(R, c, True, "recent opportunity linked only through a deleted OpportunityContactRole")
        c = self.company_person("contact", self.at(ws - D(300), 9, 5), 0, "title", "RS10")
        o = self.opportunity(c.account, self.at(ws - D(200), 10), "Needs Analysis", ws + D(218), ws - D(115))
        self.role(o, c)
        self.expect(R, c, True, "open opportunity: its CloseDate in the window does not count until closed")

        # not flagged
        c = self.company_person("contact", self.at(ws - D(420), 10, 0), 0, "title", "RN1")
        self.task(c, ws, SUB_EMAIL)
        self.expect(R, c, False, "boundary: a closed e-mail task exactly on the window start")
        c = self.company_person("contact", self.at(ws - D(500), 13, 0), 2, "title", "RN2")
        o = self.opportunity(c.account, self.at(ws - D(300), 11), "Negotiation/Review", CRM_NEW + D(25),
                             CRM_NEW - D(81))
        self.role(o, c)
        self.expect(R, c, False, "opportunity linked by a contact role with recent LastActivityDate")
        c = self.self_person("contact", self.at(dt.date(2022, 3, 15), 10), 0, "RN3")
        self.expect(R, c, False, "self-initiated (old, no activity)")
        c = self.self_person("lead", self.at(dt.date(2023, 9, 12), 14), 2, "RN3b", style="lower")
        self.expect(R, c, False, "self-initiated lead (old, no activity)")
        c = self.company_person("contact", self.at(ws, 8, 0), 0, "title", "RN4")
        self.expect(R, c, False, "boundary: created exactly on the window start (must be created before it)")
        # a converted company-initiated lead and the contact it became
        lc = self.at(ws - D(643), 9, 30)
        conv = self.person("contact", self.src("company", 2, "title"), lc + D(days=14), tag="RN5c")
        self.mail(email_key(conv.email), self.at(conv.created.date() + D(9), 8, 31), self.p.campaign)
        o = self.opportunity(conv.account, self.at(ws - D(100), 10), "Closed Won", ws + D(60), ws + D(60))
        self.role(o, conv)
        lead = self.person("lead", conv.lead_source, lc, first=conv.first, last=conv.last, email=conv.email,
                           tag="RN5")
        lead.company = conv.account.name
        lead.converted_to, lead.converted_on = conv, conv.created.date()
        self.mail(email_key(lead.email), self.at(lc.date() + D(3), 9, 2), self.p.art14)
        self.expect(R, lead, False, "converted lead (not in the person population)")
        c = self.company_person("contact", self.at(ws - D(450), 12, 0), 3, "title", "RN6", state_new="D")
        self.expect(R, c, False, "stale, but deleted (IsDeleted) in the judged export")
        c = self.company_person("contact", self.at(ws - D(380), 10, 20), 0, "title", "RN7")
        self.task(c, ws + D(140), SUB_CALL, who_id=c.id[:15])
        self.expect(R, c, False, "closed call in the window whose WhoId is the 15-character id")
        c = self.company_person("contact", self.at(ws - D(330), 9, 0), 1, "title", "RN8")
        self.task(c, CRM_NEW, SUB_TASK, created=self.at(CRM_NEW, 10, 5), subject="Skicka avtalsförslag")
        self.expect(R, c, False, "boundary: closed task dated the export day")
        c = self.company_person("contact", self.at(ws - D(390), 15, 30), 0, "title", "RN9")
        o = self.opportunity(c.account, self.at(ws - D(268), 9), "Closed Won", ws + D(95), ws - D(176))
        self.role(o, c)
        self.expect(R, c, False, "closed opportunity with CloseDate in the window")
        c = self.company_person("lead", self.at(ws - D(200), 11, 0), 3, "title", "RN10")
        self.meeting(c, self.at(ws + D(114), 10))
        self.expect(R, c, False, "meeting held in the window")
        c = self.company_person("contact", self.at(ws - D(600), 10, 0), 2, "title", "RN11", state_new=None)
        self.expect(R, c, False, "stale in the older export, absent from the judged one (deleted since)")

    def plant_notice(self) -> None:
        D = dt.timedelta
        ws, N, LE = self.ws, self.N, LATEST_EVENT_DAY
        late, missing = "notice.first_mailing_late", "notice.first_mailing_missing"
        art = self.p.art14

        def pdate(ts: dt.datetime) -> dt.date:
            return ts.replace(tzinfo=UTC).astimezone(self.p.date_zone).date()

        c = self.company_person("contact", self.at(ws + D(98), 10), 0, "title", "NC1", notice_mail=False)
        self.mail(email_key(c.email), self.at(pdate(c.created) + D(N), 9, 12), art)
        self.expect(late, c, False, f"boundary: first delivered mailing exactly {N} days after CreatedDate")
        c = self.company_person("contact", self.at(ws + D(141), 11), 1, "title", "NC2", notice_mail=False)
        self.mail(email_key(c.email), self.at(pdate(c.created) + D(N + 1), 9, 40), art)
        self.expect(late, c, True, f"first delivered mailing {N + 1} days after CreatedDate")
        c = self.company_person("lead", self.at(ws + D(77), 14), 2, "title", "NC3", notice_mail=False)
        ts, _ = self.campaign_sends[1]
        self.mail(email_key(c.email), ts + D(seconds=412), self.p.campaign)
        self.expect(late, c, True, f"first delivered mailing is a campaign {(ts.date() - c.created.date()).days} days after CreatedDate")
        c = self.company_person("lead", self.at(ws + D(177), 10), 0, "title", "NC4", notice_mail=False)
        self.mail(email_key(c.email), self.at(c.created.date() + D(2), 9, 3), art, EV_BOUNCE)
        self.mail(email_key(c.email), self.at(c.created.date() + D(9), 9, 3), art, "dropped_bounced")
        self.expect(missing, c, True, "only processed, bounce and dropped events (never delivered)")
        c = self.company_person("contact", self.at(ws + D(196), 13), 0, "title", "NC5", notice_mail=False,
                                email_style="cap")
        self.mail(c.email.lower(), self.at(c.created.date() + D(4), 8, 20), art)
        self.expect(late, c, False, "delivered to the address in another letter case (counts)")
        self.expect(missing, c, False, "delivered to the address in another letter case (counts)")
        c = self.company_person("contact", self.at(ws + D(224), 9), 3, "title", "NC6", notice_mail=False)
        self.mail(email_key(c.email), self.at(c.created.date() + D(1), 10, 0), self.p.transactional)
        self.expect(missing, c, True, "only transactional mail delivered")
        c = self.company_person("contact", self.at(ws + D(56), 15), 0, "title", "NC7", notice_mail=False, email="")
        self.expect(missing, c, True, "no e-mail address: cannot have been informed")
        self.expect("quality.blank_email", c, True, "blank e-mail")
        c = self.company_person("contact", self.at(AS_OF - D(N), 11), 0, "title", "NC8", notice_mail=False)
        self.expect(missing, c, False, f"not judged: its {N} days end {AS_OF}, after the latest event date {LE}")
        c = self.company_person("lead", self.at(AS_OF - D(14), 9), 1, "title", "NC9", notice_mail=False)
        self.expect(missing, c, False, f"not judged: created fewer than {N} days before as-of")
        c = self.company_person("contact", self.at(LE - D(N), 10), 2, "title", "NC10", notice_mail=False)
        self.mail(email_key(c.email), self.at(LE, 9, 5), art)
        self.expect(late, c, False, f"boundary: delivered on day {N}, the latest event date")
        c = self.company_person("lead", self.at(LE - D(N), 15), 0, "title", "NC11", notice_mail=False)
        self.expect(missing, c, True, f"judged: its {N} days end exactly on the latest event date, no mailing")
        first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
        acc = self.rnd.choice(self.accounts)
        addr = self.make_email(first, last, acc.domain, "lower")
        c = self.company_person("contact", self.at(ws + D(252), 10), 0, "title", "NC12", notice_mail=False,
                                first=first, last=last, account=acc, email=f" \u00a0{addr}  ")
        self.mail(addr, self.at(c.created.date() + D(2), 9, 0), art)
        self.expect(missing, c, False, "e-mail with surrounding (non-breaking) spaces matches when trimmed")
        c = self.company_person("contact", self.at(ws + D(281), 10), 3, "title", "NC14", notice_mail=False)
        ts = self.at(c.created.date() + D(N), 23, 30)
        self.mail(email_key(c.email), ts, art)
        self.expect(late, c, (pdate(ts) - pdate(c.created)).days > N,
                    f"boundary: delivered 23:30 UTC on day {N} (day {N + 1} in Stockholm); dates are UTC")

    def plant_optout(self) -> None:
        D = dt.timedelta
        M, S = "optout.marketing_after_optout", "optout.not_synced"
        nd = dt.date.fromisoformat
        p = self.p

        def mc_only(tag: str, optin: dt.date, **kw) -> tuple[str, Member]:
            first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
            domain = self.rnd.choice(PRIVATE_DOMAINS + [a.domain for a in self.accounts[:10]])
            email = self.make_email(first, last, domain, "lower")
            m = self.member(email, first, last, "", self.rand_time(optin), **kw)
            return email, m

        # OA: ESP unsubscribe, then a newsletter delivered
        c = self.self_person("contact", self.at(dt.date(2024, 5, 7), 10), 2, "OA", flag_old=True, flag_new=True)
        a = email_key(c.email)
        msg = self.nl(a, nd("2026-01-15"))
        self.engage(a, self.newsletter_at(nd("2026-01-15")) + D(hours=3, seconds=17), p.unsubscribe, p.newsletter, msg)
        self.nl(a, nd("2026-02-12"))
        self.expect(M, a, True, "newsletter delivered after an ESP unsubscribe")
        # OB: spam report, then a campaign delivered
        c = self.self_person("lead", self.at(dt.date(2024, 11, 20), 13), 1, "OB", flag_old=True, flag_new=True)
        a = email_key(c.email)
        msg = self.nl(a, nd("2025-09-11"))
        self.engage(a, self.newsletter_at(nd("2025-09-11")) + D(hours=5, minutes=2), p.spamreport, p.newsletter, msg)
        self.mail(a, self.campaign_sends[0][0] + D(seconds=95), p.campaign)
        self.expect(M, a, True, "campaign delivered after a spam report")
        # OC: group unsubscribe without resubscribe
        a, _ = mc_only("OC", nd("2025-02-01"))
        msg = self.nl(a, nd("2026-04-16"))
        self.engage(a, self.newsletter_at(nd("2026-04-16")) + D(hours=2, seconds=41), p.group_unsubscribe, p.newsletter, msg)
        self.nl(a, nd("2026-05-14"))
        self.expect(M, a, True, "newsletter delivered after a group_unsubscribe (no resubscribe)")
        # OD: group unsubscribe, then resubscribe, then newsletters
        a, _ = mc_only("OD", nd("2025-05-10"))
        msg = self.nl(a, nd("2026-03-12"))
        self.engage(a, self.newsletter_at(nd("2026-03-12")) + D(hours=1, seconds=5), p.group_unsubscribe, p.newsletter, msg)
        self.engage(a, self.at(nd("2026-04-02"), 8, 30), p.group_resubscribe, None, msg)
        self.nl(a, nd("2026-04-16"))
        self.nl(a, nd("2026-05-14"))
        self.expect(M, a, False, "group_unsubscribe followed by group_resubscribe before the next newsletters")
        # OE: Mailchimp UNSUB_TIME, then a newsletter delivered through the ESP
        unsub = dt.datetime(2026, 7, 2, 14, 5, 11)
        a, _ = mc_only("OE", nd("2025-08-01"), unsub=unsub, reason=UNSUB_REASONS[0])
        self.nl(a, nd("2026-06-11"))
        self.nl(a, nd("2026-08-20"))
        self.expect(M, a, True, f"newsletter delivered after the Mailchimp UNSUB_TIME {unsub}")
        # OF: CRM opt-out dated by ContactHistory
        c = self.self_person("contact", self.at(dt.date(2023, 11, 2), 9), 4, "OF", flag_old=True, flag_new=True)
        when = self.at(nd("2026-04-02"), 9, 30)
        self.optout_history(c, when, by=self.sales[0])
        a = email_key(c.email)
        self.nl(a, nd("2026-03-12"))
        self.nl(a, nd("2026-05-14"))
        self.expect(M, a, True, f"newsletter delivered after the CRM opt-out of {when} (ContactHistory)")
        # OG: unsubscribe, later newsletter dropped
        t = self.at(nd("2026-05-14"), 9, 40)
        a, _ = mc_only("OG", nd("2025-03-03"), unsub=t, reason=UNSUB_REASONS[1])
        msg = self.nl(a, nd("2026-05-14"))
        self.engage(a, t, p.unsubscribe, p.newsletter, msg)
        self.nl(a, nd("2026-06-11"), EV_DROPPED)
        self.expect(M, a, False, "after the opt-out the newsletter was dropped (suppression worked)")
        # OH: unsubscribe, later only transactional mail
        c = self.self_person("contact", self.at(dt.date(2024, 8, 19), 11), 3, "OH", flag_old=True, flag_new=True)
        a = email_key(c.email)
        msg = self.nl(a, nd("2026-02-12"))
        self.engage(a, self.at(nd("2026-02-12"), 10, 0), p.unsubscribe, p.newsletter, msg)
        self.mail(a, self.at(nd("2026-03-05"), 14, 12), p.transactional)
        self.expect(M, a, False, "only transactional mail after the opt-out")
        # OI: delivered in the same second as the opt-out
        t = dt.datetime(2026, 9, 17, 7, 0, 7)
        a, _ = mc_only("OI", nd("2024-09-20"), unsub=t, reason=UNSUB_REASONS[3])
        msg = self.nl(a, nd("2026-08-20"))
        self.engage(a, t, p.unsubscribe, p.newsletter, msg)
        self.nl(a, nd("2026-09-17"), ts=t)
        self.nl(a, nd("2026-10-15"), EV_DROPPED)
        self.expect(M, a, False, "boundary: delivered in the same second as the opt-out (strictly after is required)")
        # OJ: CRM lead opted out (no history: no time), still subscribed in Mailchimp
        c = self.self_person("lead", self.at(dt.date(2025, 2, 20), 10), 2, "OJ", style="lower",
                             flag_old=True, flag_new=True)
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.company, self.at(nd("2025-03-01"), 12), person=c)
        self.nl(a, nd("2026-10-15"))
        self.expect(M, a, False, "CRM opt-out without a history row has no time")
        self.expect(S, a, True, "opted out in the CRM (lead) but subscribed in Mailchimp")
        # OK: deleted contact with an opt-out history row
        c = self.self_person("contact", self.at(dt.date(2024, 1, 29), 10), 0, "OK", state_old="D", state_new="D",
                             flag_old=True, flag_new=True)
        self.optout_history(c, self.at(nd("2026-02-10"), 10), by=self.sales[1])
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.account.name, self.at(nd("2024-10-01"), 9), person=c)
        self.nl(a, nd("2026-03-12"))
        self.expect(M, a, False, "the opted-out contact is deleted in the judged export")
        self.expect(S, a, False, "the opted-out contact is deleted (not in the person population)")
        # NS1: CRM opt-out after the last newsletter, still subscribed in Mailchimp
        c = self.self_person("contact", self.at(dt.date(2025, 3, 14), 10), 2, "NS1", flag_new=True)
        when = self.at(nd("2026-11-18"), 13, 20)
        self.optout_history(c, when, by=self.sales[2])
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.account.name, self.at(nd("2025-04-01"), 8), person=c)
        self.nl(a, nd("2026-11-12"))
        self.expect(S, a, True, f"CRM opt-out {when} not synced: still subscribed in Mailchimp")
        self.expect(M, a, False, "last marketing mailing before the CRM opt-out")
        # NS3: unsubscribed in Mailchimp, contact not opted out
        c = self.self_person("contact", self.at(dt.date(2024, 12, 2), 10), 3, "NS3")
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.account.name, self.at(nd("2025-01-20"), 8),
                    unsub=dt.datetime(2026, 7, 1, 10, 22, 5), person=c)
        self.nl(a, nd("2026-06-11"))
        self.expect(S, a, True, "unsubscribed in Mailchimp, CRM contact not opted out")
        # NS4: unsubscribed in Mailchimp, lead (other letter case) not opted out
        c = self.self_person("lead", self.at(dt.date(2025, 6, 4), 10), 0, "NS4", email_style="cap")
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.company, self.at(nd("2025-06-05"), 8),
                    unsub=dt.datetime(2026, 3, 20, 16, 45, 0), person=c)
        self.expect(S, a, True, "unsubscribed in Mailchimp, CRM lead (address in another case) not opted out")
        # NSn1: unsubscribed in Mailchimp, CRM contact deleted
        c = self.self_person("contact", self.at(dt.date(2024, 4, 9), 10), 1, "NSn1", state_old="D", state_new="D")
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.account.name, self.at(nd("2024-05-01"), 8),
                    unsub=dt.datetime(2026, 5, 5, 19, 1, 44), person=c)
        self.expect(S, a, False, "the CRM record not opted out is deleted")
        # NSn2: unsubscribed in Mailchimp; contact opted out, its converted lead not
        c = self.self_person("contact", self.at(dt.date(2025, 1, 13), 10), 3, "NSn2", flag_old=True, flag_new=True)
        unsub = dt.datetime(2025, 11, 3, 12, 0, 0)
        self.optout_history(c, unsub + D(minutes=5))
        lead = self.person("lead", c.lead_source, c.created - D(days=20), first=c.first, last=c.last,
                           email=c.email, tag="NSn2-lead")
        lead.company = c.account.name
        lead.converted_to, lead.converted_on = c, c.created.date()
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.account.name, self.at(nd("2025-02-01"), 8), unsub=unsub, person=c)
        self.expect(S, a, False, "the CRM record not opted out is a converted lead; the contact is opted out")

    def plant_erasure_people(self) -> None:
        nd = dt.date.fromisoformat
        self.erase: dict[str, object] = {}
        self.erase["E1"] = self.self_person("contact", self.at(dt.date(2023, 5, 22), 10), 4, "E1")
        first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
        email = self.make_email(first, last, self.rnd.choice(PRIVATE_DOMAINS), "lower")
        m = self.member(email, first, last, "", self.at(nd("2024-06-01"), 9), unsub=self.at(nd("2026-08-25"), 10),
                        reason=UNSUB_REASONS[4])
        self.nl(email, nd("2026-06-11"))
        self.nl(email, nd("2026-08-20"))
        self.erase["E2"] = m
        self.erase["E3"] = self.self_person("contact", self.at(dt.date(2024, 2, 5), 10), 2, "E3")
        c = self.self_person("contact", self.at(dt.date(2024, 10, 7), 10), 3, "E4c", state_old="D", state_new="D")
        lead = self.person("lead", c.lead_source, c.created - dt.timedelta(days=30), first=c.first, last=c.last,
                           email=c.email, tag="E4")
        lead.company = c.account.name
        lead.converted_to, lead.converted_on = c, c.created.date()
        a = email_key(c.email)
        self.member(a, c.first, c.last, c.account.name, self.at(nd("2025-01-10"), 9),
                    cleaned=self.at(nd("2026-05-02"), 7, 1), person=c)
        self.mail(a, self.newsletter_at(nd("2026-04-16")) + dt.timedelta(seconds=30), self.p.newsletter, EV_BOUNCE)
        self.erase["E4"] = lead
        c = self.self_person("contact", self.at(dt.date(2023, 2, 14), 10), 0, "E5", state_old="D", state_new="D")
        self.nl(email_key(c.email), nd("2025-06-12"))
        self.erase["E5"] = c
        for tag in ("E6", "E7", "E8"):
            self.erase[tag] = self.self_person("contact", self.rand_time(self.rand_date(dt.date(2022, 1, 1), dt.date(2025, 6, 1))),
                                               self.rnd.randrange(5), tag)

    def plant_lawful_basis(self) -> None:
        L = "lawful_basis.consent_recorded"
        en, sv = self.p.consent_values[0], self.p.consent_values[-1]
        c = self.self_person("contact", self.at(dt.date(2024, 3, 3), 10), 1, "LB1", basis=sv.capitalize() + " ")
        self.expect(L, c, True, f"lawful basis {c.lawful_basis!r}")
        c = self.self_person("lead", self.at(dt.date(2025, 9, 9), 10), 3, "LB2", basis=en.upper())
        self.expect(L, c, True, f"lawful basis {c.lawful_basis!r}")
        c = self.self_person("contact", self.at(dt.date(2023, 8, 21), 10), 4, "LB3", basis="  " + sv)
        self.expect(L, c, True, f"lawful basis {c.lawful_basis!r}")
        c = self.self_person("contact", self.at(dt.date(2023, 4, 4), 10), 0, "LB4", basis=sv.capitalize(),
                             state_old="D", state_new="D")
        self.expect(L, c, False, "consent recorded on a deleted contact")
        conv = self.self_person("contact", self.at(dt.date(2025, 4, 28), 10), 2, "LB5c", basis=NON_CONSENT_BASES[0])
        lead = self.person("lead", conv.lead_source, conv.created - dt.timedelta(days=12), first=conv.first,
                           last=conv.last, email=conv.email, tag="LB5", basis=en)
        lead.company = conv.account.name
        lead.converted_to, lead.converted_on = conv, conv.created.date()
        self.expect(L, lead, False, "consent recorded on a converted lead (not in the person population)")

    def plant_quality(self) -> None:
        Q = "quality."
        acc = self.rnd.choice(self.accounts)
        e = self.make_email("Lena", "Holm", acc.domain, "cap")
        a = self.self_person("contact", self.at(dt.date(2024, 9, 2), 10), 2, "D1c", first="Lena", last="Holm",
                             account=acc, email=e)
        b = self.self_person("lead", self.at(dt.date(2025, 10, 6), 10), 3, "D1l", first="Lena", last="Holm",
                             email=e.lower())
        for x in (a, b):
            self.expect(Q + "duplicate_email", x, True, "same address as another record, other letter case")
        acc = self.rnd.choice(self.accounts)
        e = self.make_email("Per", "Nyberg", acc.domain, "cap")
        for i, addr in enumerate([e, e.lower()]):
            x = self.self_person("contact", self.at(dt.date(2023, 6, 12 + i), 10), 1, f"D2{i}", first="Per",
                                 last="Nyberg", account=acc, email=addr)
            self.expect(Q + "duplicate_email", x, True, "same address as another contact, other letter case")
        x = self.self_person("lead", self.at(dt.date(2025, 2, 27), 10), 4, "BL2", email="\u00a0")
        self.expect(Q + "blank_email", x, True, "e-mail is a lone non-breaking space")
        for kind, value, tag in [("contact", UNCLASSIFIED_SOURCES[0], "UC1"), ("lead", UNCLASSIFIED_SOURCES[2], "UC2"),
                                 ("contact", UNCLASSIFIED_SOURCES[1], "UC3")]:
            x = self.person(kind, value, self.rand_time(self.rand_date(dt.date(2023, 1, 1), dt.date(2026, 6, 1))),
                            tag=tag)
            self.expect(Q + "unclassified_lead_source", x, True, f"LeadSource {value!r}")
        acc = self.rnd.choice(self.accounts)
        first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
        bad = f"{ascii_fold(first)}.{ascii_fold(last)}.{acc.domain}".lower()
        x = self.self_person("contact", self.at(dt.date(2024, 1, 8), 10), 0, "IV1", first=first, last=last,
                             account=acc, email=self.claim(bad))
        self.expect(Q + "invalid_email_syntax", x, True, "no @")
        acc = self.rnd.choice(self.accounts)
        x = self.self_person("contact", self.at(dt.date(2025, 5, 19), 10), 3, "IV2", first="Olof",
                             account=acc, email=self.claim(f"olof@@{acc.domain}"))
        self.expect(Q + "invalid_email_syntax", x, True, "two @")
        first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
        company = self.rnd.choice(self.lead_companies)
        addr = self.make_email(first, last, company[1], "lower")
        x = self.self_person("lead", self.at(dt.date(2025, 11, 4), 10), 1, "SP2", first=first, last=last,
                             email=f"  {addr} ")
        x.company, x.city = company[0], company[2]

    # background records (they must yield nothing) ----------------------
    def build_fillers(self, n_contacts: int = 132, n_leads: int = 56, n_converted: int = 10) -> None:
        D = dt.timedelta
        self.fillers: list[Person] = []
        descriptions = [
            "Träffade på Säljmässan i Göteborg.\nIntresserad av API-integration mot affärssystemet.",
            "Rad ett från gamla CRM:et\r\nRad två: vill ha offert före budgetbeslut.",
            "'=Ring upp efter budgetbeslut (Data Loader-skydd mot formler)",
            "Önskar \"enkel\" demo; se även mejl 2025-03-04.\nKontakt via växeln.",
            "Kund sedan 2021. Ansvarar för avtalet.",
        ]
        special = [("contact", "Paweł", "Kowalczyk"), ("contact", "Aylin", "Yıldız")]
        for i in range(n_contacts + n_leads):
            kind = "contact" if i < n_contacts else "lead"
            first = last = None
            if i < len(special):
                kind, first, last = special[i]
            origin = "company" if self.rnd.random() < (0.4 if kind == "contact" else 0.5) else "self"
            if origin == "company":
                day = self.rand_date(dt.date(2024, 2, 1), dt.date(2026, 10, 31)) if self.rnd.random() > 0.03 \
                    else self.rand_date(dt.date(2026, 11, 2), dt.date(2026, 11, 20))
            else:
                day = self.rand_date(dt.date(2021, 6, 1), dt.date(2026, 11, 16))
            created = self.rand_time(day)
            desc = self.rnd.choice(descriptions) if self.rnd.random() < 0.12 else ""
            p = self.person(kind, self.rand_src(origin), created, first=first, last=last, tag="filler", bulk=True,
                            description=desc)
            self.fillers.append(p)
        for i in range(n_converted):
            day = self.rand_date(dt.date(2022, 3, 1), dt.date(2026, 9, 30))
            lead_created = self.rand_time(day)
            conv = self.person("contact", self.rand_src("self"), lead_created + D(days=self.rnd.randint(5, 60)),
                               tag="filler", bulk=True)
            lead = self.person("lead", conv.lead_source, lead_created, first=conv.first, last=conv.last,
                               email=conv.email, tag="filler-converted", bulk=False, basis=conv.lawful_basis)
            lead.company = conv.account.name
            lead.converted_to, lead.converted_on = conv, conv.created.date()
            self.fillers.append(conv)
        # a few fillers deleted (IsDeleted) in the judged export, one hard-deleted since the older one
        pool = [p for p in self.fillers if p.kind == "contact" and p.created.date() < dt.date(2025, 1, 1)
                and self.p.origin(p.lead_source) == "self"]
        for p in self.rnd.sample(pool, 4):
            p.state_new = "D"
        pool = [p for p in pool if p.state_new == "A"]
        self.rnd.choice(pool).state_new = None

    def filler_activities(self) -> None:
        D = dt.timedelta
        ws = self.ws
        window_end = CRM_NEW - D(1)
        for p in self.fillers:
            origin = self.p.origin(p.lead_source)
            start = p.created.date() + D(1)
            # older dialogue
            for _ in range(self.rnd.randint(0, 2)):
                end = min(ws - D(5), CRM_NEW - D(2))
                if start < end:
                    self.task(p, self.rand_date(start, end), self.rnd.choice([SUB_CALL, SUB_EMAIL, SUB_TASK]))
            if self.rnd.random() < 0.25 and start < window_end:
                self.list_email(p, self.rand_date(max(start, dt.date(2024, 3, 1)), window_end))
            if self.rnd.random() < 0.05 and start < window_end:
                self.task(p, self.rand_date(start, window_end), SUB_CALL, deleted=True)
            if self.rnd.random() < 0.06 and start < CRM_NEW - D(20):
                self.task(p, self.rand_date(CRM_NEW - D(20), CRM_NEW + D(10)), SUB_TASK, closed=False,
                          created=self.rand_time(CRM_NEW - D(25)))
            if self.rnd.random() < 0.05 and start < CRM_OLD:
                self.meeting(p, self.at(self.rand_date(CRM_NEW + D(2), CRM_NEW + D(10)), self.rnd.randint(8, 15)),
                             created=self.rand_time(self.rand_date(CRM_OLD - D(10), CRM_OLD)))
            # dialogue in the window for every company-initiated record that is old enough to be judged
            if origin == "company" and p.created.date() <= ws + D(5):
                lo = max(ws + D(3), start)
                choice = self.rnd.random()
                when = self.rand_date(lo, window_end)
                if choice < 0.55:
                    self.task(p, when, self.rnd.choice([SUB_CALL, SUB_EMAIL, SUB_TASK]))
                elif choice < 0.8 or p.kind == "lead":
                    self.meeting(p, self.at(when, self.rnd.randint(8, 15)))
                else:
                    o = self.opportunity(p.account, self.rand_time(when), "Qualification", when + D(90), when)
                    self.role(o, p)
            elif self.rnd.random() < 0.3 and start < window_end:
                self.task(p, self.rand_date(max(start, ws - D(200)), window_end), self.rnd.choice([SUB_CALL, SUB_EMAIL]))

    def filler_opportunities(self, n: int = 22) -> None:
        D = dt.timedelta
        contacts = [p for p in self.fillers if p.kind == "contact"]
        by_account: dict[str, list[Person]] = {}
        for p in contacts:
            by_account.setdefault(p.account.id, []).append(p)
        accounts = [a for a in self.accounts if a.id in by_account]
        for _ in range(n):
            acc = self.rnd.choice(accounts)
            created_day = self.rand_date(dt.date(2024, 1, 15), CRM_NEW - D(15))
            close = created_day + D(self.rnd.randint(30, 180))
            if close < CRM_NEW - D(10):
                stage = self.rnd.choice(["Closed Won", "Closed Won", "Closed Lost"])
            else:
                stage = self.rnd.choice(["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote"])
            last = self.rand_date(created_day, min(close, CRM_NEW - D(1)))
            o = self.opportunity(acc, self.rand_time(created_day), stage, close, last)
            o.lead_source = self.rnd.choice(["", "Web", "Partner Referral"])
            people = [p for p in by_account[acc.id] if p.created.date() <= created_day]
            for k, p in enumerate(self.rnd.sample(people, min(len(people), self.rnd.randint(1, 2)))):
                self.role(o, p, primary=(k == 0), deleted=self.rnd.random() < 0.08)

    def build_campaigns(self) -> None:
        D = dt.timedelta
        specs = [("Nyhetsbrev 2025", "Email", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
                 ("Säljmässan Göteborg 2025", "Trade Show", dt.date(2025, 3, 18), dt.date(2025, 3, 20)),
                 ("Webbinar: GDPR i CRM", "Webinar", dt.date(2025, 5, 22), dt.date(2025, 5, 22)),
                 ("Höstwebbinar 2025", "Webinar", dt.date(2025, 10, 2), dt.date(2025, 10, 23)),
                 ("Whitepaper: Molnmigrering", "Content", dt.date(2025, 8, 1), dt.date(2026, 6, 30)),
                 ("Nyhetsbrev 2026", "Email", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
                 ("Vårkampanj 2026", "Email", dt.date(2026, 4, 23), dt.date(2026, 5, 31)),
                 ("Kundträff Umeå 2026", "Event", dt.date(2026, 9, 24), dt.date(2026, 9, 24))]
        for name, typ, start, end in specs:
            status = "Completed" if end < CRM_NEW else "In Progress"
            c = Campaign(self.ids.new("701"), name, typ, status, start, end,
                         self.rand_time(start - D(self.rnd.randint(10, 40))),
                         "Utskick och inbjudningar.\nAnsvarig: marknad." if typ == "Email" else "")
            self.campaigns.append(c)
        pool = [p for p in self.fillers if p.state_new == "A"]
        for camp in self.campaigns:
            start = camp.start
            for p in self.rnd.sample(pool, 14):
                if p.created.date() >= start:
                    continue
                created = self.rand_time(start - D(self.rnd.randint(0, 7)))
                if created <= p.created:
                    continue
                responded = self.rnd.random() < 0.4
                self.cmembers.append(CampaignMember(self.ids.new("00v"), camp, p,
                                                    "Responded" if responded else "Sent", responded, created,
                                                    deleted=self.rnd.random() < 0.05))
        # RS2: a recent campaign membership is not dialogue
        camp = self.campaigns[6]
        self.cmembers.append(CampaignMember(self.ids.new("00v"), camp, self.rs2, "Responded", True,
                                            self.at(camp.start, 10, 4)))

    def filler_history(self) -> None:
        """Field history noise: record creation and title changes (Swedish text, non-ASCII)."""
        D = dt.timedelta
        contacts = [p for p in self.people if p.kind == "contact" and p.tag == "filler"
                    and p.created.date() >= dt.date(2024, 1, 1)]
        for p in self.rnd.sample(contacts, 16):
            self.hist(p, p.created, "created", "", "", "", by=p.owner)
        for p in self.rnd.sample(contacts, 10):
            when = self.rand_time(self.rand_date(p.created.date() + D(10), CRM_NEW - D(3)))
            new_title = self.rnd.choice(TITLES)
            if new_title != p.title:
                self.hist(p, when, "Title", "Text", p.title, new_title, by=self.rnd.choice(self.sales))
                p.title = new_title

    def filler_mailchimp(self, n_mc_only: int = 20) -> None:
        D = dt.timedelta
        last_day = dt.date(2026, 11, 20)
        for p in self.fillers:
            if p.state_new != "A" or not _EMAIL_RE.match(trim(p.email) or ""):
                continue
            origin = self.p.origin(p.lead_source)
            if origin == "company":
                if self.rnd.random() > 0.22:
                    continue
                optin = p.created + D(days=self.rnd.randint(25, 60), hours=self.rnd.randint(0, 5))
            else:
                if self.rnd.random() > 0.4:
                    continue
                optin = p.created + D(days=self.rnd.randint(0, 20), minutes=self.rnd.randint(5, 600))
            if optin.date() > last_day:
                continue
            company = p.account.name if p.account else p.company
            m = self.member(email_key(p.email), p.first, p.last, company, optin, receives=True, person=p)
            roll = self.rnd.random()
            span = (last_day - optin.date()).days
            if roll < 0.12 and span > 40:
                unsub = self.rand_time(optin.date() + D(self.rnd.randint(20, span)), 8, 20)
                self._unsubscribe_filler(m, unsub)
            elif roll < 0.16 and span > 60:
                self._clean_filler(m)
        for i in range(n_mc_only):
            first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
            if i == 0:
                first, last = "Zoë", "Łukasik"
            domain = self.rnd.choice(PRIVATE_DOMAINS + [c[1] for c in self.lead_companies[:8]])
            email = self.make_email(first, last, domain, "lower")
            optin = self.rand_time(self.rand_date(dt.date(2023, 1, 10), dt.date(2026, 11, 15)))
            m = self.member(email, first, last, "", optin, receives=True)
            span = (last_day - optin.date()).days
            roll = self.rnd.random()
            if roll < 0.15 and span > 40:
                self._unsubscribe_filler(m, self.rand_time(optin.date() + D(self.rnd.randint(20, span)), 8, 20))
            elif roll < 0.22 and span > 60:
                self._clean_filler(m)
        # one address bounces between the two audience exports, so their cleaned files differ
        pool = sorted((m for m in self.members if m.receives and m.person is None and m.unsub is None
                       and m.cleaned is None and m.optin.date() < dt.date(2026, 9, 1)), key=lambda m: m.email)
        between = [s for s in self.newsletter_sends if MC_OLD < s.date() < MC_NEW]
        if pool and between:
            self.rnd.choice(pool).cleaned = between[-1] + dt.timedelta(minutes=40)

    def _unsubscribe_filler(self, m: Member, unsub: dt.datetime) -> None:
        m.unsub = unsub
        m.unsub_reason = self.rnd.choice(UNSUB_REASONS)
        m.unsub_campaign = f"Nyhetsbrev {unsub:%Y-%m}"
        p = m.person
        if p is None:
            return
        # synced to the CRM: the flag is set, contacts get a history row a few minutes later
        p.flag_new = True
        p.flag_old = unsub.date() <= CRM_OLD
        if p.kind == "contact":
            self.optout_history(p, unsub + dt.timedelta(minutes=5))

    def _clean_filler(self, m: Member) -> None:
        sends = [s for s in self.newsletter_sends if s > m.optin + dt.timedelta(days=30)
                 and s.date() < dt.date(2026, 11, 1)]
        if not sends:
            return
        s = self.rnd.choice(sends)
        m.cleaned = s + dt.timedelta(minutes=40)

    def bulk_mail(self) -> None:
        """Notices, newsletters, campaigns and transactional mail for the fillers."""
        D = dt.timedelta
        p = self.p
        # first notices to company-initiated records
        for x in self.fillers:
            if p.origin(x.lead_source) != "company" or not email_key(x.email):
                continue
            room = (LATEST_EVENT_DAY - x.created.date()).days
            if room < 1:
                continue
            day = x.created.date() + D(self.rnd.randint(1, min(20, room)))
            outcome = EV_DEFERRED if self.rnd.random() < 0.05 else p.delivered
            msg = self.mail(email_key(x.email), self.rand_time(day, 8, 11), p.art14, outcome)
            if self.rnd.random() < 0.3:
                self.engage(email_key(x.email), self.rand_time(day, 12, 16), EV_OPEN, p.art14, msg)
        # newsletters to the Mailchimp audience
        for s in self.newsletter_sends:
            recipients = [m for m in self.members if m.receives and m.optin < s
                          and (m.unsub is None or m.unsub > s) and (m.cleaned is None or m.cleaned > s)]
            recipients.sort(key=lambda m: m.email)
            for k, m in enumerate(recipients):
                ts = s + D(seconds=20 + 3 * k)
                if m.cleaned is not None and m.cleaned - s <= D(hours=1):
                    self.mail(m.email, ts, p.newsletter, EV_BOUNCE)
                    continue
                outcome = EV_DEFERRED if self.rnd.random() < 0.02 else p.delivered
                msg = self.mail(m.email, ts, p.newsletter, outcome)
                r = self.rnd.random()
                if r < 0.28:
                    t = ts + D(minutes=self.rnd.randint(20, 1800))
                    if t.date() <= LATEST_EVENT_DAY:
                        self.engage(m.email, t, EV_OPEN, p.newsletter, msg)
                        if r < 0.06:
                            self.engage(m.email, t + D(seconds=self.rnd.randint(10, 200)), EV_CLICK, p.newsletter, msg)
        # campaigns to company-initiated records not opted out
        opted = {m.email for m in self.members if m.unsub or m.cleaned}
        for s, _name in self.campaign_sends:
            pool = [x for x in self.fillers if p.origin(x.lead_source) == "company" and x.created < s - D(days=1)
                    and not x.flag_new and not x.flag_old and email_key(x.email) not in opted
                    and x.state_new == "A"]
            pool.sort(key=lambda x: x.id)
            for k, x in enumerate(self.rnd.sample(pool, len(pool) // 2)):
                self.mail(email_key(x.email), s + D(seconds=10 + 4 * k), p.campaign)
        # transactional mail to portal users
        pool = [x for x in self.fillers if p.origin(x.lead_source) == "self" and email_key(x.email)
                and x.kind == "contact"]
        pool.sort(key=lambda x: x.id)
        for x in self.rnd.sample(pool, 16):
            for _ in range(self.rnd.randint(1, 2)):
                lo = max(x.created.date() + D(1), dt.date(2024, 1, 10))
                if lo >= LATEST_EVENT_DAY:
                    continue
                self.mail(email_key(x.email), self.rand_time(self.rand_date(lo, LATEST_EVENT_DAY), 6, 16),
                          p.transactional)
        # the last event loaded: a transactional mail late on the latest event day
        x = pool[0]
        self.mail(email_key(x.email), self.at(LATEST_EVENT_DAY, 16, 41, 9), p.transactional)

    # the request register ----------------------------------------------
    def legal_deadline(self, received: dt.date) -> dt.date:
        return self.wd.roll(add_months(received, self.p.legal_months))

    def extended_deadline(self, received: dt.date) -> dt.date:
        return self.wd.roll(add_months(received, self.p.extended_months))

    def requester(self, domain: str | None = None) -> tuple[str, str]:
        first, last = self.rnd.choice(FIRST), self.rnd.choice(LAST)
        domain = domain or self.rnd.choice(PRIVATE_DOMAINS + [a.domain for a in self.accounts])
        return f"{first} {last}", self.make_email(first, last, domain, self.rnd.choice(["lower", "cap"]))

    def request(self, received: dt.date, canonical: str | None, *, label: str | None = None, name: str = "",
                email: str = "", verified: dt.date | None | str = "auto", answered=None, closed=None,
                extension: dt.date | None = None, outcome: str = "done", fee: str = "", crm_id: str = "",
                notes: str = "", method: str | None = None) -> Request:
        D = dt.timedelta
        if not name:
            name, email = self.requester()
        if label is None:
            label = self.p.type_label(canonical).capitalize()
        if verified == "auto":
            verified = received + D(self.rnd.randint(0, 2))
        r = Request(received, self.rnd.choice(["E-post", "E-post", "Webbformulär", "Brev", "Telefon"]), name, email,
                    label, verified, "", extension, "", answered, closed,
                    self.p.outcome_label(outcome) if (closed and outcome) else "", fee,
                    self.dpo.name if self.rnd.random() < 0.7 else "Jonas Öhman", notes, crm_id)
        if verified is not None:
            r.method = method or self.rnd.choice(["BankID", "E-post från registrerad adress", "Kontroll mot CRM",
                                                  "Legitimation (kopia)"])
        if extension is not None:
            r.extension_reason = self.rnd.choice(["Omfattande begäran:\nflera system berörs",
                                                  "Många begäranden samtidigt", "Komplex begäran (arkivdata)"])
        self.requests.append(r)
        return r

    def build_register(self) -> None:
        D = dt.timedelta
        nd = dt.date.fromisoformat
        p = self.p
        T = p.policy_target_days
        P, L, X = "dsar.policy_target_missed", "dsar.legal_deadline_missed", "dsar.extended_deadline_missed"
        A, RF, E = "dsar.answered_before_identity_verified", "dsar.repeat_free_access", "erasure.not_executed"

        def flag_p(r: Request) -> bool:
            end = r.closed or AS_OF
            return (end - r.received).days > T

        # deadlines and their boundaries
        rec = nd("2026-01-31")
        dl = self.legal_deadline(rec)
        r = self.request(rec, "access", answered=dl, closed=dl)
        unrolled = add_months(rec, p.legal_months)
        self.expect(L, r, False, f"closed on the rolled legal deadline {dl} (one month = {unrolled}, a {unrolled:%A})")
        self.expect(P, r, flag_p(r), f"closed on day {(dl - rec).days}, on the rolled legal deadline")
        rec = nd("2025-09-10")
        r = self.request(rec, "access", answered=rec + D(T - 1), closed=rec + D(T))
        self.expect(P, r, False, f"boundary: closed exactly on day {T}")
        rec = nd("2025-05-05")
        r = self.request(rec, "rectification", answered=rec + D(T + 1), closed=rec + D(T + 1))
        self.expect(P, r, True, f"closed on day {T + 1}")
        self.expect(L, r, (r.closed > self.legal_deadline(rec)), f"closed {r.closed}, legal deadline {self.legal_deadline(rec)}")
        rec = nd("2025-12-06")
        dl = self.legal_deadline(rec)
        r = self.request(rec, "access", answered=dl, closed=dl)
        self.expect(L, r, False, f"closed {dl}: one month = {add_months(rec, p.legal_months)} (a public holiday) rolled forward")
        self.expect(P, r, True, f"closed on day {(dl - rec).days}, on the holiday-rolled legal deadline")
        rec = nd("2026-03-10")
        ext = rec + D(20)
        r = self.request(rec, "access", extension=ext, answered=nd("2026-05-19"), closed=nd("2026-05-20"))
        self.expect(L, r, False, f"validly extended: told {ext}, within the first month")
        self.expect(X, r, False, f"closed {r.closed}, before the three-month deadline {self.extended_deadline(rec)}")
        self.expect(P, r, True, "closed after the policy target (extended)")
        rec = nd("2026-04-07")
        ext = self.legal_deadline(rec) + D(5)
        r = self.request(rec, "portability", extension=ext, answered=nd("2026-06-15"), closed=nd("2026-06-15"))
        self.expect(L, r, True, f"extension told {ext}, after the one-month deadline {self.legal_deadline(rec)}: invalid")
        self.expect(X, r, False, "not validly extended (judged by the one-month deadline)")
        self.expect(P, r, True, "closed after the policy target")
        rec = nd("2025-08-18")
        ext = rec + D(14)
        closed = self.extended_deadline(rec) + D(7)
        r = self.request(rec, "access", extension=ext, answered=closed, closed=closed)
        self.expect(X, r, True, f"validly extended but closed {closed}, after {self.extended_deadline(rec)}")
        self.expect(L, r, False, "validly extended")
        self.expect(P, r, True, "closed after the policy target")
        rec = nd("2026-02-16")
        r = self.request(rec, "access", verified=nd("2026-02-23"), answered=nd("2026-02-20"), closed=nd("2026-02-23"))
        self.expect(A, r, True, "answered 2026-02-20, identity verified 2026-02-23")
        rec = nd("2026-03-23")
        r = self.request(rec, "access", verified=nd("2026-03-25"), answered=nd("2026-03-25"), closed=nd("2026-03-26"))
        self.expect(A, r, False, "boundary: answered the same day identity was verified")
        rec = nd("2025-11-03")
        r = self.request(rec, "access", verified=None, answered=nd("2025-11-20"), closed=nd("2025-11-20"))
        self.expect(A, r, True, "answered, identity never verified")
        rec = nd("2026-09-28")
        r = self.request(rec, "access", notes="Väntar på underlag från säljavdelningen.")
        self.expect(L, r, True, f"open past its one-month deadline {self.legal_deadline(rec)} at as-of")
        self.expect(P, r, True, "open more than the policy target at as-of")
        rec = nd("2026-08-03")
        r = self.request(rec, "access", extension=rec + D(17), notes="Stor mängd data i arkivet.")
        self.expect(X, r, True, f"validly extended, open past the three-month deadline {self.extended_deadline(rec)}")
        self.expect(L, r, False, "validly extended")
        self.expect(P, r, True, "open more than the policy target at as-of")
        rec = nd("2025-10-27")
        r = self.request(rec, "objection", answered=nd("2025-12-01"), closed=nd("2025-12-01"))
        self.expect(L, r, True, f"closed {r.closed} after the one-month deadline {self.legal_deadline(rec)}, no extension")
        self.expect(P, r, True, "closed after the policy target")
        rec = AS_OF - D(T)
        r = self.request(rec, "access")
        self.expect(P, r, False, f"boundary: open exactly {T} days at as-of")
        self.expect(L, r, False, f"open, legal deadline {self.legal_deadline(rec)} not reached")
        rec = AS_OF - D(8)
        r = self.request(rec, "restriction", answered=UNPARSEABLE_DATE, notes="Svar skickas snart.\nInväntar IT.")
        self.expect("quality.unparseable_date", r, True, f"{p.column('answered')} = {UNPARSEABLE_DATE!r}")
        rec = nd("2026-07-14")
        r = self.request(rec, None, label=UNKNOWN_REQUEST_TYPE, answered=rec + D(14), closed=rec + D(16),
                         notes="Klagomål på utskick, hanterat som invändning.")
        self.expect("quality.unknown_request_type", r, True, f"request type {UNKNOWN_REQUEST_TYPE!r}")

        # repeated free access requests
        name, email = self.requester()
        first = self.request(nd("2025-06-10"), "access", name=name, email=email, answered=nd("2025-06-27"),
                             closed=nd("2025-06-27"))
        r = self.request(nd("2026-02-03"), "access", label=p.type_label("access", 1).capitalize(), name=name,
                         email=email.upper() if email.islower() else email.lower(), answered=nd("2026-02-20"),
                         closed=nd("2026-02-20"))
        self.expect(RF, r, True, f"free access again within {p.free_access_months} months of {first.received}")
        self.expect(RF, first, False, "the earlier request")
        name, email = self.requester()
        first = self.request(nd("2025-03-14"), "access", name=name, email=email, answered=nd("2025-03-28"),
                             closed=nd("2025-03-28"))
        again = add_months(first.received, p.free_access_months)
        r = self.request(again, "access", name=name, email=email, answered=again + D(12), closed=again + D(13))
        self.expect(RF, r, False, f"boundary: exactly add_months({first.received}, {p.free_access_months}) later")
        name, email = self.requester()
        self.request(nd("2025-04-22"), "access", name=name, email=email, answered=nd("2025-05-06"),
                     closed=nd("2025-05-06"))
        r = self.request(nd("2025-10-01"), "access", name=name, email=email, fee="250,00", answered=nd("2025-10-15"),
                         closed=nd("2025-10-15"))
        self.expect(RF, r, False, "charged repeat (fee 250,00)")
        r = self.request(nd("2026-01-20"), "access", name=name, email=email, fee="1\u00a0250,00",
                         answered=nd("2026-02-02"), closed=nd("2026-02-02"))
        self.expect(RF, r, False, "charged repeat (fee 1 250,00 with a no-break space)")
        name, email = self.requester()
        self.request(nd("2025-09-03"), "access", name=name, email=email, answered=nd("2025-09-19"),
                     closed=nd("2025-09-19"))
        r = self.request(nd("2026-05-27"), "access", name=name, email=email, fee="0,00", answered=nd("2026-06-09"),
                         closed=nd("2026-06-09"))
        self.expect(RF, r, True, "fee 0,00 is free: repeat within 12 months")

        # erasures
        er = self.erase
        erasure = p.type_label("erasure").capitalize()

        def person_req(x: Person, received: dt.date, closed: dt.date | None, *, outcome="done",
                       crm_id: str | None = None, email: str | None = None, answered=None) -> Request:
            return self.request(received, "erasure", label=erasure, name=f"{x.first} {x.last}",
                                email=email if email is not None else (trim(x.email) or ""),
                                answered=answered or closed, closed=closed, outcome=outcome,
                                crm_id=x.id if crm_id is None else crm_id)
        r = person_req(er["E1"], nd("2026-10-12"), nd("2026-11-10"))
        self.expect(E, r, True, f"erased {r.closed}; contact still in the CRM export of {CRM_NEW}")
        m = er["E2"]
        r = self.request(nd("2026-09-01"), "erasure", label=erasure, name=f"{m.first} {m.last}", email=m.email,
                         answered=nd("2026-09-22"), closed=nd("2026-09-22"))
        self.expect(E, r, True, "erased 2026-09-22; still in Mailchimp's unsubscribed file (both later exports)")
        x = er["E3"]
        _, private = self.requester(self.rnd.choice(PRIVATE_DOMAINS))
        r = person_req(x, nd("2026-08-10"), nd("2026-08-28"), crm_id=x.id[:15], email=private)
        self.expect(E, r, True, "matched by the 15-character CRM id (the register's e-mail differs)")
        r = person_req(er["E4"], nd("2026-06-15"), nd("2026-07-03"), crm_id="")
        self.expect(E, r, True, "converted lead still in the Lead export; cleaned member still in Mailchimp")
        r = person_req(er["E5"], nd("2026-05-04"), nd("2026-05-20"))
        self.expect(E, r, False, "executed: only an IsDeleted row remains, no Mailchimp member")
        r = person_req(er["E6"], nd("2026-11-02"), CRM_NEW)
        self.expect(E, r, False, f"closed {CRM_NEW}, the day of the last exports: no export taken after it")
        r = person_req(er["E7"], nd("2026-09-14"), nd("2026-09-30"), outcome="refused")
        self.expect(E, r, False, "refused (Avslag): nothing to execute")
        r = person_req(er["E8"], AS_OF - D(12), None)
        self.expect(E, r, False, "open erasure request")

        # ordinary requests, handled in time
        kinds = ["access", "access", "access", "rectification", "erasure", "objection"]
        for i, kind in enumerate(kinds):
            rec = self.rand_date(dt.date(2025, 1, 8), dt.date(2026, 10, 15))
            v = rec + D(self.rnd.randint(0, 2))
            ans = v + D(self.rnd.randint(2, 18))
            closed = ans + D(self.rnd.randint(0, 3))
            closed = min(closed, rec + D(T - 2), self.legal_deadline(rec))
            ans = min(ans, closed)
            if ans < v:
                ans = v
            fee = self.rnd.choice(["", "", "0"]) if kind == "access" else ""
            label = p.type_label(kind, self.rnd.randrange(len(p.request_types[kind]))).capitalize()
            if i == 2:
                label = " " + label.upper() + " "
            r = self.request(rec, kind, label=label, verified=v, answered=ans, closed=closed, fee=fee,
                             outcome=self.rnd.choice(["done", "done", "done", "partly_done"]))

        # request ids: by year, in order of receipt
        self.requests.sort(key=lambda r: (r.received, r.name, r.email))
        per_year: dict[int, int] = {}
        for r in self.requests:
            per_year[r.received.year] = per_year.get(r.received.year, 0) + 1
            r.rid = f"DSAR-{r.received.year}-{per_year[r.received.year]:03d}"

    # web logs ------------------------------------------------------------
    def log_line(self, ts: dt.datetime, target: str, *, status: int | None = None, referer: str = "-",
                 method: str = "GET", host: str | None = None) -> LogLine:
        local = ts.replace(tzinfo=UTC).astimezone(SERVER_ZONE)
        stamp = local.strftime("%d/%b/%Y:%H:%M:%S %z")
        host = host or self.rnd.choice(CLIENTS)
        status = status or self.rnd.choices([200, 304, 404, 301], [80, 10, 6, 4])[0]
        size = "-" if status == 304 else str(self.rnd.randint(180, 48000))
        ua = self.rnd.choice(USER_AGENTS[:4] + ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"])
        return LogLine(log_text(host, stamp, method, target, status, size, referer, ua), ts, target)

    def build_weblogs(self) -> None:
        D = dt.timedelta
        pages = ["/", "/produkter/insyn-crm", "/priser", "/kontakt", "/blogg/gdpr-i-crm", "/om-oss",
                 "/whitepapers/molnmigrering.pdf", "/assets/app.js", "/assets/site.css", "/favicon.ico",
                 "/kundportal/login", "/robots.txt", "/webbinar", "/blogg/ai-och-dataskydd"]
        horizon_day = add_months(AS_OF, -self.p.weblog_months)
        horizon = dt.datetime.combine(horizon_day, dt.time(0), self.p.horizon_zone).astimezone(UTC).replace(tzinfo=None)
        self.horizon = horizon

        def day_lines(day: dt.date, n: int) -> list[LogLine]:
            out = []
            for _ in range(n):
                ts = self.at(day, self.rnd.randint(0, 23), self.rnd.randint(0, 59), self.rnd.randint(0, 59))
                out.append(self.log_line(ts, self.rnd.choice(pages),
                                         referer=self.rnd.choice(["-", "-", "https://www.google.com/",
                                                                  "https://www.nordlys.se/"])))
            return out

        def email_target(addr: str, kind: int) -> str:
            q = urllib.parse.quote(addr, safe="")
            return [f"/nyhetsbrev/bekrafta?email={q}&token={self.rnd.getrandbits(32):08x}",
                    f"/avregistrera?e={q}", f"/kundportal/glomt-losenord?user={q}"][kind % 3]

        def some_address() -> str:
            x = self.rnd.choice([f for f in self.fillers if _EMAIL_RE.match(trim(f.email) or "")])
            return email_key(x.email)

        # the rotated file: across the horizon and the end of summer time (2025-10-26)
        old: list[LogLine] = []
        start = horizon_day - D(4)
        for k in range(14):
            old += day_lines(start + D(k), self.rnd.randint(7, 11))
        old.append(self.log_line(horizon, "/"))                                        # exactly the horizon
        old.append(self.log_line(horizon - D(seconds=1), "/priser"))                   # one second before
        old.append(self.log_line(horizon + D(minutes=30), "/kontakt"))                 # same UTC date, after
        old.append(self.log_line(dt.datetime(2025, 10, 26, 0, 30), "/blogg/gdpr-i-crm"))   # 02:30 +0200
        old.append(self.log_line(dt.datetime(2025, 10, 26, 1, 15), "/blogg/gdpr-i-crm"))   # 02:15 +0100
        old.append(self.log_line(self.at(horizon_day - D(3), 10, 12, 5), email_target(some_address(), 0)))
        old.append(self.log_line(self.at(horizon_day + D(5), 14, 2, 51), email_target(some_address(), 1)))
        old.append(self.log_line(self.at(horizon_day + D(6), 8, 44, 0),
                                 "/nyhetsbrev/bekrafta?email=&token=00000000"))     # empty: no address
        old.sort(key=lambda x: x.ts)
        tls = ('198.51.100.23 - - [{}] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" 400 157 "-" "-"')
        t = self.at(horizon_day + D(2), 3, 14, 7)
        junk = LogLine(tls.format(t.replace(tzinfo=UTC).astimezone(SERVER_ZONE).strftime("%d/%b/%Y:%H:%M:%S %z")),
                       None, junk=True)
        pos = next(i for i, x in enumerate(old) if x.ts > t)
        old.insert(pos, junk)
        self.logs["access.log.1.gz"] = old

        # the live file: the last five weeks, across 2026-10-25
        new: list[LogLine] = []
        first_day = AS_OF - D(36)
        for k in range(37):
            day = first_day + D(k)
            n = self.rnd.randint(4, 8)
            lines = day_lines(day, n)
            if day == AS_OF:
                lines = [x for x in lines if x.ts.hour < 8]
            new += lines
        new.append(self.log_line(self.at(AS_OF - D(21), 9, 15, 2), email_target(some_address(), 0),
                                 host="2001:db8:85a3::8a2e:370:7334"))
        new.append(self.log_line(self.at(AS_OF - D(21), 15, 40, 19), email_target(some_address(), 1)))
        new.append(self.log_line(dt.datetime.combine(AS_OF - D(6), dt.time(23, 30, 4)), email_target(some_address(), 2)))
        new.append(self.log_line(self.at(AS_OF - D(19), 11, 3, 33), "/blogg/gdpr-i-crm",
                                 referer=f"https://webmail.example.se/read?from={urllib.parse.quote(some_address(), safe='')}"))
        new.sort(key=lambda x: x.ts)
        cut = self.log_line(self.at(AS_OF, 8, 14, 2), "/kundportal/login")
        new.append(LogLine(cut.text[: cut.text.index('"GET ') + 14], None, junk=True))      # truncated, no newline
        self.logs["access.log"] = new

    # sub-processors and the policy text --------------------------------
    def build_subprocessors(self) -> None:
        p = self.p
        mech = {m: m for m in p.mechanisms}
        us = p.dpf_country
        rows = [
            ("Salesforce, Inc.", "US", "CRM (Sales Cloud), hosting i USA", mech["privacy_shield"], "", "", "2018-05-14"),
            ("Twilio Inc. (SendGrid)", us, "E-postkö och utskick (ESP)", mech["dpf"], "2026-10-31", "", "2019-02-01"),
            ("The Rocket Science Group LLC (Mailchimp)", "US", "Nyhetsbrevsregister", mech["scc_2021"], "", "", "2021-11-02"),
            ("Zendesk, Inc.", "US", "Kundsupport", mech["scc_2010"], "", "2020-03-01", "2019-06-10"),
            ("Google LLC (Workspace)", us, "E-post och dokument", mech["dpf"], "2027-04-30", "", "2020-01-15"),
            ("Atlassian Pty Ltd", "AU", "Ärendehantering (Jira)", mech["scc_2021"], "", "2025-05-12", "2023-02-01"),
            ("Tata Consultancy Services Ltd", "IN", "Drift och support", mech["bcr"], "", "", "2024-09-01"),
            ("Hetzner Online GmbH", "DE", "Hosting av webbplatsen", mech["none"], "", "", "2022-04-04"),
            ("Fortnox AB", "SE", "Fakturering", mech["none"], "", "", "2021-01-01"),
            ("Exoscale (Akenes SA)", "CH", "Säkerhetskopior", mech["adequacy"], "", "", "2023-08-01"),
            ("Matomo (InnoCraft Ltd)", "NZ", "Webbanalys", mech["adequacy"], "", "", "2022-10-10"),
        ]
        whys = ["Privacy Shield invalidated", "DPF certification ended before as-of", "2021 SCCs without a TIA",
                "2010 SCCs no longer valid", "DPF-certified", "2021 SCCs with a TIA", "BCRs", "EEA",
                "EEA", "adequacy country", "adequacy country"]
        for row, why in zip(rows, whys):
            self.subprocessors.append(dict(zip(["name", "country_iso2", "role", "transfer_mechanism",
                                                "dpf_certified_until", "tia_on", "dpa_on"], row)))
            self.expect("transfer.invalid_mechanism", row[0], why in whys[:4], why)

    def build_policy_text(self) -> None:
        self.policy_text = "\n".join([
            f"Integritetspolicy för {COMPANY} – marknadsföring och försäljning",
            "",
            "Senast uppdaterad: 2023-05-02",
            "",
            f"{COMPANY}, Storgatan 1, 903 26 Umeå, är personuppgiftsansvarig för behandlingen som beskrivs här.",
            "",
            "Vilka uppgifter vi behandlar",
            "Kontaktuppgifter (namn, e-postadress, telefonnummer), uppgifter om hur du använder vår webbplats och",
            "kundportal (IP-adress, enhet, webbläsare) samt annat som du själv lämnar till oss.",
            "",
            "Rättslig grund",
            "Vi behandlar uppgifterna med stöd av berättigat intresse. Vi använder inte samtycke som rättslig grund.",
            "",
            "Hur länge vi sparar uppgifterna",
            "Kontakter som vi själva har samlat in raderas när vi inte har haft en aktiv dialog med dig under de",
            "senaste tolv månaderna. Har du själv kontaktat oss sparar vi uppgifterna tills du avregistrerar dig.",
            "",
            "Överföring till tredje land",
            "Vårt CRM-system levereras av Salesforce i USA och e-post köas hos en leverantör i USA.",
            "Överföringen sker med stöd av Privacy Shield.",
            "Alla våra underbiträden i USA är anslutna till privacy shield.",
            "",
            "Dina rättigheter",
            f"Du har rätt till tillgång, rättelse, radering och begränsning och att invända. Skriv till integritet@{DOMAIN}.",
            "Vi besvarar din begäran inom 30 dagar. Ett registerutdrag per år är kostnadsfritt.",
            "",
            "Klagomål",
            "Du kan lämna klagomål till Datainspektionen.",
            "",
        ])

    # the demo person -----------------------------------------------------
    def _own_id(self, prefix: str, tail: str) -> str:
        """A hand-chosen 18-character id (no random draw), unique like the IdMaker's."""
        body = prefix + "5g0000" + tail
        if len(body) != 15 or body.lower() in self.ids.seen:
            raise ValueError(f"hand-chosen id {body!r} is malformed or taken")
        self.ids.seen.add(body.lower())
        return sf18(body)

    def add_demo_person(self) -> None:
        """DEMO_PERSON_NAME, written by hand into every source, for `insyn dsar report`.

        Built last and without a single random draw, so every other row of the sample stays the same.
        A self-initiated contact (a webinar sign-up) in both CRM exports, with a call, an e-mail, a
        meeting, a role on an opportunity, a campaign membership and a title change; a subscribed
        Mailchimp member who got the newsletter of 2026-11; one web-log line with her address in the
        query string (a weblog.personal_data_in_url finding); and an open, identity-verified access
        request in the latest register. Nothing else about her is a finding.
        """
        D = dt.timedelta
        nd = dt.date.fromisoformat
        p = self.p
        first, last = DEMO_PERSON_NAME.split(" ", 1)
        domain = DEMO_PERSON_EMAIL.split("@", 1)[1]
        # her company is the account of her address's domain (another seed: the first account)
        account = next((a for a in self.accounts if a.domain == domain), self.accounts[0])
        if DEMO_PERSON_EMAIL.lower() in self.used_emails:
            raise ValueError(f"the demo person's address {DEMO_PERSON_EMAIL} is taken")
        self.claim(DEMO_PERSON_EMAIL)
        source = self.src("self", p.self_sources.index("webinar"))        # "Webinar": self-initiated
        created = self.at(nd("2025-09-16"), 13, 5, 42)
        c = Person("contact", self._own_id("003", "5sXn7K"), first, last, DEMO_PERSON_EMAIL, source, created,
                   account, "", "Inköpschef", "+46 70 318 42 95", "Östersund", NON_CONSENT_BASES[0],
                   description="Anmälde sig till Höstwebbinar 2025 via webbformuläret.", tag="DEMO", bulk=False,
                   owner=self.sales[0])
        if created.date() > CRM_OLD or p.origin(source) != "self":
            raise AssertionError("the demo person must be a self-initiated contact in both CRM exports")
        self.people.append(c)
        self.demo = c

        # CRM activity: a call after the webinar, an opportunity with an e-mail and a meeting
        opps = sorted((o for o in self.opps if o.account is account and not o.closed and not o.deleted
                       and o.created.date() <= nd("2026-08-31")), key=lambda o: (o.created, o.id))
        if opps:
            opp = opps[-1]
        else:
            opp = Opportunity(self._own_id("006", "7wDs4j"), account, f"{account.name} – Insyn Portal",
                              "Proposal/Price Quote", False, False, nd("2027-01-29"), nd("2026-09-15"),
                              self.at(nd("2026-08-25"), 10, 0), 120000, lead_source=source)
            self.opps.append(opp)
        self.tasks.append(Task(self._own_id("00T", "8mQx2a"), c, c.id, "Samtal: uppföljning efter Höstwebbinar 2025",
                               nd("2025-10-07"), SUB_CALL, True, False, self.at(nd("2025-10-07"), 13, 22, 40)))
        self.tasks.append(Task(self._own_id("00T", "8mQx5c"), c, c.id, "E-post: offert Nordlys Insyn Portal",
                               nd("2026-09-01"), SUB_EMAIL, True, False, self.at(nd("2026-09-01"), 9, 5, 12),
                               what=opp.id))
        self.meetings.append(Meeting(self._own_id("00U", "4HcW7e"), c, "Demo av Nordlys Insyn",
                                     self.at(nd("2026-09-15"), 9, 0), 60, False, self.at(nd("2026-09-01"), 9, 12, 30),
                                     "Kundens kontor, Östersund"))
        self.roles.append(ContactRole(self._own_id("00K", "9tLp3d"), opp, c, "Economic Buyer", False, False,
                                      max(opp.created, self.at(nd("2026-09-01"), 9, 20, 0)) + D(minutes=5)))
        camp = next(k for k in self.campaigns if k.name == "Höstwebbinar 2025")
        self.cmembers.append(CampaignMember(self._own_id("00v", "6RzN1k"), camp, c, "Responded", True,
                                            created + D(minutes=1, seconds=28)))
        self.history.append(HistoryRow(self._own_id("017", "2bYe5u"), c, self.at(nd("2026-02-03"), 10, 14, 55),
                                       "Title", "Text", "Upphandlare", c.title, c.owner))

        # Mailchimp: subscribed at the webinar sign-up
        company = account.name
        member = Member(DEMO_PERSON_EMAIL, first, last, company, created + D(minutes=6, seconds=36),
                        tags=["Webbinar", "Nyhetsbrev"], rating=4, leid=40518273, euid="7c2e91b04f",
                        person=c, region="Z")
        if any(m.leid == member.leid or m.euid == member.euid for m in self.members):
            raise ValueError("the demo member's LEID or EUID is taken")
        self.members.append(member)

        # the newsletter of 2026-11: processed, delivered, opened
        sent = self.newsletter_at(nd("2026-11-12")) + D(minutes=4, seconds=45)
        self.msg_no += 1
        msg = f"5d3a9e07c41b26.{self.msg_no:05d}"
        nl = p.newsletter
        self._event(DEMO_PERSON_EMAIL, sent - D(seconds=4), EV_PROCESSED, nl, msg, sg_event_id="Hb3x-Vn8QeRk2LwT0dYs_p")
        self._event(DEMO_PERSON_EMAIL, sent, p.delivered, nl, msg, sg_event_id="Zt6mPq1-JcW9uXe4RfNa0g",
                    response="250 2.0.0 OK", ip="149.72.118.37", tls=1)
        self._event(DEMO_PERSON_EMAIL, self.at(sent.date(), 8, 32, 17), EV_OPEN, nl, msg,
                    sg_event_id="Kd0rS5vYb-Tq8HnL2zMwEc", useragent=USER_AGENTS[4], ip="81.224.61.14",
                    sg_machine_open=False)

        # the web log: she signs up for a webinar with her address in the query string
        ts = self.at(nd("2026-11-20"), 10, 41, 7)                      # UTC; 11:41 in Stockholm
        if not (self.horizon <= ts and ts.date() < AS_OF):
            raise AssertionError("the demo person's log line must be within the log retention")
        stamp = ts.replace(tzinfo=UTC).astimezone(SERVER_ZONE).strftime("%d/%b/%Y:%H:%M:%S %z")
        target = f"/webbinar/anmalan?email={urllib.parse.quote(DEMO_PERSON_EMAIL, safe='')}"
        line = LogLine(log_text("81.224.16.3", stamp, "GET", target, 200, "7321", f"https://www.{DOMAIN}/webbinar",
                                USER_AGENTS[0]), ts, target)
        lines = self.logs["access.log"]
        lines.insert(next(i for i, x in enumerate(lines) if x.ts is None or x.ts > ts), line)
        self.demo_log = line

        # the register: an open access request, identity verified, in the latest register only
        received = nd("2026-11-18")
        if received <= REGISTER_OLD or any(r.received > received for r in self.requests
                                           if r.received.year == received.year):
            raise AssertionError("the demo request must be the year's latest, after the older register")
        n = sum(1 for r in self.requests if r.received.year == received.year)
        r = Request(received, "Webbformulär", DEMO_PERSON_NAME, DEMO_PERSON_EMAIL,
                    p.type_label("access", 1).capitalize(), nd("2026-11-19"), "BankID",
                    handler=self.dpo.name, notes="Vill ha ett registerutdrag från alla system.", crm_id=c.id,
                    rid=f"DSAR-{received.year}-{n + 1:03d}")
        self.requests.append(r)
        self.demo_request = r
        P, L, A = "dsar.policy_target_missed", "dsar.legal_deadline_missed", "dsar.answered_before_identity_verified"
        why = f"demo person {DEMO_PERSON_NAME}"
        self.expect(P, r, False, f"{why}: open {(AS_OF - received).days} days at as-of")
        self.expect(L, r, False, f"{why}: open, legal deadline {self.legal_deadline(received)} not reached")
        self.expect(A, r, False, f"{why}: identity verified {r.verified}, not yet answered")
        self.expect("retention.inactive_company_initiated", c, False, f"{why}: self-initiated ({source})")


SERVER_ZONE = ZoneInfo("Europe/Stockholm")     # the web server's local time (data, not policy)


def log_text(host: str, stamp: str, method: str, target: str, status: int, size: str, referer: str, ua: str) -> str:
    """One access-log line in the combined format."""
    return f'{host} - - [{stamp}] "{method} {target} HTTP/1.1" {status} {size} "{referer}" "{ua}"'
CLIENTS = ["192.0.2.14", "192.0.2.77", "198.51.100.5", "198.51.100.61", "203.0.113.9", "203.0.113.140",
           "2001:db8::1f", "2001:db8:4a1c::23", "2001:db8:85a3::8a2e:370:7334", "81.224.16.3", "90.230.44.120"]


# ----------------------------------------------------------------- expected findings, from the plan


def ref_id(ref) -> str:
    """The record_id a planted case refers to."""
    if isinstance(ref, Person):
        return ref.id
    if isinstance(ref, Request):
        return ref.rid
    if isinstance(ref, Member):
        return email_key(ref.email)
    return str(ref)


def _fee_amount(fee: str) -> float:
    text = "".join(ch for ch in (fee or "") if not ch.isspace())
    if not text:
        return 0.0
    return float(text.replace(".", "").replace(",", ".")) if "," in text else float(text)


def _categories(ev: MailEvent) -> list[str]:
    if ev.category is None:
        return []
    return list(ev.category) if isinstance(ev.category, list) else [ev.category]


class Evaluator:
    """Evaluates every rule on the plan's own objects (not on the files written)."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.p = plan.p
        self.findings: dict[tuple[str, str], dict] = {}
        self.quality: list[dict] = []

    # helpers ------------------------------------------------------------
    def pdate(self, ts: dt.datetime) -> dt.date:
        return ts.replace(tzinfo=UTC).astimezone(self.p.date_zone).date()

    def population(self, export: dt.date) -> list[Person]:
        return [x for x in self.plan.people
                if x.state(export) == "A" and (x.kind == "contact" or x.converted_to is None)]

    def add(self, rule: str, record_id: str, email: str | None, source: str, count: int = 1) -> None:
        key = (rule, record_id)
        if key in self.findings:
            raise AssertionError(f"two findings for {key}")
        self.findings[key] = {"rule": rule, "record_id": record_id, "email": email, "source": source,
                              "count": count}

    def run(self) -> None:
        self.retention()
        self.notice()
        self.optout()
        self.dsar()
        self.erasure()
        self.weblog()
        self.transfer()
        self.policy_text()
        self.lawful_basis()
        self.data_quality()

    # rules ----------------------------------------------------------------
    def retention(self) -> None:
        plan, p, x = self.plan, self.p, CRM_NEW
        ws = add_months(AS_OF, -p.retention_months)
        end = min(AS_OF, x)
        tasks = [t for t in plan.tasks if t.created.date() <= x]
        meetings = [m for m in plan.meetings if m.created.date() <= x]
        roles = [r for r in plan.roles if r.created.date() <= x and r.opp.created.date() <= x]
        for person in self.population(x):
            if p.origin(person.lead_source) != "company" or self.pdate(person.created) >= ws:
                continue
            pid = person.id[:15]
            dialogue = any(t.who_id[:15] == pid and not t.deleted and t.closed
                           and t.subtype not in p.non_dialogue_subtypes and ws <= t.date <= end for t in tasks)
            dialogue |= any(m.who.id[:15] == pid and not m.deleted and ws <= m.start.date() <= end for m in meetings)
            if person.kind == "contact":
                for r in roles:
                    if r.contact.id[:15] != pid or r.deleted:
                        continue
                    o = r.opp
                    dates = [o.last_activity, self.pdate(o.created)] + ([o.close_date] if o.closed else [])
                    dialogue |= any(d is not None and ws <= d <= end for d in dates)
            if not dialogue:
                self.add("retention.inactive_company_initiated", person.id, email_key(person.email),
                         person.source_kind)

    def delivered_mail(self, include_transactional: bool = False) -> dict[str, list[MailEvent]]:
        out: dict[str, list[MailEvent]] = {}
        for ev in self.plan.events:
            if ev.event not in self.p.delivered_events:
                continue
            if not include_transactional and any(c in self.p.transactional_categories for c in _categories(ev)):
                continue
            out.setdefault(email_key(ev.email), []).append(ev)
        return out

    def notice(self) -> None:
        p, N = self.p, self.p.notice_days
        latest = max(self.pdate(ev.ts) for ev in self.plan.events)
        mail = self.delivered_mail()
        for person in self.population(CRM_NEW):
            if p.origin(person.lead_source) != "company":
                continue
            created = self.pdate(person.created)
            key = email_key(person.email)
            days = sorted(self.pdate(ev.ts) for ev in mail.get(key, [])) if key else []
            if (AS_OF - created).days < N or created + dt.timedelta(days=N) > latest:
                continue
            after = [d for d in days if d >= created]
            if bool(days) != bool(after) or (days and ((days[0] - created).days > N) != ((after[0] - created).days > N)):
                raise AssertionError(f"ambiguous sample: {person.id} mailed before its CreatedDate")
            if not days:
                self.add("notice.first_mailing_missing", person.id, key, person.source_kind)
            elif (days[0] - created).days > N:
                self.add("notice.first_mailing_late", person.id, key, person.source_kind)

    def optout(self) -> None:
        plan, p = self.plan, self.p
        starts: dict[str, list[dt.datetime]] = {}
        for m in plan.members:
            if m.status(MC_NEW) == "unsubscribed":
                starts.setdefault(email_key(m.email), []).append(m.unsub)
        groups: dict[str, list[tuple[dt.datetime, bool]]] = {}
        for ev in plan.events:
            key = email_key(ev.email)
            if ev.event in p.optout_events:
                starts.setdefault(key, []).append(ev.ts)
            elif ev.event in p.group_optout_events:
                groups.setdefault(key, []).append((ev.ts, True))
            elif ev.event in p.group_resubscribe_events:
                groups.setdefault(key, []).append((ev.ts, False))
        contacts = {x.id[:15]: x for x in self.population(CRM_NEW) if x.kind == "contact" and x.flag_new}
        for h in plan.history:
            if h.created.date() > CRM_NEW or h.field != p.history_field or h.new not in p.history_true_values:
                continue
            x = contacts.get(h.contact.id[:15])
            if x is not None and email_key(x.email):
                starts.setdefault(email_key(x.email), []).append(h.created)
        flagged: set[str] = set()
        for key, evs in self.delivered_mail().items():
            for ev in evs:
                if not any(c in p.marketing_categories for c in _categories(ev)):
                    continue
                blocked = any(s < ev.ts for s in starts.get(key, []))
                before = sorted(g for g in groups.get(key, []) if g[0] < ev.ts)
                if before and before[-1][1]:
                    blocked = True
                if blocked:
                    flagged.add(key)
        for key in sorted(flagged):
            self.add("optout.marketing_after_optout", key, key, "esp.events")
        pop = self.population(CRM_NEW)
        crm_opted = {email_key(x.email) for x in pop if x.flag_new and email_key(x.email)}
        for m in plan.members:
            key = email_key(m.email)
            status = m.status(MC_NEW)
            if status == "subscribed" and key in crm_opted:
                self.add("optout.not_synced", key, key, "mailchimp.subscribed")
            elif status == "unsubscribed":
                rest = sorted((x for x in pop if email_key(x.email) == key and not x.flag_new), key=lambda x: x.id)
                if rest:
                    self.add("optout.not_synced", key, key, rest[0].source_kind)

    def dsar(self) -> None:
        plan, p = self.plan, self.p
        T = p.policy_target_days
        src = "register.requests"
        free_access = []
        for r in plan.requests:
            closed = r.closed
            answered = r.answered if isinstance(r.answered, dt.date) else None
            end = closed or AS_OF
            key = email_key(r.email)
            if (end - r.received).days > T:
                self.add("dsar.policy_target_missed", r.rid, key, src)
            legal = plan.legal_deadline(r.received)
            extended = plan.extended_deadline(r.received)
            valid_ext = r.extension is not None and r.extension <= legal
            if not valid_ext and end > legal:
                self.add("dsar.legal_deadline_missed", r.rid, key, src)
            if valid_ext and end > extended:
                self.add("dsar.extended_deadline_missed", r.rid, key, src)
            if answered is not None and (r.verified is None or r.verified > answered):
                self.add("dsar.answered_before_identity_verified", r.rid, key, src)
            if p.canonical_type(r.type_label) == "access" and _fee_amount(r.fee) == 0 and key:
                free_access.append(r)
        for r in free_access:
            for e in free_access:
                if e is r or email_key(e.email) != email_key(r.email):
                    continue
                if e.received == r.received:
                    raise AssertionError("ambiguous sample: two free access requests on one day")
                if e.received < r.received < add_months(e.received, p.free_access_months):
                    self.add("dsar.repeat_free_access", r.rid, email_key(r.email), src)
                    break

    def erasure(self) -> None:
        plan, p = self.plan, self.p
        for r in plan.requests:
            if p.canonical_type(r.type_label) != "erasure" or p.canonical_outcome(r.outcome) != "done" or not r.closed:
                continue
            key, crm = email_key(r.email), (trim(r.crm_id) or "")[:15]
            found = False
            for x in (CRM_OLD, CRM_NEW):
                if not (r.closed < x <= AS_OF):
                    continue
                for person in plan.people:
                    if person.state(x) != "A":
                        continue
                    if (key and email_key(person.email) == key) or (crm and person.id[:15] == crm):
                        found = True
            for x in (MC_OLD, MC_NEW):
                if not (r.closed < x <= AS_OF):
                    continue
                if any(m.status(x) is not None and email_key(m.email) == key for m in plan.members):
                    found = True
            if found:
                self.add("erasure.not_executed", r.rid, key, "register.requests")

    def weblog(self) -> None:
        plan = self.plan
        for name, lines in sorted(plan.logs.items()):
            file = f"exports/{WEBLOG_DAY}/weblogs/{name}"
            old: dict[dt.date, int] = {}
            personal: dict[dt.date, int] = {}
            for ln in lines:
                if ln.junk:
                    continue
                if ln.ts < plan.horizon:
                    old[ln.ts.date()] = old.get(ln.ts.date(), 0) + 1
                if _EMAIL_IN_TEXT.search(urllib.parse.unquote(ln.target)):
                    personal[ln.ts.date()] = personal.get(ln.ts.date(), 0) + 1
            for day, n in sorted(old.items()):
                self.add("weblog.retention_exceeded", f"{file}:{day}", None, "weblog.access", n)
            for day, n in sorted(personal.items()):
                self.add("weblog.personal_data_in_url", f"{file}:{day}", None, "weblog.access", n)

    def transfer(self) -> None:
        p = self.p
        for row in self.plan.subprocessors:
            country, mech = row["country_iso2"], row["transfer_mechanism"]
            if country in p.eea:
                continue
            until = dt.date.fromisoformat(row["dpf_certified_until"]) if row["dpf_certified_until"] else None
            ok = {
                "adequacy": country in p.adequacy,
                "dpf": country == p.dpf_country and AS_OF >= p.dpf_adequacy_from and until is not None and until >= AS_OF,
                "scc_2021": bool(row["tia_on"]),
                "scc_2010": AS_OF <= p.old_scc_valid_until,
                "bcr": True,
                "privacy_shield": AS_OF < p.privacy_shield_invalid_from,
            }.get(mech, False)
            if not ok:
                self.add("transfer.invalid_mechanism", row["name"], None, "register.subprocessors")

    def policy_text(self) -> None:
        p = self.p
        file = "policy/integritetspolicy.sv.txt"
        lines = self.plan.policy_text.split("\n")
        for pattern in p.outdated_patterns:
            hits = [(i, ln.lower().count(pattern.lower())) for i, ln in enumerate(lines, start=1)]
            total = sum(n for _, n in hits)
            if total:
                first = next(i for i, n in hits if n)
                self.add("policy.outdated_reference", f"{file}:{first}", None, "policy.text", total)
        stamp, line_no = None, 1
        for i, ln in enumerate(lines, start=1):
            for marker in p.date_markers:
                if marker.lower() in ln.lower():
                    m = re.search(r"\d{4}-\d{2}-\d{2}", ln)
                    if m and stamp is None:
                        stamp, line_no = dt.date.fromisoformat(m.group()), i
        later = max(d for d in (stamp, p.last_reviewed_on) if d is not None)
        if add_months(later, p.review_interval_months) < AS_OF:
            self.add("policy.review_overdue", f"{file}:{line_no}", None, "policy.text")

    def lawful_basis(self) -> None:
        for person in self.population(CRM_NEW):
            if self.p.is_consent(person.lawful_basis):
                self.add("lawful_basis.consent_recorded", person.id, email_key(person.email), person.source_kind)

    def data_quality(self) -> None:
        p = self.p
        pop = self.population(CRM_NEW)
        by_key: dict[str, list[Person]] = {}
        for x in pop:
            key = email_key(x.email)
            if key:
                by_key.setdefault(key, []).append(x)
        out = []
        for x in pop:
            key = email_key(x.email)
            if key and len(by_key[key]) > 1:
                out.append(("duplicate_email", x.source_kind, x.id))
            if not key:
                out.append(("blank_email", x.source_kind, x.id))
            elif not _EMAIL_RE.match(key):
                out.append(("invalid_email_syntax", x.source_kind, x.id))
            if p.origin(x.lead_source) == "unclassified":
                out.append(("unclassified_lead_source", x.source_kind, x.id))
        for r in self.plan.requests:
            if p.canonical_type(r.type_label) is None:
                out.append(("unknown_request_type", "register.requests", r.rid))
            for value in (r.verified, r.extension, r.answered, r.closed):
                if isinstance(value, str) and value:
                    out.append(("unparseable_date", "register.requests", r.rid))
        self.quality = [{"check": c, "source": s, "record_id": i} for c, s, i in sorted(out)]

    # the plan's intents must hold ------------------------------------------
    def check_intents(self) -> list[dict]:
        rid = ref_id
        quality = {(f"quality.{q['check']}", q["record_id"]) for q in self.quality}
        problems = []
        not_findings = []
        explained = set()
        for it in self.plan.intents:
            key = (it.rule, rid(it.ref))
            present = key in quality if it.rule.startswith("quality.") else key in self.findings
            if present != it.flagged:
                problems.append(f"{key}: planted {'flagged' if it.flagged else 'not flagged'} ({it.why}), "
                                f"evaluated {'flagged' if present else 'not flagged'}")
            if it.flagged:
                explained.add(key)
            elif not it.rule.startswith("quality."):
                not_findings.append({"rule": it.rule, "record_id": key[1], "why": it.why})
        for key in sorted(set(self.findings) | quality):
            if key[0].startswith(("weblog.", "policy.")):
                continue
            if key not in explained:
                problems.append(f"{key}: evaluated but not planted")
        if problems:
            raise AssertionError("the sample does not yield what was planted:\n  " + "\n  ".join(problems))
        return sorted(not_findings, key=lambda d: (d["rule"], d["record_id"]))


# ----------------------------------------------------------------- writing the exports

CONTACT_HEADER = [
    "Id", "IsDeleted", "MasterRecordId", "AccountId", "LastName", "FirstName", "Salutation",
    "OtherStreet", "OtherCity", "OtherState", "OtherPostalCode", "OtherCountry", "OtherLatitude", "OtherLongitude",
    "OtherGeocodeAccuracy", "MailingStreet", "MailingCity", "MailingState", "MailingPostalCode", "MailingCountry",
    "MailingLatitude", "MailingLongitude", "MailingGeocodeAccuracy", "Phone", "Fax", "MobilePhone", "HomePhone",
    "OtherPhone", "AssistantPhone", "ReportsToId", "Email", "Title", "Department", "AssistantName", "LeadSource",
    "Birthdate", "Description", "OwnerId", "HasOptedOutOfEmail", "HasOptedOutOfFax", "DoNotCall", "CreatedDate",
    "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp", "LastActivityDate",
    "LastCURequestDate", "LastCUUpdateDate", "EmailBouncedReason", "EmailBouncedDate", "Jigsaw", "JigsawContactId"]
LEAD_HEADER = [
    "Id", "IsDeleted", "MasterRecordId", "LastName", "FirstName", "Salutation", "Title", "Company", "Street", "City",
    "State", "PostalCode", "Country", "Latitude", "Longitude", "GeocodeAccuracy", "Phone", "MobilePhone", "Fax",
    "Email", "Website", "Description", "LeadSource", "Status", "Industry", "Rating", "AnnualRevenue",
    "NumberOfEmployees", "OwnerId", "HasOptedOutOfEmail", "IsConverted", "ConvertedDate", "ConvertedAccountId",
    "ConvertedContactId", "ConvertedOpportunityId", "IsUnreadByOwner", "CreatedDate", "CreatedById",
    "LastModifiedDate", "LastModifiedById", "SystemModstamp", "LastActivityDate", "DoNotCall", "HasOptedOutOfFax",
    "LastTransferDate", "Jigsaw", "JigsawContactId", "EmailBouncedReason", "EmailBouncedDate"]
ACCOUNT_HEADER = [
    "Id", "IsDeleted", "MasterRecordId", "Name", "Type", "ParentId", "BillingStreet", "BillingCity", "BillingState",
    "BillingPostalCode", "BillingCountry", "BillingLatitude", "BillingLongitude", "BillingGeocodeAccuracy",
    "ShippingStreet", "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry", "Phone", "Fax",
    "AccountNumber", "Website", "Sic", "Industry", "AnnualRevenue", "NumberOfEmployees", "Ownership",
    "TickerSymbol", "Description", "Rating", "Site", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate",
    "LastModifiedById", "SystemModstamp", "LastActivityDate", "Jigsaw", "JigsawCompanyId", "AccountSource"]
TASK_HEADER = [
    "Id", "WhoId", "WhatId", "Subject", "ActivityDate", "Status", "Priority", "IsHighPriority", "OwnerId",
    "Description", "IsDeleted", "AccountId", "IsClosed", "CreatedDate", "CreatedById", "LastModifiedDate",
    "LastModifiedById", "SystemModstamp", "IsArchived", "CallDurationInSeconds", "CallType", "CallDisposition",
    "CallObject", "ReminderDateTime", "IsReminderSet", "RecurrenceActivityId", "IsRecurrence", "TaskSubtype",
    "CompletedDateTime"]
EVENT_HEADER = [
    "Id", "WhoId", "WhatId", "Subject", "Location", "IsAllDayEvent", "ActivityDateTime", "ActivityDate",
    "DurationInMinutes", "StartDateTime", "EndDateTime", "Description", "AccountId", "OwnerId", "IsPrivate",
    "ShowAs", "IsDeleted", "IsChild", "IsGroupEvent", "GroupEventType", "CreatedDate", "CreatedById",
    "LastModifiedDate", "LastModifiedById", "SystemModstamp", "IsArchived", "IsRecurrence", "EventSubtype"]
OPPORTUNITY_HEADER = [
    "Id", "IsDeleted", "AccountId", "IsPrivate", "Name", "Description", "StageName", "Amount", "Probability",
    "ExpectedRevenue", "TotalOpportunityQuantity", "CloseDate", "Type", "NextStep", "LeadSource", "IsClosed",
    "IsWon", "ForecastCategory", "ForecastCategoryName", "CampaignId", "HasOpportunityLineItem", "Pricebook2Id",
    "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
    "LastActivityDate", "FiscalQuarter", "FiscalYear", "Fiscal"]
OCR_HEADER = ["Id", "OpportunityId", "ContactId", "Role", "IsPrimary", "CreatedDate", "CreatedById",
              "LastModifiedDate", "LastModifiedById", "SystemModstamp", "IsDeleted"]
HISTORY_HEADER = ["Id", "IsDeleted", "ContactId", "CreatedById", "CreatedDate", "Field", "DataType", "OldValue",
                  "NewValue"]
CAMPAIGN_HEADER = [
    "Id", "IsDeleted", "Name", "ParentId", "Type", "Status", "StartDate", "EndDate", "ExpectedRevenue",
    "BudgetedCost", "ActualCost", "ExpectedResponse", "NumberSent", "IsActive", "Description", "NumberOfLeads",
    "NumberOfConvertedLeads", "NumberOfContacts", "NumberOfResponses", "NumberOfOpportunities",
    "NumberOfWonOpportunities", "AmountAllOpportunities", "AmountWonOpportunities", "OwnerId", "CreatedDate",
    "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp", "LastActivityDate",
    "CampaignMemberRecordTypeId"]
CAMPAIGN_MEMBER_HEADER = ["Id", "IsDeleted", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
                          "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
                          "FirstRespondedDate"]
STAGE_PROBABILITY = {"Prospecting": 10, "Qualification": 20, "Needs Analysis": 30, "Proposal/Price Quote": 60,
                     "Negotiation/Review": 80, "Closed Won": 100, "Closed Lost": 0}
CITY_COORDS = {"Stockholm": (59.3293, 18.0686), "Göteborg": (57.7089, 11.9746), "Malmö": (55.605, 13.0038),
               "Umeå": (63.8258, 20.263), "Uppsala": (59.8586, 17.6389)}
MC_BASE = ["Email Address", "First Name", "Last Name", "Företag", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
           "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION"]
MC_TAIL = {
    "subscribed": ["LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"],
    "unsubscribed": ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER",
                     "LEID", "EUID", "NOTES", "TAGS"],
    "cleaned": ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID", "LEID", "EUID", "NOTES", "TAGS"],
}


class Writer:
    """Turns the plan into files under out_dir and counts their records."""

    def __init__(self, plan: Plan, out_dir: Path):
        self.plan = plan
        self.p = plan.p
        self.out = out_dir
        self.files: dict[str, dict] = {}
        self.hexes = random.Random(f"hex-{plan.seed}")

    def put(self, rel: str, data: bytes) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def count(self, rel: str, records: int, rejected: int = 0) -> None:
        self.files[rel] = {"records": records, "rejected": rejected}

    def stable(self, key: str) -> random.Random:
        return random.Random(f"{self.plan.seed}-{key}")

    # Salesforce -----------------------------------------------------------
    def last_activity(self, person: Person, export: dt.date) -> dt.date | None:
        dates = [t.date for t in self.plan.tasks if t.who is person and t.closed and not t.deleted
                 and t.created.date() <= export]
        dates += [m.start.date() for m in self.plan.meetings if m.who is person and not m.deleted
                  and m.created.date() <= export]
        return max(dates) if dates else None

    def modified(self, person: Person, export: dt.date) -> dt.datetime:
        stamps = [person.created]
        stamps += [h.created for h in self.plan.history if h.contact is person and h.created.date() <= export]
        stamps += [t.created for t in self.plan.tasks if t.who is person and t.created.date() <= export]
        r = self.stable(f"mod-{person.id}")
        extra = person.created + dt.timedelta(days=r.randint(0, 400), hours=r.randint(0, 5))
        if extra.date() <= export - dt.timedelta(days=1):
            stamps.append(extra)
        return max(stamps)

    def contact_rows(self, export: dt.date) -> list[list]:
        rows = []
        people = [x for x in self.plan.people if x.kind == "contact" and x.state(export) is not None]
        for x in sorted(people, key=lambda x: (x.created, x.id)):
            r = self.stable(f"contact-{x.id}")
            street = f"{r.choice(STREETS)} {r.randint(1, 60)}"
            lat, lon = CITY_COORDS.get(x.city, (None, None))
            mod = self.modified(x, export)
            lad = self.last_activity(x, export)
            row = [x.id, sf_b(x.state(export) == "D"), "", x.account.id if x.account else "", x.last, x.first,
                   r.choice(["", "", "", "Mr.", "Ms."]), "", "", "", "", "", "", "", "",
                   street, x.city, "", f"{r.randint(100, 999)} {r.randint(10, 99)}", "Sverige",
                   f"{lat:.7f}" if lat else "", f"{lon:.7f}" if lon else "", "Address" if lat else "",
                   x.phone if r.random() < 0.5 else "", "", x.phone, "", "", "", "", x.email, x.title,
                   r.choice(["", "IT", "Inköp", "Ledning", "Ekonomi"]), "", x.lead_source, "", x.description,
                   x.owner.id, sf_b(x.flag(export)), "false", sf_b(r.random() < 0.03), sf_dt(x.created),
                   x.owner.id, sf_dt(mod), x.owner.id, sf_dt(mod), sf_d(lad), "", "", "", "", "", "",
                   x.lawful_basis]
            rows.append(row)
        return rows

    def lead_rows(self, export: dt.date) -> list[list]:
        rows = []
        people = [x for x in self.plan.people if x.kind == "lead" and x.state(export) is not None]
        for x in sorted(people, key=lambda x: (x.created, x.id)):
            r = self.stable(f"lead-{x.id}")
            conv = x.converted_to
            status = "Closed - Converted" if conv else r.choice(["Open - Not Contacted", "Working - Contacted",
                                                                 "Working - Contacted", "Closed - Not Converted"])
            mod = self.modified(x, export)
            if conv is not None:
                mod = max(mod, conv.created)
            row = [x.id, sf_b(x.state(export) == "D"), "", x.last, x.first, "", x.title, x.company or "(okänt)",
                   f"{r.choice(STREETS)} {r.randint(1, 60)}", x.city, "", f"{r.randint(100, 999)} {r.randint(10, 99)}",
                   "Sverige", "", "", "", x.phone, "", "", x.email, "", x.description, x.lead_source, status,
                   r.choice(INDUSTRIES), r.choice(["", "Hot", "Warm", "Cold"]), "", str(r.choice([8, 25, 60, 140, 400])),
                   x.owner.id, sf_b(x.flag(export)), sf_b(conv is not None), sf_d(x.converted_on),
                   conv.account.id if conv else "", conv.id if conv else "", "", "false", sf_dt(x.created),
                   x.owner.id, sf_dt(mod), x.owner.id, sf_dt(mod), sf_d(self.last_activity(x, export)), "false",
                   "false", "", "", "", "", "", x.lawful_basis]
            rows.append(row)
        return rows

    def account_rows(self, export: dt.date) -> list[list]:
        rows = []
        for a in sorted(self.plan.accounts, key=lambda a: (a.created, a.id)):
            r = self.stable(f"acc-{a.id}")
            rows.append([a.id, "false", "", a.name, a.type, "", f"{r.choice(STREETS)} {r.randint(1, 90)}", a.city, "",
                         f"{r.randint(100, 999)} {r.randint(10, 99)}", "Sverige", "", "", "", "", "", "", "", "",
                         f"0{r.choice(['8', '31', '40', '90'])}-{r.randint(100, 999)} {r.randint(10, 99)} 00", "",
                         f"556{r.randint(100, 999)}-{r.randint(1000, 9999)}", f"https://www.{a.domain}", "",
                         a.industry, str(r.choice([2_000_000, 15_000_000, 80_000_000, 350_000_000])),
                         str(r.choice([6, 18, 45, 120, 600])), "Private", "", "", "", "", self.plan.sales[0].id,
                         sf_dt(a.created), self.plan.sales[0].id, sf_dt(a.created), self.plan.sales[0].id,
                         sf_dt(a.created), "", "", "", r.choice(["Web", "Purchased List", "Partner", ""])])
        return rows

    def task_rows(self, export: dt.date) -> list[list]:
        rows = []
        tasks = [t for t in self.plan.tasks if t.created.date() <= export and t.who.state(export) is not None]
        for t in sorted(tasks, key=lambda t: (t.created, t.id)):
            r = self.stable(f"task-{t.id}")
            deleted = t.deleted or t.who.state(export) == "D"
            completed = ""
            if t.closed:
                completed = sf_dt(t.created if t.created.date() >= t.date else self.plan.at(t.date, 14, r.randint(0, 59)))
            call = t.subtype == SUB_CALL
            rows.append([t.id, t.who_id, t.what, t.subject, sf_d(t.date), "Completed" if t.closed else
                         r.choice(["Not Started", "In Progress"]), "Normal", "false", t.who.owner.id, t.description,
                         sf_b(deleted), t.who.account.id if t.who.account else "", sf_b(t.closed), sf_dt(t.created),
                         t.who.owner.id, sf_dt(t.created), t.who.owner.id, sf_dt(t.created), "false",
                         str(r.randint(60, 1500)) if call else "", "Outbound" if call else "", "", "", "", "false",
                         "", "false", t.subtype, completed])
        return rows

    def event_rows(self, export: dt.date) -> list[list]:
        rows = []
        meetings = [m for m in self.plan.meetings if m.created.date() <= export and m.who.state(export) is not None]
        for m in sorted(meetings, key=lambda m: (m.created, m.id)):
            end = m.start + dt.timedelta(minutes=m.minutes)
            deleted = m.deleted or m.who.state(export) == "D"
            rows.append([m.id, m.who.id, "", m.subject, m.location, "false", sf_dt(m.start), sf_d(m.start.date()),
                         str(m.minutes), sf_dt(m.start), sf_dt(end), "", m.who.account.id if m.who.account else "",
                         m.who.owner.id, "false", "Busy", sf_b(deleted), "false", "false", "0", sf_dt(m.created),
                         m.who.owner.id, sf_dt(m.created), m.who.owner.id, sf_dt(m.created), "false", "false",
                         "Event"])
        return rows

    def opportunity_rows(self, export: dt.date) -> list[list]:
        rows = []
        opps = [o for o in self.plan.opps if o.created.date() <= export]
        for o in sorted(opps, key=lambda o: (o.created, o.id)):
            prob = STAGE_PROBABILITY.get(o.stage, 10)
            forecast = "Closed" if o.won else ("Omitted" if o.closed else ("Commit" if prob >= 80 else
                                                                          "BestCase" if prob >= 60 else "Pipeline"))
            last = o.last_activity if o.last_activity and o.last_activity <= export else None
            q = (o.close_date.month - 1) // 3 + 1
            rows.append([o.id, sf_b(o.deleted), o.account.id, "false", o.name, "", o.stage, f"{o.amount:.2f}",
                         str(prob), f"{o.amount * prob / 100:.2f}", "", sf_d(o.close_date),
                         "New Business", "", o.lead_source, sf_b(o.closed), sf_b(o.won), forecast,
                         forecast.replace("BestCase", "Best Case"), "", "false", "", self.plan.sales[0].id,
                         sf_dt(o.created), self.plan.sales[0].id, sf_dt(o.created), self.plan.sales[0].id,
                         sf_dt(o.created), sf_d(last), str(q), str(o.close_date.year),
                         f"{o.close_date.year} {q}"])
        return rows

    def role_rows(self, export: dt.date) -> list[list]:
        rows = []
        roles = [r for r in self.plan.roles if r.created.date() <= export and r.contact.state(export) is not None]
        for r in sorted(roles, key=lambda r: (r.created, r.id)):
            deleted = r.deleted or r.contact.state(export) == "D"
            rows.append([r.id, r.opp.id, r.contact.id, r.role, sf_b(r.primary), sf_dt(r.created),
                         self.plan.sales[0].id, sf_dt(r.created), self.plan.sales[0].id, sf_dt(r.created),
                         sf_b(deleted)])
        return rows

    def history_rows(self, export: dt.date, with_name: bool = False) -> list[list]:
        rows = []
        hist = [h for h in self.plan.history if h.created.date() <= export and h.contact.state(export) is not None]
        for h in sorted(hist, key=lambda h: (h.created, h.id)):
            row = [h.id, sf_b(h.contact.state(export) == "D"), h.contact.id, h.by.id, sf_dt(h.created), h.field,
                   h.datatype, h.old, h.new]
            if with_name:
                row.append(h.by.name)
            rows.append(row)
        return rows

    def campaign_rows(self, export: dt.date) -> list[list]:
        rows = []
        for c in sorted(self.plan.campaigns, key=lambda c: (c.created, c.id)):
            if c.created.date() > export:
                continue
            ms = [m for m in self.plan.cmembers if m.campaign is c and m.created.date() <= export and not m.deleted]
            leads = sum(1 for m in ms if m.person.kind == "lead")
            rows.append([c.id, sf_b(c.deleted), c.name, "", c.type, "Completed" if c.end < export else "In Progress",
                         sf_d(c.start), sf_d(c.end), "", "25000.00", "", "", str(len(ms)),
                         sf_b(c.end >= export), c.description, str(leads), "0", str(len(ms) - leads),
                         str(sum(1 for m in ms if m.responded)), "0", "0", "0.00", "0.00", self.plan.sales[2].id,
                         sf_dt(c.created), self.plan.sales[2].id, sf_dt(c.created), self.plan.sales[2].id,
                         sf_dt(c.created), "", ""])
        return rows

    def campaign_member_rows(self, export: dt.date) -> list[list]:
        rows = []
        ms = [m for m in self.plan.cmembers if m.created.date() <= export and m.person.state(export) is not None]
        for m in sorted(ms, key=lambda m: (m.created, m.id)):
            lead = m.person.kind == "lead"
            deleted = m.deleted or m.person.state(export) == "D"
            rows.append([m.id, sf_b(deleted), m.campaign.id, m.person.id if lead else "", "" if lead else m.person.id,
                         m.status, sf_b(m.responded), sf_dt(m.created), self.plan.sales[2].id, sf_dt(m.created),
                         self.plan.sales[2].id, sf_dt(m.created), sf_d(m.created.date()) if m.responded else ""])
        return rows

    def write_crm(self, export: dt.date, bom: bool, with_history: bool) -> None:
        p = self.p
        objects = [
            ("Contact.csv", CONTACT_HEADER + [p.contact_basis_field], self.contact_rows(export)),
            ("Lead.csv", LEAD_HEADER + [p.lead_basis_field], self.lead_rows(export)),
            ("Account.csv", ACCOUNT_HEADER, self.account_rows(export)),
            ("Task.csv", TASK_HEADER, self.task_rows(export)),
            ("Event.csv", EVENT_HEADER, self.event_rows(export)),
            ("Opportunity.csv", OPPORTUNITY_HEADER, self.opportunity_rows(export)),
            ("OpportunityContactRole.csv", OCR_HEADER, self.role_rows(export)),
            ("ContactHistory.csv", HISTORY_HEADER, self.history_rows(export)),
            ("Campaign.csv", CAMPAIGN_HEADER, self.campaign_rows(export)),
            ("CampaignMember.csv", CAMPAIGN_MEMBER_HEADER, self.campaign_member_rows(export)),
        ]
        rel = f"exports/{export}/WE_{ORG_ID}_1.zip"
        members = []
        for name, header, rows in objects:
            if name == "ContactHistory.csv" and not with_history:
                continue
            members.append((name, csv_all_quoted(header, rows, bom=bom)))
            self.count(f"{rel}!{name}", len(rows))
        self.put(rel, zip_bytes(members, Plan.at(export, 18, 30)))
        if not with_history:
            rows = self.history_rows(export, with_name=True)
            header = [h.upper() for h in HISTORY_HEADER] + ["CREATEDBY.NAME"]
            rel = f"exports/{export}/extract_contacthistory.csv"
            self.put(rel, csv_all_quoted(header, rows, encoding="cp1252"))
            self.count(rel, len(rows))

    # Mailchimp ------------------------------------------------------------
    def mc_rows(self, status: str, export: dt.date) -> list[list]:
        rows = []
        ms = [m for m in self.plan.members if m.status(export) == status]
        for m in sorted(ms, key=lambda m: (m.optin, m.email)):
            r = self.stable(f"mc-{m.email}")
            city = r.choice(list(CITY_COORDS))
            lat, lon = CITY_COORDS[city]
            has_geo = r.random() < 0.5
            confirm = m.optin + dt.timedelta(minutes=r.randint(1, 30))
            base = [m.email, m.first, m.last, m.company, m.rating, mc_dt(m.optin),
                    f"81.224.{r.randint(1, 254)}.{r.randint(1, 254)}" if r.random() < 0.4 else "", mc_dt(confirm),
                    f"81.224.{r.randint(1, 254)}.{r.randint(1, 254)}" if r.random() < 0.4 else "",
                    f"{lat:.7f}" if has_geo else "", f"{lon:.7f}" if has_geo else "", "1" if has_geo else "",
                    "2" if has_geo else "", "Europe/Stockholm" if has_geo else "", "SE" if has_geo else "",
                    m.region if has_geo else ""]
            tags = ",".join(f'"{t}"' for t in m.tags)
            campaign_id = f"{self.stable('camp-' + m.unsub_campaign).getrandbits(40):010x}"
            if status == "subscribed":
                tail = [mc_dt(max(confirm, m.optin + dt.timedelta(days=r.randint(0, 300)))
                              if (m.optin + dt.timedelta(days=300)).date() < export else confirm),
                        m.leid, m.euid, "", tags]
            elif status == "unsubscribed":
                tail = [mc_dt(m.unsub), m.unsub_campaign, campaign_id, m.unsub_reason,
                        "Får för många mejl" if m.unsub_reason.startswith("Other") else "", m.leid, m.euid, "", tags]
            else:
                tail = [mc_dt(m.cleaned), f"Nyhetsbrev {m.cleaned:%Y-%m}",
                        f"{self.stable('clean-' + m.email).getrandbits(40):010x}", m.leid, m.euid, "", tags]
            rows.append(base + tail)
        return rows

    def write_mailchimp(self) -> None:
        new_hex = f"{self.hexes.getrandbits(40):010x}"
        for status in ("subscribed", "unsubscribed", "cleaned"):
            rel = f"exports/{MC_NEW}/mailchimp/{status}_email_audience_export_{new_hex}.csv"
            rows = self.mc_rows(status, MC_NEW)
            self.put(rel, csv_mailchimp(MC_BASE + MC_TAIL[status], rows))
            self.count(rel, len(rows))
        old_hex = f"{self.hexes.getrandbits(40):010x}"
        rel = f"exports/{MC_OLD}/members_export_{old_hex}.zip"
        members = []
        for status in ("subscribed", "unsubscribed", "cleaned"):
            name = f"{status}_members_export_{old_hex}.csv"
            rows = self.mc_rows(status, MC_OLD)
            members.append((name, csv_mailchimp(MC_BASE + MC_TAIL[status], rows)))
            self.count(f"{rel}!{name}", len(rows))
        self.put(rel, zip_bytes(members, Plan.at(MC_OLD, 11, 2)))

    # SendGrid events ------------------------------------------------------
    @staticmethod
    def event_obj(ev: MailEvent) -> dict:
        obj = {"email": ev.email, "timestamp": unix(ev.ts), "smtp-id": f"<{ev.msg}@ismtpd0001p1lon1.sendgrid.net>",
               "event": ev.event}
        if ev.category is not None:
            obj["category"] = ev.category
        obj["sg_event_id"] = ev.sg_event_id
        obj["sg_message_id"] = f"{ev.msg}.filterdrecv-5bd68478-{ev.msg[-5:]}-1.0"
        obj.update(ev.extra)
        return obj

    def write_events(self) -> None:
        events = sorted(self.plan.events, key=lambda e: (e.ts, e.sg_event_id))
        cut1 = dt.datetime(2026, 1, 1)
        cut2 = dt.datetime(2026, 10, 1)
        part1 = [e for e in events if e.ts < cut1]
        part2 = [e for e in events if cut1 <= e.ts < cut2]
        part3 = [e for e in events if e.ts >= cut2]
        part2 = part1[-4:] + part2          # the same webhook posts saved twice: dedupe by sg_event_id
        part3 = part2[-2:] + part3
        base = f"exports/{EVENTS_DAY}/events"
        for name, part in (("esp-events-2026-01.jsonl", part1), ("esp-events-2026-10.jsonl", part2)):
            text = "".join(json.dumps(self.event_obj(e), ensure_ascii=False) + "\n" for e in part)
            self.put(f"{base}/{name}", text.encode("utf-8"))
            self.count(f"{base}/{name}", len(part))
        name = "webhook-batch-2026-11-23.json"
        text = json.dumps([self.event_obj(e) for e in part3], ensure_ascii=False, indent=2) + "\n"
        self.put(f"{base}/{name}", text.encode("utf-8"))
        self.count(f"{base}/{name}", len(part3))

    # web logs -------------------------------------------------------------
    def write_weblogs(self) -> None:
        base = f"exports/{WEBLOG_DAY}/weblogs"
        for name, lines in sorted(self.plan.logs.items()):
            text = "\n".join(ln.text for ln in lines)
            if not lines[-1].junk:
                text += "\n"                 # the live file ends in a truncated line without a newline
            data = text.encode("utf-8")
            if name.endswith(".gz"):
                data = gzip_bytes(data)
            self.put(f"{base}/{name}", data)
            self.count(f"{base}/{name}", len(lines), sum(1 for ln in lines if ln.junk))

    # registers ------------------------------------------------------------
    def register_row(self, r: Request, snapshot: dt.date | None = None) -> list:
        def d(value):
            if value is None or value == "":
                return None
            if isinstance(value, str):
                return value
            if snapshot is not None and value > snapshot:
                return None
            return value

        closed = d(r.closed)
        outcome = r.outcome if closed else ""
        return [r.rid, r.received, r.channel, r.name, r.email, r.crm_id, r.type_label, d(r.verified), r.method,
                d(r.extension), r.extension_reason if d(r.extension) else "", d(r.answered), closed, outcome,
                r.fee, r.handler, r.notes]

    def write_register(self) -> None:
        p = self.p
        header = [p.column(k) for k in p.register_columns]
        rows = []
        for r in self.plan.requests:
            row = self.register_row(r)
            rows.append(["" if v is None else (v.isoformat() if isinstance(v, dt.date) else v) for v in row])
        rel = f"exports/{REGISTER_NEW}/register/dpo-register.csv"
        self.put(rel, csv_excel_sv(header, rows))
        self.count(rel, len(rows))
        # the older snapshot, as the DPO's workbook
        import openpyxl
        from openpyxl.styles import Font
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Begäranden"
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        n = 0
        for r in self.plan.requests:
            if r.received > REGISTER_OLD:
                continue
            row = self.register_row(r, REGISTER_OLD)
            fee = _fee_amount(row[14]) if row[14] else None
            row[14] = fee
            ws.append(row)
            n += 1
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
        for col, width in zip("ABCDEFGHIJKLMNOPQ", [14, 12, 13, 22, 30, 20, 16, 14, 24, 14, 26, 14, 14, 10, 10, 16, 36]):
            ws.column_dimensions[col].width = width
        wb.properties.creator = self.plan.dpo.name
        wb.properties.lastModifiedBy = self.plan.dpo.name
        wb.properties.title = "Register över begäranden från registrerade"
        wb.properties.created = XLSX_TIME - dt.timedelta(days=540)
        wb.properties.modified = XLSX_TIME
        rel = f"exports/{REGISTER_OLD}/register/dpo-register.xlsx"
        self.put(rel, xlsx_bytes(wb, XLSX_TIME))
        self.count(rel, n)

    def write_subprocessors(self) -> None:
        header = ["name", "country_iso2", "role", "transfer_mechanism", "dpf_certified_until", "tia_on", "dpa_on"]
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for row in self.plan.subprocessors:
            w.writerow([row[h] for h in header])
        rel = f"exports/{SUBPROC_DAY}/register/subprocessors.csv"
        self.put(rel, buf.getvalue().encode("utf-8"))
        self.count(rel, len(self.plan.subprocessors))

    def write_policy_text(self) -> None:
        self.put("policy/integritetspolicy.sv.txt", self.plan.policy_text.encode("utf-8"))


def xlsx_bytes(wb, when: dt.datetime) -> bytes:
    """Save a workbook with fixed document properties and fixed ZIP member times."""
    from openpyxl.writer.excel import ExcelWriter

    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()      # unlike Workbook.save(), this keeps properties.modified
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o100644 << 16
            dst.writestr(fixed, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return out.getvalue()


# ----------------------------------------------------------------- putting it together


def build_plan(policy: Policy, seed: int) -> Plan:
    plan = Plan(policy, seed)
    plan.build_users()
    plan.build_accounts()
    plan.build_schedule()
    plan.plant_retention()
    plan.plant_notice()
    plan.plant_optout()
    plan.plant_erasure_people()
    plan.plant_lawful_basis()
    plan.plant_quality()
    plan.build_fillers()
    plan.filler_activities()
    plan.filler_opportunities()
    plan.build_campaigns()
    plan.filler_history()
    plan.filler_mailchimp()
    plan.bulk_mail()
    plan.build_register()
    plan.build_weblogs()
    plan.build_subprocessors()
    plan.build_policy_text()
    plan.add_demo_person()          # last: hand-written, no random draws, so every other row stays the same
    return plan


def _readme(plan: Plan, expected: dict) -> str:
    counts: dict[str, int] = {}
    for f in expected["findings"]:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    qcounts: dict[str, int] = {}
    for q in expected["quality"]:
        qcounts[q["check"]] = qcounts.get(q["check"], 0) + 1
    lines = [
        f"# Sample exports: {COMPANY} (synthetic)",
        "",
        f"Generated by `python tests/sample.py data/sample --seed {plan.seed}` (`tests/sample.py`).",
        "Do not edit by hand: change the generator and run it again (same seed, same bytes).",
        "Every person, company and address here is invented.",
        "",
        f"**As-of date: {AS_OF}.** `expected_findings.json` holds what the rules must find at that date,",
        "evaluated from the generator's own plan (each case is planted on purpose and checked against",
        "what was planted), the boundary cases that must *not* be flagged (`not_findings`), the data",
        "quality findings, and the record count of every export file (`files`).",
        "",
        "## Layout",
        "",
        "Each export sits in a folder named after the day it was taken (the loader stamps it from the name).",
        "",
        "| folder | what | shape |",
        "|---|---|---|",
        f"| `exports/{REGISTER_OLD}/register/` | older request register snapshot | Excel workbook |",
        f"| `exports/{SUBPROC_DAY}/register/` | sub-processors and transfer bases | CSV |",
        f"| `exports/{CRM_OLD}/` | Salesforce weekly export (with ContactHistory) and a Mailchimp audience ZIP "
        "(older file names) | UTF-8 with BOM, all quoted, CRLF |",
        f"| `exports/{CRM_NEW}/` | the next Salesforce export (UTF-8, no BOM, no ContactHistory), a Data Loader "
        "extract of ContactHistory (upper-case headers, cp1252), Mailchimp audience files, the register as "
        "Swedish Excel CSV (cp1252, `;`, NBSP in fees, Alt+Enter line breaks, one malformed date) | |",
        f"| `exports/{EVENTS_DAY}/events/` | SendGrid event webhook dumps: JSON lines and one JSON array; "
        "some events saved twice (dedupe by `sg_event_id`) | |",
        f"| `exports/{WEBLOG_DAY}/weblogs/` | `access.log` and rotated `access.log.1.gz` (combined format, "
        "+0100/+0200, IPv6, a TLS handshake line, a truncated last line) | |",
        "| `policy/integritetspolicy.sv.txt` | the privacy policy text the `policy.*` rules read | |",
        "",
        f"The CRM, audience and register exports judged at {AS_OF} are those of {CRM_NEW}; the older ones",
        "matter for `erasure.not_executed` (every export taken after an erasure) and show change over time.",
        "Planned activities keep their planned dates (a meeting next week, open tasks' due dates, open",
        "opportunities' close dates, and Salesforce's LastActivityDate that counts future meetings); nothing",
        f"that happened is dated after {AS_OF}, and no e-mail event after {LATEST_EVENT_DAY}.",
        "",
        "## Expected findings per rule",
        "",
        "| rule | findings |",
        "|---|---|",
    ]
    lines += [f"| `{rule}` | {n} |" for rule, n in sorted(counts.items())]
    lines += ["", "Data quality: " + ", ".join(f"{c} {n}" for c, n in sorted(qcounts.items())) + ".", "",
              "## Planted cases", ""]
    by_rule: dict[str, list[Intent]] = {}
    for it in plan.intents:
        by_rule.setdefault(it.rule, []).append(it)
    for rule in sorted(by_rule):
        lines.append(f"- `{rule}`")
        for it in by_rule[rule]:
            lines.append(f"  - {'flagged' if it.flagged else 'not flagged'} `{ref_id(it.ref)}`: {it.why}")
    lines += ["- `weblog.*`: lines before the horizon "
              f"{add_months(AS_OF, -plan.p.weblog_months)} 00:00 {plan.p.horizon_zone.key} "
              f"({plan.horizon:%Y-%m-%d %H:%M} UTC), with lines exactly on it, one second before it and on the "
              "same UTC date after it, across the end of summer time; e-mail addresses in request targets "
              "(one line whose local date differs from its UTC date, and the demo person's webinar sign-up), "
              "not counted in a Referer or an empty `email=` parameter.",
              "- `policy.*`: the text names Privacy Shield twice, Datainspektionen and \"30 dagar\" once, and is "
              "dated 2023-05-02; the policy file's last review is older than its interval.", ""]
    lines += _readme_demo(plan)
    return "\n".join(lines)


def _readme_demo(plan: Plan) -> list[str]:
    c, r, line = plan.demo, plan.demo_request, plan.demo_log
    role = next(x for x in plan.roles if x.contact is c)
    camp = next(m.campaign for m in plan.cmembers if m.person is c)
    member = next(m for m in plan.members if m.person is c)
    events = sorted((e for e in plan.events if e.email == DEMO_PERSON_EMAIL), key=lambda e: e.ts)
    hist = next(h for h in plan.history if h.contact is c)
    day = events[0].ts.date()
    return [
        "## Demo person for `insyn dsar report`",
        "",
        (f"**{DEMO_PERSON_NAME}** (`{DEMO_PERSON_EMAIL}`, {c.title} at {c.account.name}, {c.city}) is written by hand "
         "into every source, so that her access report (GDPR art. 15) shows records from all of them "
         "(`demo_person` in `expected_findings.json`: `insyn demo` writes her report):"),
        "",
        (f"- Salesforce, both exports: Contact `{c.id}` (`{c.id[:15]}`), LeadSource {c.lead_source}, created "
         f"{c.created.date()}; two tasks (a call and an e-mail), a meeting, a role on the opportunity "
         f"\"{role.opp.name}\", a member of the campaign \"{camp.name}\", and a {hist.field} change "
         f"({hist.old} → {hist.new}) in ContactHistory."),
        f"- Mailchimp, both exports: subscribed since {member.optin.date()}.",
        f"- E-mail events: the newsletter of {day} ({', '.join(e.event for e in events)}).",
        (f"- Web log: `access.log`, {line.ts.date()}, her address in a query string (`{line.target}`): "
         "one of the `weblog.personal_data_in_url` findings."),
        (f"- Register, export of {REGISTER_NEW}: `{r.rid}`, {r.type_label} received {r.received}, identity verified "
         f"{r.verified} ({r.method}), still open; no `dsar.*` finding at {AS_OF}."),
        "",
        "```sh",
        "make demo",
        f"insyn --db data/demo/insyn.duckdb dsar report {DEMO_PERSON_EMAIL} --as-of {AS_OF}",
        "```",
        "",
    ]


def generate(out_dir: Path, seed: int = DEFAULT_SEED, policy_path: Path | None = None) -> dict:
    """Write the sample exports and expected_findings.json into out_dir; return the expectations."""
    import shutil

    out_dir = Path(out_dir)
    policy = Policy(Path(policy_path) if policy_path else default_policy_path())
    policy.check_sample_data()
    plan = build_plan(policy, seed)
    ev = Evaluator(plan)
    ev.run()
    not_findings = ev.check_intents()

    out_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("exports", "policy"):
        if (out_dir / sub).exists():
            shutil.rmtree(out_dir / sub)
    w = Writer(plan, out_dir)
    w.write_register()
    w.write_subprocessors()
    w.write_crm(CRM_OLD, bom=True, with_history=True)
    w.write_crm(CRM_NEW, bom=False, with_history=False)
    w.write_mailchimp()
    w.write_events()
    w.write_weblogs()
    w.write_policy_text()

    findings = []
    for f in sorted(ev.findings.values(), key=lambda f: (f["rule"], f["record_id"])):
        item = {"rule": f["rule"], "record_id": f["record_id"], "email": f["email"], "source": f["source"]}
        if f["count"] > 1:
            item["count"] = f["count"]
        findings.append(item)
    expected = {
        "as_of": AS_OF.isoformat(),
        "seed": seed,
        # `insyn demo` writes this person's access report (it has no generator to ask)
        "demo_person": {"name": DEMO_PERSON_NAME, "email": DEMO_PERSON_EMAIL},
        "findings": findings,
        "not_findings": not_findings,
        "quality": ev.quality,
        "files": {k: w.files[k] for k in sorted(w.files)},
    }
    (out_dir / "expected_findings.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                                     encoding="utf-8")
    (out_dir / "README.md").write_text(_readme(plan, expected), encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tests/sample.py",
                                     description="Write the synthetic sample exports and their expected findings.")
    parser.add_argument("out_dir", type=Path, help="folder to write (its exports/ and policy/ are replaced)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--policy", type=Path, default=None, help="policy file (default: the repository's policy.toml)")
    args = parser.parse_args(argv)
    expected = generate(args.out_dir, seed=args.seed, policy_path=args.policy)
    counts: dict[str, int] = {}
    for f in expected["findings"]:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    print(f"sample written to {args.out_dir} (as of {expected['as_of']}, seed {expected['seed']}): "
          f"{len(expected['files'])} export files, {len(expected['findings'])} findings, "
          f"{len(expected['quality'])} quality findings")
    for rule, n in sorted(counts.items()):
        print(f"  {rule}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
