"""Scale data for the benchmarks: the real export shapes at any size, fast and seeded.

    python benchmarks/generate.py OUT_DIR --contacts N --events M [--seed S]
        [--as-of 2026-11-24] [--weeks W] [--extra-week]

Every file is written by DuckDB (`COPY ... TO`) from SQL over `range()`, with
`hash(seed, key, index)` as the only source of chance: no Python loop touches
a row, and the same seed gives the same bytes. The shapes are those of
tests/sample.py and ../shared/design/export-formats.md; each export sits in
a folder named after the day it was taken (Insyn stamps the export from it):

    OUT/<as-of>/salesforce/   Contact, Lead, Account, Task, Event, Opportunity,
                              OpportunityContactRole, ContactHistory (.csv, all quoted, CRLF)
    OUT/<as-of>/mailchimp/    subscribed_/unsubscribed_/cleaned_email_audience_export_<hex>.csv
    OUT/<as-of>/events/       esp-events-YYYY-MM.jsonl (SendGrid webhook objects, one per line)
    OUT/<as-of>/weblogs/      access.log (combined log format)
    OUT/<as-of>/register/     dpo-register.csv (Swedish Excel CSV: cp1252, ';'), subprocessors.csv

--weeks W also writes the W-1 weekly CRM and audience snapshots before the as-of
date; --extra-week writes the week after it (as-of + 7 days): a full new CRM and
audience snapshot (a few % of records changed or added) and that week's events,
for measuring incremental loads.

The people, their dates and their opt-outs are functions of (seed, person
number), so every snapshot and every event agrees on them. Rates below ("5 %
collected from public sources", "6 % opt out") are the shape of the data, not
policy: the policy's value lists (LeadSource classes, e-mail categories,
register labels, deadlines) are read from policy.toml, so every rule has cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))   # the sample generator lives with the tests, not in the package

from insyn.config import Policy  # noqa: E402
from sample import (ACCOUNT_HEADER, CONTACT_HEADER, EVENT_HEADER, HISTORY_HEADER,  # noqa: E402
                    LEAD_HEADER, MC_BASE, MC_TAIL, OCR_HEADER, OPPORTUNITY_HEADER, TASK_HEADER)

DAY_S = 86400
HISTORY_DAYS = 6 * 365          # how far back CRM records and activities go
EVENT_DAYS = 730                # the e-mail event history: two years
WEBLOG_DAYS = 425               # a little over 13 months, so some lines are past any 13-month horizon
GROWTH = 50                     # a new week adds 1/GROWTH (2 %) more records of each object

# The tools' vocabulary and the sample's invented people and companies (data, not policy).
FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Anders", "Sofia", "Johan", "Elin", "Per", "Ingrid", "Nils",
         "Sara", "Magnus", "Eva", "Oskar", "Lena", "Fredrik", "Märta", "Jörgen", "Åsa", "Björn", "Signe",
         "Göran", "Linnéa", "Mikael", "Ylva", "Håkan", "Rebecka", "Ulf"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
        "Gustafsson", "Lindqvist", "Sjöberg", "Björk", "Forsén", "Öhman", "Ström", "Åström", "Wikström",
        "Engström", "Dahlén", "Berglund", "Lindström", "Söderberg", "Holm", "Bergström", "Ek", "Sandberg",
        "Nyström", "Hedlund", "Strand"]
PREFIX = ["Sten", "Skog", "Fjäll", "Tall", "Björk", "Älv", "Kust", "Sjö", "Myr", "Ek", "Ren", "Guld", "Lo",
          "Havs", "Snö", "Berg", "Lind", "Ljus", "Mål", "Hemma"]
SUFFIX = ["bygg", "data", "handel", "media", "frakt", "finans", "teknik", "system", "vård", "energi", "verken",
          "post"]
CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Umeå", "Örebro", "Karlstad", "Växjö", "Gävle",
          "Jönköping"]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Sjögatan", "Järnvägsgatan", "Skolgatan", "Kyrkogatan"]
TITLES = ["VD", "Ekonomichef", "IT-chef", "Marknadschef", "Inköpschef", "Systemförvaltare", "HR-chef",
          "Projektledare", "Kundansvarig", "Driftansvarig", "Upphandlare", "Verksamhetsutvecklare"]
DEPARTMENTS = ["", "", "IT", "Inköp", "Ledning", "Ekonomi"]
INDUSTRIES = ["Technology", "Manufacturing", "Retail", "Finance", "Government", "Healthcare", "Energy"]
OTHER_SOURCES = ["Partner Referral", "Other", ""]          # on no policy list: "unclassified"
TAGS = ['"Nyhetsbrev"', '"Prospekt"', '"Kund"', '"Nyhetsbrev","Kund"']
HANDLERS = ["Åsa Lindqvist", "Jonas Öhman", "Maria Ek"]
CHANNELS = ["E-post", "Webbformulär", "Telefon", "Brev"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
WEB_PATHS = ["/", "/priser", "/kontakt", "/produkter/insyn-crm", "/blogg/gdpr-i-crm", "/webbinar",
             "/whitepapers/molnmigrering.pdf", "/kundportal/login", "/om-oss", "/karriar"]
SUBPROCESSORS = [  # the sample's register (tests/sample.py), as data
    ("Salesforce, Inc.", "US", "CRM (Sales Cloud), hosting i USA", "privacy_shield", "", "", "2018-05-14"),
    ("Twilio Inc. (SendGrid)", "US", "E-postkö och utskick (ESP)", "dpf", "2026-10-31", "", "2019-02-01"),
    ("The Rocket Science Group LLC (Mailchimp)", "US", "Nyhetsbrevsregister", "scc_2021", "", "", "2021-11-02"),
    ("Zendesk, Inc.", "US", "Kundsupport", "scc_2010", "", "2020-03-01", "2019-06-10"),
    ("Google LLC (Workspace)", "US", "E-post och dokument", "dpf", "2027-04-30", "", "2020-01-15"),
    ("Atlassian Pty Ltd", "AU", "Ärendehantering (Jira)", "scc_2021", "", "2025-05-12", "2023-02-01"),
    ("Hetzner Online GmbH", "DE", "Hosting av webbplatsen", "none", "", "", "2022-04-04"),
    ("Exoscale (Akenes SA)", "CH", "Säkerhetskopior", "adequacy", "", "", "2023-08-01"),
]


# ---------------------------------------------------------------- sizes and result


@dataclass(frozen=True)
class Sizes:
    """Row counts of one full snapshot at the as-of date; the rest scale from contacts."""

    contacts: int
    events: int

    @property
    def leads(self) -> int:
        return max(1, self.contacts // 4)

    @property
    def accounts(self) -> int:
        return max(10, self.contacts // 10)

    @property
    def tasks(self) -> int:
        return self.contacts

    @property
    def meetings(self) -> int:
        return max(1, self.contacts // 10)

    @property
    def opportunities(self) -> int:
        return max(1, self.contacts // 20)

    @property
    def requests(self) -> int:
        return max(30, self.contacts // 5000)

    @property
    def weblog_lines(self) -> int:
        return max(100, self.contacts // 10)


def grown(n: int, extra_week: bool) -> int:
    """How many of an object exist by the end of the generated time (the extra week adds 2 %)."""
    return n + (max(1, n // GROWTH) if extra_week else 0)


@dataclass
class Generated:
    """What generate() wrote: file (relative to out_dir) -> records, and how long it took."""

    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------- SQL helpers

# Chance and Salesforce ids as SQL macros. Every value reaches SQL as a DuckDB
# variable (getvariable), never through string formatting; only file paths do.
MACROS = """
create macro hi(k, i, n) as (hash(getvariable('seed'), k, (i)::bigint) % (n)::ubigint)::bigint;
create macro u(k, i) as (hash(getvariable('seed'), k, (i)::bigint) % 1000000)::double / 1000000;
create macro pick(l, k, i) as l[1 + hi(k, i, len(l))];
create macro secs(n) as to_seconds((n)::bigint);
-- a moment in the `days` before the as-of date, or in the week after it (the extra week's new records)
create macro before_t0(k, i, days) as getvariable('t0') - secs(1 + hi(k, i, (days) * 86400));
create macro new_week(k, i) as getvariable('t0') + secs(hi(k, i, 7 * 86400));
-- a moment between t and `until`
create macro moment_between(t, until, k, i) as t + secs(hi(k, i, greatest(1, epoch((until) - (t)))::bigint));
create macro owner(p) as getvariable('owners')[1 + hi('owner', p, 6)];
-- the start and end of Stockholm's summer time: 01:00 UTC on the last Sunday of March and October
create macro last_sunday_1am(y, month) as
    make_timestamp(y, month, 31, 1, 0, 0) - to_days(dayofweek(make_date(y, month, 31))::integer);
-- base-62 digits two at a time, from the list of all 3844 pairs (the variable b62_pairs)
create macro b62_2(x) as getvariable('b62_pairs')[((x) % 3844)::integer + 1];
create macro b62_6(x) as b62_2((x) // 14776336) || b62_2((x) // 3844) || b62_2(x);
-- Salesforce ids: key prefix, '5g0000', six base-62 digits. (n * prime + salt) mod 62^6 is a
-- bijection: unique ids that look random.
create macro sfnum(prefix, n) as
    ((n)::bigint * 1000003 + hash(getvariable('seed'), prefix) % 56800235584) % 56800235584;
create macro sfid15(prefix, n) as prefix || '5g0000' || b62_6(sfnum(prefix, n));
-- The 18-character form appends, per 5-character block, a letter spelling which characters
-- are upper-case (b62_upper: bit 0 = the pair's first character, bit 1 = its second).
create macro sfck(bits) as substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', (bits)::integer + 1, 1);
create macro sfup(s, i, w) as case when substr(s, i, 1) between 'A' and 'Z' then w else 0 end;
create macro b62_up(x) as getvariable('b62_upper')[((x) % 3844)::integer + 1];
create macro sfid18(prefix, n) as sfid15(prefix, n)
    || sfck(sfup(prefix, 1, 1) + sfup(prefix, 2, 2) + sfup(prefix, 3, 4))
    || sfck((b62_up(sfnum(prefix, n) // 14776336) & 1) * 16)
    || sfck((b62_up(sfnum(prefix, n) // 14776336) >> 1) + b62_up(sfnum(prefix, n) // 3844) * 2
            + b62_up(sfnum(prefix, n)) * 8);
create macro sf_dt(t) as coalesce(strftime(t, '%Y-%m-%dT%H:%M:%S.000Z'), '');
create macro sf_d(d) as coalesce(strftime(d, '%Y-%m-%d'), '');
create macro sf_b(b) as case when b then 'true' else 'false' end;
-- Mailchimp quotes a cell only when it holds a space, comma, quote or line break
create macro mcq(s) as case when regexp_matches(coalesce(s, ''), '[ ,"\\r\\n]')
                            then '"' || replace(s, '"', '""') || '"' else coalesce(s, '') end;
create macro hexn(n, w) as lower(right(lpad(to_hex((n)::ubigint), 16, '0'), w));
create macro mct(t) as case when t is null then '' else concat('"', strftime(t, '%Y-%m-%d %H:%M:%S'), '"') end;
-- Insyn's add_months (pipelines/macros.sql): the same day n months on, clamped to the month's end
create macro add_months(d, n) as cast(cast(d as date) + to_months(cast(n as integer)) as date);
"""

# Everyone, once: contacts are even person numbers (2i), leads odd (2j + 1). A
# person's name, account, dates, opt-out and audience status are functions of
# the person number, so snapshots and events agree.
PEOPLE = """
create or replace table people as
with numbered as (
    select 2 * i as p, false as is_lead, i as idx, i >= getvariable('contacts') as is_new
    from range(getvariable('contacts_all')) t(i)
    union all
    select 2 * j + 1, true, j, j >= getvariable('leads') from range(getvariable('leads_all')) t(j)
),
drawn as (
    select
        numbered.*,
        case when is_lead then '00Q' else '003' end as id_prefix,
        pick(getvariable('first'), 'fn', p) as first_name,
        pick(getvariable('last'), 'ln', p) as last_name,
        hi('acct', p, getvariable('accounts')) as acct,
        case when is_new then new_week('cr', p) else before_t0('cr', p, getvariable('history_days')) end
            as created_at,
        u('origin', p) as origin_roll,
        u('optout', p) as optout_roll,
        hi('optkind', p, 20) as kind_roll
    from numbered
),
named as (
    select
        drawn.*,
        lower(strip_accents(first_name)) || '.' || lower(strip_accents(last_name)) || p::varchar as local_part,
        lower(strip_accents(getvariable('prefix')[1 + acct % len(getvariable('prefix'))]
              || getvariable('suffix')[1 + (acct // len(getvariable('prefix'))) % len(getvariable('suffix'))]))
          || case when acct >= len(getvariable('prefix')) * len(getvariable('suffix'))
                  then (acct // (len(getvariable('prefix')) * len(getvariable('suffix'))))::varchar else '' end
          || '.se' as domain,
        -- 6 % opt out: by an ESP unsubscribe, a spam report, a group unsubscribe (half resubscribe),
        -- in the audience tool only, or in the CRM only (Contacts: the flag and its field history)
        case when is_new or optout_roll >= 0.06 then null
             when kind_roll < 7 then 'unsubscribe'
             when kind_roll < 9 then 'spamreport'
             when kind_roll < 14 then 'group'
             when kind_roll < 17 or is_lead then 'audience'
             else 'crm' end as optout_kind,
        getvariable('t0') - secs(700 * 86400) + secs(hi('optout_at', p, 707 * 86400)) as optout_draw,
        -- 40 % of the opted-out keep receiving marketing (the breaches); the others are suppressed
        u('breach', p) < 0.4 as keeps_getting_mail
    from drawn
),
final as (
    select
        named.*,
        local_part || '@' || domain as email,
        case when optout_kind is not null then optout_draw end as optout_at,
        case when optout_kind = 'group' and u('resub', p) < 0.5
             then optout_draw + secs(3600 + hi('resub_at', p, 120 * 86400)) end as resubscribed_at,
        -- when the CRM opt-out flag was set: at once in the CRM, a day later when synced from the ESP
        case when optout_kind = 'crm' then optout_draw
             when optout_kind in ('unsubscribe', 'spamreport', 'audience') and u('sync', p) < 0.7
                 then optout_draw + interval 1 day
             when optout_kind is null and u('flag_only', p) < 0.005 then created_at end as crm_flag_at,
        optout_kind is not null and not is_lead as has_flag_history,
        case when origin_roll < 0.05
                 then replace(pick(getvariable('company_sources'), 'ls', p), ' ',
                              case when u('ls_space', p) < 0.15 then '  ' else ' ' end)
             when origin_roll < 0.975 then pick(getvariable('self_sources'), 'ls', p)
             else pick(getvariable('other_sources'), 'ls', p) end as lead_source,
        created_at + secs(hi('optin', p, 30 * 86400)) as optin_at,
        case when u('member', p) < 0.6 or optout_kind in ('unsubscribe', 'spamreport', 'audience')
             then true else false end as is_member,
        case when u('cleaned', p) < 0.015 and optout_kind is null and not is_new
             then moment_between(created_at, getvariable('t0'), 'cleaned_at', p)
             end as cleaned_at,
        case when u('change', p) < 0.03 then new_week('change_at', p) end as changed_at,
        case when u('deleted', p) < 0.01
                 then moment_between(created_at, getvariable('t0'), 'deleted_at', p)
             when u('deleted', p) < 0.013 then new_week('deleted_at', p) end
            as deleted_at,
        case when is_lead and not is_new and u('converted', p) < 0.1
             then created_at + secs(hi('converted_at', p, 90 * 86400)) end as converted_draw,
        account_names.company
    from named
    join (select a, company from accounts) as account_names on named.acct = account_names.a
)
select * from final
"""


def q(path: Path) -> str:
    """A file path as an SQL string literal (COPY cannot take it as a parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


class Writer:
    """Runs the COPY statements and counts what they wrote."""

    def __init__(self, con: duckdb.DuckDBPyConnection, result: Generated):
        self.con = con
        self.result = result

    def _done(self, path: Path, rows: int) -> None:
        self.result.files[str(path.relative_to(self.result.out_dir))] = rows

    def salesforce_csv(self, path: Path, columns: list[tuple[str, str]], source: str, order: str) -> None:
        """All values quoted, CRLF, UTF-8: the Data Export Service's CSV. NULL is written as ""."""
        select = ",\n    ".join(f"coalesce(({expr})::varchar, '') as \"{name}\"" for name, expr in columns)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = self.con.execute(f"copy (select {select} from {source} order by {order}) to {q(path)} "
                                "(format csv, header, force_quote *, new_line '\r\n')").fetchone()[0]
        self._done(path, rows)

    def lines(self, path: Path, query: str, header: str | None = None, encoding: str = "utf-8") -> None:
        """A text file of ready-made lines (JSON lines, log lines, minimally quoted CSV), in the
        query's order; the header line, if any, is written as the column's name."""
        path.parent.mkdir(parents=True, exist_ok=True)
        name = '"' + (header or "line").replace('"', '""') + '"'
        rows = self.con.execute(f"copy (select line as {name} from ({query})) to {q(path)} (format csv, "
                                f"header {header is not None}, quote '', escape '', delimiter '\x01')").fetchone()[0]
        if encoding != "utf-8":  # small files only (the register): Swedish Excel saves cp1252
            path.write_bytes(path.read_bytes().decode("utf-8").encode(encoding))
        self._done(path, rows)


# ---------------------------------------------------------------- Salesforce


def person_columns(basis_field: str) -> dict[str, str]:
    """Expressions shared by Contact and Lead rows (from `people`); basis_field: the policy's lawful-basis field."""
    # the last change the export day can see: creation, a new title, the opt-out flag
    modified = ("sf_dt(greatest(created_at, coalesce(case when changed_at < getvariable('day') then changed_at end, "
                "created_at), coalesce(case when crm_flag_at < getvariable('day') then crm_flag_at end, created_at)))")
    return {
        "Id": "sfid18(id_prefix, idx)",
        "IsDeleted": "sf_b(deleted_at < getvariable('day'))",
        "LastName": "last_name",
        "FirstName": "first_name",
        "Email": """case when u('email_blank', p) < 0.02 then ''
                         when u('email_case', p) < 0.04 then strip_accents(first_name) || '.'
                              || strip_accents(last_name) || p::varchar || '@' || domain
                         when u('email_case', p) < 0.05 then upper(email)
                         when u('email_case', p) < 0.055 then ' ' || email || ' '
                         else email end""",
        "Title": "case when changed_at < getvariable('day') then pick(getvariable('titles'), 'title2', p) "
                 "else pick(getvariable('titles'), 'title', p) end",
        "Phone": "'0' || (8 + hi('area', p, 90))::varchar || '-' || (100 + hi('ph1', p, 900))::varchar || ' '"
                 " || (10 + hi('ph2', p, 90))::varchar || ' ' || (10 + hi('ph3', p, 90))::varchar",
        "LeadSource": "lead_source",
        "Description": """case when u('description', p) < 0.001
                                   then 'Önskar \"enkel\" demo; se även mejl ' || sf_d(created_at) || '.' || chr(10)
                                        || 'Kontakt via växeln.'
                               when u('description', p) < 0.03
                                   then 'Träffades på ' || pick(getvariable('cities'), 'city', p)
                               else '' end""",
        "OwnerId": "owner(p)",
        "HasOptedOutOfEmail": "sf_b(crm_flag_at < getvariable('day'))",
        "CreatedDate": "sf_dt(created_at)",
        "CreatedById": "owner(p)",
        "LastModifiedDate": modified,
        "LastModifiedById": "owner(p)",
        "SystemModstamp": modified,
        # Salesforce's own LastActivityDate: not dialogue evidence (it counts list e-mails and planned meetings)
        "LastActivityDate": "case when u('lad', p) < 0.5 "
                            "then sf_d(moment_between(created_at, getvariable('day'), 'lad_at', p)) end",
        basis_field: "case when u('basis', p) < 0.005 then getvariable('consent_label') "
                           "when u('basis', p) < 0.2 then '' else 'Berättigat intresse' end",
    }


def write_contacts(w: Writer, folder: Path, basis_field: str) -> None:
    cols = person_columns(basis_field) | {
        "AccountId": "sfid18('001', acct)",
        "Salutation": "pick(['', '', '', 'Mr.', 'Ms.'], 'salutation', p)",
        "MailingStreet": "pick(getvariable('streets'), 'street', p) || ' ' || (1 + hi('no', p, 60))::varchar",
        "MailingCity": "pick(getvariable('cities'), 'city', p)",
        "MailingPostalCode": "(100 + hi('zip', p, 900))::varchar || ' ' || (10 + hi('zip2', p, 90))::varchar",
        "MailingCountry": "'Sverige'",
        "MobilePhone": "'+46 7' || hi('mob', p, 10)::varchar || ' ' || (100 + hi('mob1', p, 900))::varchar || ' '"
                       " || (10 + hi('mob2', p, 90))::varchar || ' ' || (10 + hi('mob3', p, 90))::varchar",
        "Department": "pick(getvariable('departments'), 'dept', p)",
        "HasOptedOutOfFax": "'false'",
        "DoNotCall": "sf_b(u('dnc', p) < 0.03)",
    }
    w.salesforce_csv(folder / "Contact.csv", [(h, cols.get(h, "''")) for h in CONTACT_HEADER + [basis_field]],
                     "people where not is_lead and created_at < getvariable('day')", "idx")


def write_leads(w: Writer, folder: Path, basis_field: str) -> None:
    converted = "converted_draw < getvariable('day')"
    cols = person_columns(basis_field) | {
        "Company": "company",
        "Street": "pick(getvariable('streets'), 'street', p) || ' ' || (1 + hi('no', p, 60))::varchar",
        "City": "pick(getvariable('cities'), 'city', p)",
        "PostalCode": "(100 + hi('zip', p, 900))::varchar || ' ' || (10 + hi('zip2', p, 90))::varchar",
        "Country": "'Sverige'",
        "Status": f"case when {converted} then 'Closed - Converted' else "
                  "pick(['Open - Not Contacted', 'Working - Contacted', 'Closed - Not Converted'], 'status', p) end",
        "Industry": "pick(getvariable('industries'), 'industry', p)",
        "Rating": "pick(['', 'Hot', 'Warm', 'Cold'], 'rating', p)",
        "NumberOfEmployees": "pick(['8', '25', '60', '140', '400'], 'employees', p)",
        "IsConverted": f"sf_b({converted})",
        "ConvertedDate": f"case when {converted} then sf_d(converted_draw) end",
        "ConvertedAccountId": f"case when {converted} then sfid18('001', acct) end",
        "ConvertedContactId": f"case when {converted} then sfid18('003', hi('converted_to', p, "
                              "getvariable('contacts'))) end",
        "IsUnreadByOwner": "'false'",
        "DoNotCall": "'false'",
        "HasOptedOutOfFax": "'false'",
    }
    w.salesforce_csv(folder / "Lead.csv", [(h, cols.get(h, "''")) for h in LEAD_HEADER + [basis_field]],
                     "people where is_lead and created_at < getvariable('day')", "idx")


ACCOUNTS = """
create or replace table accounts as
select
    a,
    getvariable('prefix')[1 + a % len(getvariable('prefix'))]
        || getvariable('suffix')[1 + (a // len(getvariable('prefix'))) % len(getvariable('suffix'))]
        || case when a >= len(getvariable('prefix')) * len(getvariable('suffix'))
                then ' ' || (a // (len(getvariable('prefix')) * len(getvariable('suffix'))))::varchar else '' end
        || ' AB' as company,
    case when a >= getvariable('accounts') then new_week('acc_cr', a)
         else getvariable('t0') - secs(getvariable('history_days') * 86400 + hi('acc_cr', a, 365 * 86400))
         end as created_at
from range(getvariable('accounts_all')) t(a)
"""


def write_accounts(w: Writer, folder: Path) -> None:
    cols = {
        "Id": "sfid18('001', a)", "IsDeleted": "'false'", "Name": "company",
        "Type": "pick(['Prospect', 'Prospect', 'Customer - Direct', 'Partner'], 'acc_type', a)",
        "BillingStreet": "pick(getvariable('streets'), 'acc_street', a) || ' ' || (1 + hi('acc_no', a, 90))::varchar",
        "BillingCity": "pick(getvariable('cities'), 'acc_city', a)", "BillingCountry": "'Sverige'",
        "Phone": "concat('0', 8 + hi('acc_area', a, 90), '-', 100 + hi('acc_ph', a, 900), ' 00')",
        "AccountNumber": "concat('556', 100 + hi('orgnr', a, 900), '-', 1000 + hi('orgnr2', a, 9000))",
        "Website": "'https://www.' || lower(strip_accents(replace(replace(company, ' AB', ''), ' ', ''))) || '.se'",
        "Industry": "pick(getvariable('industries'), 'acc_industry', a)",
        "NumberOfEmployees": "pick(['6', '18', '45', '120', '600'], 'acc_size', a)", "Ownership": "'Private'",
        "OwnerId": "getvariable('owners')[1]", "CreatedDate": "sf_dt(created_at)",
        "CreatedById": "getvariable('owners')[1]", "LastModifiedDate": "sf_dt(created_at)",
        "LastModifiedById": "getvariable('owners')[1]", "SystemModstamp": "sf_dt(created_at)",
        "AccountSource": "pick(['Web', 'Purchased List', 'Partner', ''], 'acc_source', a)",
    }
    w.salesforce_csv(folder / "Account.csv", [(h, cols.get(h, "''")) for h in ACCOUNT_HEADER],
                     "accounts where created_at < getvariable('day')", "a")


# Activities pick a person among the people of the as-of snapshot; a new week's
# activities are created in that week. A closed task happened on its date; an
# open one is due up to two months after it was created.
ACTIVITIES = """
create or replace table tasks as
with drawn as (
    select t, 2 * hi('task_who', t, getvariable('contacts') + getvariable('leads')) as r,
           case when t >= getvariable('tasks') then new_week('task_cr', t)
                else before_t0('task_cr', t, getvariable('history_days')) end as drawn_at
    from range(getvariable('tasks_all')) t(t)
),
final as (
    select drawn.t, people.p, people.id_prefix as who_prefix, people.idx as who_idx, people.acct, people.is_lead,
           greatest(drawn.drawn_at, people.created_at) as created_at,
           u('task_closed', t) < 0.85 as is_closed,
           pick(['Task', 'Email', 'Call', 'Call', 'Email', 'ListEmail'], 'task_subtype', t) as subtype
    from drawn
    join people on people.p = case when drawn.r < 2 * getvariable('contacts') then drawn.r
                                   else 2 * (drawn.r // 2 - getvariable('contacts')) + 1 end
)
select *, case when is_closed then cast(created_at as date)
               else cast(created_at as date) + (1 + hi('task_due', t, 60))::integer end as activity_on
from final;

create or replace table meetings as
with drawn as (
    select m, 2 * hi('meet_who', m, getvariable('contacts') + getvariable('leads')) as r,
           case when m >= getvariable('meetings') then new_week('meet_cr', m)
                else before_t0('meet_cr', m, getvariable('history_days')) end as drawn_at
    from range(getvariable('meetings_all')) t(m)
)
select drawn.m, people.p, people.id_prefix as who_prefix, people.idx as who_idx, people.acct, people.is_lead,
       greatest(drawn.drawn_at, people.created_at) as created_at,
       -- booked 1-30 days ahead at a full hour: the newest are planned, not yet held
       date_trunc('day', greatest(drawn.drawn_at, people.created_at))
           + to_days((1 + hi('meet_ahead', m, 30))::integer) + to_hours((8 + hi('meet_hour', m, 9))::integer)
           as start_at,
       pick([30, 45, 60, 90], 'meet_minutes', m) as minutes
from drawn
join people on people.p = case when drawn.r < 2 * getvariable('contacts') then drawn.r
                               else 2 * (drawn.r // 2 - getvariable('contacts')) + 1 end;

create or replace table opportunities as
select o,
       hi('opp_acct', o, getvariable('accounts')) as acct,
       case when o >= getvariable('opportunities') then new_week('opp_cr', o)
            else before_t0('opp_cr', o, getvariable('history_days')) end as created_at,
       30 + hi('opp_len', o, 180) as length_days,
       pick(['Prospecting', 'Qualification', 'Needs Analysis', 'Proposal/Price Quote', 'Negotiation/Review'],
            'opp_stage', o) as open_stage,
       u('opp_won', o) < 0.4 as is_won,
       pick([45000, 120000, 250000, 600000], 'opp_amount', o) as amount
from range(getvariable('opportunities_all')) t(o);

create or replace table roles as
select r, r // 2 as o, hi('role_contact', r, getvariable('contacts')) as contact_idx,
       pick(['Decision Maker', 'Evaluator', 'Influencer', 'Economic Buyer'], 'role', r) as role,
       u('role_deleted', r) < 0.01 as is_deleted
from range(2 * getvariable('opportunities_all')) t(r);
"""


def write_tasks(w: Writer, folder: Path) -> None:
    cols = {
        "Id": "sfid18('00T', t)",
        # reports and formulas give 15-character ids; some tasks were imported with them
        "WhoId": "case when u('who15', t) < 0.1 then sfid15(who_prefix, who_idx)"
                 " else sfid18(who_prefix, who_idx) end",
        "Subject": "case subtype when 'Call' then 'Samtal: uppföljning av offert'"
                   " when 'Email' then 'E-post: prisförslag' when 'ListEmail' then 'Massutskick: nyhetsbrev'"
                   " else 'Förbered offert' end",
        "ActivityDate": "sf_d(activity_on)",
        "Status": "case when is_closed then 'Completed'"
                  " else pick(['Not Started', 'In Progress'], 'task_status', t) end",
        "Priority": "'Normal'", "IsHighPriority": "'false'", "OwnerId": "owner(p)",
        "IsDeleted": "sf_b(u('task_deleted', t) < 0.01)",
        "AccountId": "case when not is_lead then sfid18('001', acct) end",
        "IsClosed": "sf_b(is_closed)", "CreatedDate": "sf_dt(created_at)",
        "CreatedById": "owner(p)", "LastModifiedDate": "sf_dt(created_at)",
        "LastModifiedById": "owner(p)", "SystemModstamp": "sf_dt(created_at)",
        "IsArchived": "'false'",
        "CallDurationInSeconds": "case when subtype = 'Call' then (60 + hi('call_s', t, 1400))::varchar end",
        "CallType": "case when subtype = 'Call' then 'Outbound' end",
        "IsReminderSet": "'false'", "IsRecurrence": "'false'", "TaskSubtype": "subtype",
        "CompletedDateTime": "case when is_closed then sf_dt(created_at) end",
    }
    w.salesforce_csv(folder / "Task.csv", [(h, cols.get(h, "''")) for h in TASK_HEADER],
                     "tasks where created_at < getvariable('day')", "t")


def write_meetings(w: Writer, folder: Path) -> None:
    cols = {
        "Id": "sfid18('00U', m)", "WhoId": "sfid18(who_prefix, who_idx)",
        "Subject": "pick(['Behovsanalys', 'Demo av Nordlys Insyn', 'Avtalsgenomgång'], 'meet_subject', m)",
        "Location": "pick(['Google Meet', 'Kundens kontor', 'Teams'], 'meet_place', m)", "IsAllDayEvent": "'false'",
        "ActivityDateTime": "sf_dt(start_at)", "ActivityDate": "sf_d(start_at)", "DurationInMinutes": "minutes",
        "StartDateTime": "sf_dt(start_at)", "EndDateTime": "sf_dt(start_at + to_minutes(minutes))",
        "AccountId": "case when not is_lead then sfid18('001', acct) end",
        "OwnerId": "owner(p)", "IsPrivate": "'false'", "ShowAs": "'Busy'",
        "IsDeleted": "sf_b(u('meet_deleted', m) < 0.01)", "IsChild": "'false'", "IsGroupEvent": "'false'",
        "GroupEventType": "'0'", "CreatedDate": "sf_dt(created_at)", "CreatedById": "owner(p)",
        "LastModifiedDate": "sf_dt(created_at)", "LastModifiedById": "owner(p)",
        "SystemModstamp": "sf_dt(created_at)", "IsArchived": "'false'", "IsRecurrence": "'false'",
        "EventSubtype": "'Event'",
    }
    w.salesforce_csv(folder / "Event.csv", [(h, cols.get(h, "''")) for h in EVENT_HEADER],
                     "meetings where created_at < getvariable('day')", "m")


def write_opportunities(w: Writer, folder: Path) -> None:
    # closed when its planned length has passed by the export day; else open, due then
    source = """(select *, cast(created_at as date) + length_days::integer as close_on,
                        cast(created_at as date) + length_days::integer < getvariable('day') as is_closed,
                        cast(created_at as date) + (hi('opp_last', o, length_days))::integer as last_on
                 from opportunities where created_at < getvariable('day'))"""
    forecast = "case when not is_closed then 'Pipeline' when is_won then 'Closed' else 'Omitted' end"
    cols = {
        "Id": "sfid18('006', o)", "IsDeleted": "sf_b(u('opp_deleted', o) < 0.01)",
        "AccountId": "sfid18('001', acct)", "IsPrivate": "'false'",
        "Name": "'Affär ' || o::varchar || ' – Insyn CRM'",
        "StageName": "case when not is_closed then open_stage when is_won then 'Closed Won' else 'Closed Lost' end",
        "Amount": "amount::varchar || '.00'",
        "Probability": "case when not is_closed then '20' when is_won then '100' else '0' end",
        "CloseDate": "sf_d(close_on)", "Type": "'New Business'", "IsClosed": "sf_b(is_closed)",
        "IsWon": "sf_b(is_closed and is_won)",
        "ForecastCategory": forecast, "ForecastCategoryName": forecast,
        "HasOpportunityLineItem": "'false'", "OwnerId": "getvariable('owners')[1]",
        "CreatedDate": "sf_dt(created_at)",
        "CreatedById": "getvariable('owners')[1]", "LastModifiedDate": "sf_dt(created_at)",
        "LastModifiedById": "getvariable('owners')[1]", "SystemModstamp": "sf_dt(created_at)",
        "LastActivityDate": "case when last_on < getvariable('day') then sf_d(last_on) end",
        "FiscalQuarter": "(quarter(close_on))::varchar", "FiscalYear": "year(close_on)::varchar",
        "Fiscal": "year(close_on)::varchar || ' ' || quarter(close_on)::varchar",
    }
    w.salesforce_csv(folder / "Opportunity.csv", [(h, cols.get(h, "''")) for h in OPPORTUNITY_HEADER], source, "o")
    cols = {
        "Id": "sfid18('00K', r)", "OpportunityId": "sfid18('006', roles.o)",
        "ContactId": "sfid18('003', contact_idx)", "Role": "role", "IsPrimary": "sf_b(r % 2 = 0)",
        "CreatedDate": "sf_dt(created_at + interval 2 hour)", "CreatedById": "getvariable('owners')[1]",
        "LastModifiedDate": "sf_dt(created_at + interval 2 hour)", "LastModifiedById": "getvariable('owners')[1]",
        "SystemModstamp": "sf_dt(created_at + interval 2 hour)", "IsDeleted": "sf_b(is_deleted)",
    }
    w.salesforce_csv(folder / "OpportunityContactRole.csv", [(h, cols.get(h, "''")) for h in OCR_HEADER],
                     "roles join opportunities using (o) where created_at < getvariable('day')", "r")


def write_history(w: Writer, folder: Path) -> None:
    """Field history of Contacts: opt-out flags set (the policy's field), titles changed, records created."""
    source = """(
        select 3 * idx as n, idx, p, crm_flag_at as changed, getvariable('history_field') as field, 'Boolean' as kind,
               'false' as old_value, getvariable('history_true') as new_value
        from people where not is_lead and has_flag_history and crm_flag_at < getvariable('day')
        union all
        select 3 * idx + 1, idx, p, changed_at, 'Title', 'Text', pick(getvariable('titles'), 'title', p),
               pick(getvariable('titles'), 'title2', p)
        from people where not is_lead and changed_at < getvariable('day') and created_at < getvariable('day')
        union all
        select 3 * idx + 2, idx, p, created_at, 'created', '', '', ''
        from people where not is_lead and u('history_created', p) < 0.1 and created_at < getvariable('day')
    )"""
    cols = {
        "Id": "sfid18('017', n)", "IsDeleted": "'false'", "ContactId": "sfid18('003', idx)",
        "CreatedById": "owner(p)", "CreatedDate": "sf_dt(changed)", "Field": "field",
        "DataType": "kind", "OldValue": "old_value", "NewValue": "new_value",
    }
    w.salesforce_csv(folder / "ContactHistory.csv", [(h, cols[h]) for h in HISTORY_HEADER], source, "changed, n")


# ---------------------------------------------------------------- Mailchimp


def write_audience(w: Writer, folder: Path, export_hex: str) -> None:
    """The audience on the export day: unsubscribed once opted out (except CRM-only and group
    opt-outs, which the audience tool never hears of), cleaned once cleaned, else subscribed."""
    status = """case when optout_kind in ('unsubscribe', 'spamreport', 'audience') and optout_at < getvariable('day')
                          then 'unsubscribed'
                     when cleaned_at < getvariable('day') then 'cleaned'
                     else 'subscribed' end"""
    base = [  # Email Address ... CONFIRM_IP, then LATITUDE ... REGION as one piece
        "email", "mcq(first_name)", "mcq(last_name)", "mcq(company)", "1 + hi('rating', p, 4)", "mct(optin_at)",
        "case when u('optin_ip', p) < 0.4 then concat('81.224.', 1 + hi('ip1', p, 254), '.', 1 + hi('ip2', p, 254)) "
        "else '' end",
        "mct(optin_at + secs(60 + hi('confirm', p, 1800)))", "''",
        "case when u('geo', p) < 0.5 then '59.3293000,18.0686000,1,2,Europe/Stockholm,SE,AB' else ',,,,,,' end"]
    ids = [  # LEID, EUID, NOTES, TAGS
        "10000000 + hi('leid', p, 89999999)", "hexn(hash(getvariable('seed'), 'euid', p), 10)", "''",
        "pick(getvariable('tag_cells'), 'tags', p)"]

    def campaign(at: str) -> list[str]:  # the title and id of the mailing the change came with
        return [f"concat('\"Nyhetsbrev ', strftime({at}, '%Y-%m'), '\"')",
                f"hexn(hash(getvariable('seed'), 'camp', strftime({at}, '%Y-%m')), 10)"]

    tails = {
        "subscribed": ["mct(greatest(optin_at, coalesce(case when crm_flag_at < getvariable('day') "
                       "then crm_flag_at end, optin_at)))"] + ids,
        "unsubscribed": ["mct(optout_at)", *campaign("optout_at"),
                         "mcq(pick(['I no longer want to receive these emails', 'N/A (Unsubscribed by an admin)', "
                         "'The emails are spam and should be reported'], 'reason', p))", "''"] + ids,
        "cleaned": ["mct(cleaned_at)", *campaign("cleaned_at")] + ids,
    }
    members = f"(select *, {status} as status from people where is_member and optin_at < getvariable('day'))"
    for name, tail in tails.items():
        header = ",".join(f'"{h}"' if " " in h else h for h in MC_BASE + MC_TAIL[name])
        line = "concat_ws(',', " + ", ".join(base + tail) + ")"
        w.lines(folder / f"{name}_email_audience_export_{export_hex}.csv",
                f"select {line} as line from {members} where status = '{name}' order by optin_at, p", header)


# ---------------------------------------------------------------- SendGrid events

# Mailings: each goes to one person and yields its events (processed, then
# delivered or a bounce, perhaps deferred first, then opens and clicks). After a
# person opts out, marketing to them is dropped by the ESP, unless they are one
# of the people who keep getting mail (the breaches the rule must find).
MESSAGES = """
create or replace table messages as
with drawn as (
    select m,
           2 * hi('msg_who' || getvariable('window_no'), m, getvariable('contacts') + getvariable('leads')) as r,
           getvariable('window_start')
               + secs(hi('msg_at' || getvariable('window_no'), m, getvariable('window_seconds'))) as sent_at,
           hi('msg_cat' || getvariable('window_no'), m, 100) as cat_roll,
           u('msg_outcome' || getvariable('window_no'), m) as outcome_roll,
           u('msg_open' || getvariable('window_no'), m) as open_roll,
           u('msg_click' || getvariable('window_no'), m) as click_roll
    from range(getvariable('messages')) t(m)
),
classed as (
    select drawn.*, people.p, people.email, people.optout_kind, people.optout_at, people.resubscribed_at,
           people.keeps_getting_mail,
           case when cat_roll < 55 then 'newsletter' when cat_roll < 70 then 'campaign'
                when cat_roll < 88 then 'transactional' else 'first_notice' end as mail_kind
    from drawn
    join people on people.p = case when drawn.r < 2 * getvariable('contacts') then drawn.r
                                   else 2 * (drawn.r // 2 - getvariable('contacts')) + 1 end
),
suppressed as (
    select classed.*,
           mail_kind in ('newsletter', 'campaign') and not keeps_getting_mail and optout_at < sent_at
               and (resubscribed_at is null or sent_at < resubscribed_at) as is_suppressed
    from classed
),
final as (
    select suppressed.*,
           case when is_suppressed then ['dropped']
                when outcome_roll < 0.03 then ['processed', 'bounce']
                when outcome_roll < 0.05 then ['processed', 'deferred', 'delivered']
                else ['processed', 'delivered'] end
           || case when not is_suppressed and outcome_roll >= 0.03 and open_roll < 0.3 then ['open'] else [] end
           || case when not is_suppressed and outcome_roll >= 0.03 and open_roll < 0.3 and click_roll < 0.25
                   then ['click'] else [] end as kinds
    from suppressed
)
select *, sum(len(kinds)) over (order by m rows between unbounded preceding and current row) - len(kinds)
              as first_event
from final
"""

# One row per event: the mailings' events, cut at the number asked for, and the
# opt-outs (unsubscribe, spam report, group unsubscribe and resubscribe) that
# fall in the window.
EVENTS = """
create or replace table events as
with mail_events as (
    select m, first_event + i - 1 as n, event_kind as event, email, sent_at, mail_kind,
           hash(getvariable('seed'), 'msg' || getvariable('window_no'), m) as msg_hash,
           case event_kind
               when 'processed' then 0 when 'dropped' then 0
               when 'deferred' then 1 + hi('deferred_s', m, 5)
               when 'delivered' then 2 + hi('delivered_s', m, 13) + case when list_contains(kinds, 'deferred')
                                                                          then 300 else 0 end
               when 'bounce' then 2 + hi('delivered_s', m, 13)
               when 'open' then 120 + hi('open_s', m, 172800)
               else 150 + hi('open_s', m, 172800) + hi('click_s', m, 3600) end as offset_s
    from (select *, unnest(kinds) as event_kind, generate_subscripts(kinds, 1) as i from messages)
    where first_event + i - 1 < getvariable('mail_events')
),
optouts as (
    select p, email, optout_at as ts, case optout_kind when 'group' then 'group_unsubscribe' else optout_kind end
           as event
    from people
    where optout_kind in ('unsubscribe', 'spamreport', 'group')
        and optout_at >= getvariable('window_start') and optout_at < getvariable('window_end')
    union all
    select p, email, resubscribed_at, 'group_resubscribe'
    from people
    where resubscribed_at >= getvariable('window_start') and resubscribed_at < getvariable('window_end')
),
all_events as (
    select n, event, case when m % 100 = 7 then upper(email[1]) || email[2:] else email end as email,
           sent_at + secs(offset_s) as ts, mail_kind, msg_hash
    from mail_events
    union all
    select getvariable('mail_events') + row_number() over (order by ts, p, event) - 1, event, email, ts,
           case when event in ('unsubscribe', 'spamreport') then 'newsletter' else 'group' end,
           hash(getvariable('seed'), 'optout_msg', p, event)
    from optouts
),
sorted as (  -- sort the narrow rows; the lines are built after, in this order
    select * from all_events order by ts, n
),
parts as (
    select *,
           concat(hexn(msg_hash, 14), '.', lpad((msg_hash % 100000)::varchar, 5, '0')) as smtp_id,
           concat('81.224.', msg_hash % 250, '.', msg_hash // 7 % 250) as client_ip,
           getvariable('agents')[1 + (msg_hash % 3)::integer] as agent,
           strftime(ts, '%Y-%m') as month,
           -- 22 characters of base64url, like SendGrid's
           replace(replace(left(to_base64(unhex(md5(concat(getvariable('seed'), '-', getvariable('window_no'),
                                                          '-', n)))), 22), '+', '-'), '/', '_') as event_id
    from sorted
)
select
    month,
    concat(
        '{"email": "', email, '", "timestamp": ', epoch(ts)::bigint,
        ', "smtp-id": "<', smtp_id, '@ismtpd0001p1lon1.sendgrid.net>", "event": "', event, '"',
        case mail_kind
            when 'newsletter' then case when msg_hash % 2 = 0
                                        then concat(', "category": "', getvariable('cat_newsletter'), '"')
                                        else concat(', "category": ["', getvariable('cat_newsletter'), '", "',
                                                    getvariable('cat_newsletter'), '-', month, '"]') end
            when 'campaign' then concat(', "category": ["', getvariable('cat_campaign'), '", "kampanj-',
                                        msg_hash % 40, '"]')
            when 'transactional' then concat(', "category": "', getvariable('cat_transactional'), '"')
            when 'first_notice' then concat(', "category": "', getvariable('cat_first_notice'), '"')
            else '' end,
        ', "sg_event_id": "', event_id, '", "sg_message_id": "', smtp_id, '.filterdrecv-5bd68478-',
        right(smtp_id, 5), '-1.0"',
        case event
            when 'delivered' then concat(', "response": "250 2.0.0 OK", "ip": "149.72.', msg_hash % 250, '.',
                                         msg_hash // 250 % 250, '", "tls": 1')
            when 'deferred' then ', "response": "450 4.2.1 Mailbox temporarily unavailable", "attempt": "1"'
            when 'bounce' then ', "reason": "550 5.1.1 The email account that you tried to reach does not exist.", '
                               '"status": "5.1.1", "type": "bounce", "bounce_classification": "Invalid Address"'
            when 'dropped' then ', "reason": "Unsubscribed Address"'
            when 'open' then concat(', "useragent": "', agent, '", "ip": "', client_ip, '", "sg_machine_open": false')
            when 'click' then concat(', "useragent": "', agent, '", "ip": "', client_ip,
                                     '", "url": "https://www.nordlys.se',
                                     getvariable('paths')[1 + (msg_hash % 8)::integer], '"')
            else '' end,
        case when mail_kind in ('newsletter', 'campaign', 'group') then ', "asm_group_id": 21870' else '' end,
        case when mail_kind = 'newsletter' then concat(', "marketing_campaign_name": "Nyhetsbrev ', month, '"')
             else '' end,
        '}') as line
from parts
"""


def write_events(con: duckdb.DuckDBPyConnection, w: Writer, folder: Path, start: dt.datetime, days: int,
                 events: int, window: int) -> None:
    """`events` e-mail events dated in [start, start + days), one JSON-lines file per month."""
    end = start + dt.timedelta(days=days)
    # mailings start early enough that their last open or click is still inside the window
    variables = {"window_no": window, "window_start": start, "window_end": end,
                 "window_seconds": max(1, (days - 3) * DAY_S)}
    for name, value in variables.items():
        con.execute(f"set variable {name} = $v", {"v": value})
    optouts = con.execute(
        "select count(*) filter (where optout_kind in ('unsubscribe', 'spamreport', 'group') "
        "and optout_at >= $s and optout_at < $e) "
        "+ count(*) filter (where resubscribed_at >= $s and resubscribed_at < $e) from people",
        {"s": start, "e": end}).fetchone()[0]
    mail_events = max(0, events - optouts)
    messages = mail_events // 2 + 10
    while True:  # draw enough mailings to cut exactly `mail_events` events from them (about 2.3 each)
        con.execute("set variable messages = $v", {"v": messages})
        con.execute("set variable mail_events = $v", {"v": mail_events})
        con.execute(MESSAGES)
        if con.execute("select coalesce(sum(len(kinds)), 0) from messages").fetchone()[0] >= mail_events:
            break
        messages *= 2
    con.execute(EVENTS)
    months = [r[0] for r in con.execute("select distinct month from events order by month").fetchall()]
    for month in months:
        con.execute("set variable month = $v", {"v": month})
        w.lines(folder / f"esp-events-{month}.jsonl", "select line from events where month = getvariable('month')")


# ---------------------------------------------------------------- web logs, register


WEBLOG = """
select
    case when l % 5 = 0 then '2001:db8:' || hexn(hash(getvariable('seed'), 'ip6', l), 4) || '::' || (l % 255)::varchar
         else '81.224.' || hi('ip_a', l, 255)::varchar || '.' || hi('ip_b', l, 255)::varchar end
    || ' - - [' || strftime(ts + to_hours(off_h), '%d/%b/%Y:%H:%M:%S') || ' +0' || off_h::varchar || '00] "GET '
    || case when u('email_in_url', l) < 0.005
            then '/nyhetsbrev/bekrafta?email=' || replace(email, '@', '%40') || '&token=' || hexn(hash(l), 8)
            else pick(getvariable('paths'), 'path', l) end
    || ' HTTP/1.1" ' || pick(['200', '200', '200', '304', '404'], 'status', l) || ' '
    || (200 + hi('bytes', l, 50000))::varchar || ' "'
    || pick(['-', '-', 'https://www.google.com/', 'https://www.nordlys.se/'], 'referer', l) || '" "'
    || pick(getvariable('agents'), 'agent', l) || '"' as line
from (
    select l, ts, email,
           -- Stockholm time: summer time (+0200) from the last Sunday of March to that of October
           case when ts >= last_sunday_1am(year(ts), 3) and ts < last_sunday_1am(year(ts), 10) then 2 else 1 end
               as off_h
    from (
        select l, before_t0('log_at', l, getvariable('weblog_days')) as ts,
               people.email
        from range(getvariable('weblog_lines')) t(l)
        join people on people.p = 2 * hi('log_who', l, getvariable('contacts'))
    )
)
order by ts, l
"""


def write_weblog(w: Writer, folder: Path) -> None:
    w.lines(folder / "access.log", WEBLOG)


# The register's cases come in turns of twelve, so that every deadline rule has
# requests on both sides of its line: received on 31 January, a deadline on a
# weekend or holiday, answered exactly the policy's target days after receipt,
# open and overdue, open and not yet due (the same person again), extended in
# time (or not even within the extension), extended too late, late, and on time.
REGISTER = """
with drawn as (
    -- turn 4 is a second request from turn 3's person: a repeated free access request
    select r, r % 12 as turn,
           2 * hi('req_who', case when r % 12 = 4 then r - 1 else r end, getvariable('contacts')) as p,
           cast(getvariable('t0') as date) - (20 + hi('req_received', r, 520))::integer as plain_on,
           getvariable('non_working')[1 + hi('req_holiday', r, len(getvariable('non_working')))] as deadline_day
    from range(getvariable('requests')) t(r)
),
received as (
    select drawn.*,
           case turn
               when 0 then make_date(year(getvariable('t0')) - 1 + (r // 12) % 2, 1, 31)
               when 1 then add_months(deadline_day, -getvariable('legal_months'))
               when 3 then cast(getvariable('t0') as date) - (45 + hi('req_open', r, 100))::integer
               when 4 then cast(getvariable('t0') as date) - hi('req_open', r, 20)::integer
               else plain_on end as received_on
    from drawn
),
closed as (
    select received.*,
           case turn
               when 0 then add_months(received_on, getvariable('legal_months')) + (r // 12 % 4)::integer
               when 1 then deadline_day + case when r // 12 % 2 = 0 then 1 else 6 end
               when 2 then received_on + getvariable('target_days')
               when 3 then null when 4 then null
               when 5 then case when r // 12 % 3 = 2
                                then add_months(received_on, getvariable('extended_months')) + 3
                                else add_months(received_on, getvariable('legal_months'))
                                     + (5 + hi('req_ext', r, 30))::integer end
               when 6 then add_months(received_on, getvariable('legal_months')) + 12
               when 7 then add_months(received_on, getvariable('legal_months')) + (1 + hi('req_late', r, 20))::integer
               else received_on + (3 + hi('req_fast', r, 22))::integer end as closed_draw,
           case turn when 5 then received_on + 20
                     when 6 then add_months(received_on, getvariable('legal_months')) + 5 end as extension_on
    from received
),
final as (
    select closed.*,
           case when closed_draw < cast(getvariable('t0') as date) then closed_draw end as closed_on,
           received_on + hi('req_verify', r, 4)::integer as verified_on,
           case when turn = 10 then getvariable('erasure_label') when turn = 11 and r % 24 = 11
                then getvariable('rectification_label') else getvariable('access_label') end as type_label
    from closed
    where received_on <= cast(getvariable('t0') as date)
)
select
    'DSAR-' || year(received_on)::varchar || '-' || lpad((r + 1)::varchar, 4, '0')
    || ';' || strftime(received_on, '%Y-%m-%d')
    || ';' || pick(getvariable('channels'), 'req_channel', r)
    || ';' || first_name || ' ' || last_name
    || ';' || case when r % 5 = 0 then strip_accents(first_name) || '.' || strip_accents(last_name) || p::varchar
                                       || '@' || domain else email end
    || ';' || case when r % 3 = 0 then sfid15(id_prefix, idx) else '' end
    || ';' || type_label
    || ';' || case when turn = 9 then coalesce(strftime(closed_on + 2, '%Y-%m-%d'), '')
                   else strftime(verified_on, '%Y-%m-%d') end
    || ';' || pick(['BankID', 'Kontroll mot CRM', 'Legitimation (kopia)'], 'req_method', r)
    || ';' || coalesce(strftime(extension_on, '%Y-%m-%d'), '')
    || ';' || case when extension_on is not null then 'Omfattande begäran' else '' end
    || ';' || coalesce(strftime(closed_on, '%Y-%m-%d'), '')
    || ';' || coalesce(strftime(closed_on, '%Y-%m-%d'), '')
    || ';' || case when closed_on is null then '' else getvariable('done_label') end
    || ';' || case when turn = 8 then '250,00' when turn = 2 then '0' else '' end
    || ';' || pick(getvariable('handlers'), 'req_handler', r)
    || ';' || case when turn = 7 then '"Påminnelse skickad.' || chr(10) || 'Väntar på underlag."' else '' end
    as line
from final
join people using (p)
order by received_on, r
"""


def write_register(w: Writer, folder: Path, policy: Policy) -> None:
    header = ";".join(labels[0] for labels in policy.register_columns.values())
    w.lines(folder / "dpo-register.csv", REGISTER, header, encoding="cp1252")
    placeholders = ", ".join("(?, ?, ?, ?, ?, ?, ?)" for _ in SUBPROCESSORS)
    path = folder / "subprocessors.csv"
    rows = w.con.execute(
        f"copy (select * from (values {placeholders}) t(name, country_iso2, role, transfer_mechanism, "
        f"dpf_certified_until, tia_on, dpa_on)) to {q(path)} (format csv, header)",
        [v for row in SUBPROCESSORS for v in row]).fetchone()[0]
    w._done(path, rows)


# ---------------------------------------------------------------- putting it together


def set_variables(con: duckdb.DuckDBPyConnection, sizes: Sizes, seed: int, as_of: dt.date, extra_week: bool,
                  policy: Policy) -> None:
    """Every number and list the SQL reads, as DuckDB variables."""
    import holidays

    t0 = dt.datetime(as_of.year, as_of.month, as_of.day)
    # deadline days the register aims at: the policy country's public holidays, and weekend days
    public = holidays.country_holidays(policy.holiday_country, years=range(as_of.year - 2, as_of.year + 1))
    recent = [as_of - dt.timedelta(days=k) for k in range(30, 500)]
    non_working = sorted({d for d in public if d in recent} |
                         {d for d in recent[::9] if d.strftime("%A").lower() in policy.weekend_days})

    def picklist(origin: str) -> list[str]:  # the policy's keys as a CRM admin spells them
        return [v.title() for v in policy.lead_source_classes[origin]]

    cats = policy.email_categories
    b62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
    variables = {
        "b62_pairs": [a + b for a in b62 for b in b62],
        "b62_upper": [a.isupper() + 2 * b.isupper() for a in b62 for b in b62],
        "seed": seed, "t0": t0, "history_days": HISTORY_DAYS, "weblog_days": WEBLOG_DAYS,
        "contacts": sizes.contacts, "contacts_all": grown(sizes.contacts, extra_week),
        "leads": sizes.leads, "leads_all": grown(sizes.leads, extra_week),
        "accounts": sizes.accounts, "accounts_all": grown(sizes.accounts, extra_week),
        "tasks": sizes.tasks, "tasks_all": grown(sizes.tasks, extra_week),
        "meetings": sizes.meetings, "meetings_all": grown(sizes.meetings, extra_week),
        "opportunities": sizes.opportunities, "opportunities_all": grown(sizes.opportunities, extra_week),
        "requests": sizes.requests, "weblog_lines": sizes.weblog_lines,
        "first": FIRST, "last": LAST, "prefix": PREFIX, "suffix": SUFFIX, "cities": CITIES, "streets": STREETS,
        "titles": TITLES, "departments": DEPARTMENTS, "industries": INDUSTRIES, "handlers": HANDLERS,
        "channels": CHANNELS, "agents": USER_AGENTS, "paths": WEB_PATHS,
        # a TAGS cell holds quoted tag names, so the cell itself is quoted with its quotes doubled
        "tag_cells": ['"' + tags.replace('"', '""') + '"' for tags in TAGS],
        "company_sources": picklist("company_initiated"), "self_sources": picklist("self_initiated"),
        "other_sources": OTHER_SOURCES,
        "consent_label": policy.consent_values[-1].capitalize(),
        "history_field": policy.optout_history_field, "history_true": policy.optout_history_true_values[0],
        "cat_newsletter": cats["marketing"][0], "cat_campaign": cats["marketing"][-1],
        "cat_transactional": (cats["transactional"] or ["receipt"])[0], "cat_first_notice": cats["first_notice"][0],
        "legal_months": policy.dsar_legal_deadline_months, "target_days": policy.dsar_policy_target_days,
        "extended_months": policy.dsar_extended_deadline_months,
        "non_working": non_working,
        "access_label": policy.request_types["access"][0].capitalize(),
        "erasure_label": policy.request_types["erasure"][0].capitalize(),
        "rectification_label": policy.request_types.get("rectification",
                                                        policy.request_types["access"])[0].capitalize(),
        "done_label": policy.outcomes["done"][0].capitalize(),
    }
    for name, value in variables.items():
        con.execute(f"set variable {name} = $v", {"v": value})


def export_hex(seed: int, day: dt.date) -> str:
    """Mailchimp names each export with a hex code; here it follows from the seed and day."""
    return hashlib.sha256(f"{seed}-{day}".encode()).hexdigest()[:10]


def write_snapshot(con: duckdb.DuckDBPyConnection, w: Writer, out: Path, day: dt.date, seed: int,
                   policy: Policy) -> None:
    """The CRM and the audience as exported on `day` (records created before that day)."""
    con.execute("set variable day = $v", {"v": dt.datetime(day.year, day.month, day.day)})
    folder = out / day.isoformat()
    write_contacts(w, folder / "salesforce", policy.lawful_basis_fields["contact"])
    write_leads(w, folder / "salesforce", policy.lawful_basis_fields["lead"])
    write_accounts(w, folder / "salesforce")
    write_tasks(w, folder / "salesforce")
    write_meetings(w, folder / "salesforce")
    write_opportunities(w, folder / "salesforce")
    write_history(w, folder / "salesforce")
    write_audience(w, folder / "mailchimp", export_hex(seed, day))


def generate(out_dir, contacts: int, events: int, seed: int = 1, as_of: dt.date = dt.date(2026, 11, 24),
             extra_week: bool = False, weeks: int = 1, policy_path: Path | None = None) -> Generated:
    """Write the exports into out_dir (see the module doc); return the files and their record counts."""
    started = time.perf_counter()
    out = Path(out_dir).resolve()
    policy = Policy.load(Path(policy_path) if policy_path else ROOT / "policy.toml")
    sizes = Sizes(contacts, events)
    result = Generated(out)
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = true")  # the same bytes for the same seed
        for statement in MACROS.split(";"):
            if statement.strip():
                con.execute(statement)
        set_variables(con, sizes, seed, as_of, extra_week, policy)
        con.execute("set variable owners = (select list(sfid18('005', i) order by i) from range(6) t(i))")
        con.execute(ACCOUNTS)
        con.execute(PEOPLE)
        con.execute(ACTIVITIES)
        w = Writer(con, result)
        for week in range(weeks - 1, -1, -1):
            write_snapshot(con, w, out, as_of - dt.timedelta(days=7 * week), seed, policy)
        t0 = dt.datetime(as_of.year, as_of.month, as_of.day)
        folder = out / as_of.isoformat()
        write_events(con, w, folder / "events", t0 - dt.timedelta(days=EVENT_DAYS), EVENT_DAYS, events, 0)
        write_weblog(w, folder / "weblogs")
        write_register(w, folder / "register", policy)
        if extra_week:
            next_day = as_of + dt.timedelta(days=7)
            write_snapshot(con, w, out, next_day, seed, policy)
            write_events(con, w, out / next_day.isoformat() / "events", t0, 7, max(1, events * 7 // EVENT_DAYS), 1)
    finally:
        con.close()
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write Insyn's exports (Salesforce, Mailchimp, SendGrid, web logs, "
                                                 "the request register) at any scale, seeded.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--contacts", type=int, required=True, help="Contacts in the as-of snapshot (leads: 1/4)")
    parser.add_argument("--events", type=int, required=True, help="e-mail events over the two years before as-of")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    parser.add_argument("--weeks", type=int, default=1, help="weekly CRM and audience snapshots ending at as-of")
    parser.add_argument("--extra-week", action="store_true", help="also the week after as-of (incremental loads)")
    parser.add_argument("--policy", type=Path, default=None, help="policy file (default: the repository's)")
    args = parser.parse_args(argv)
    result = generate(args.out_dir, args.contacts, args.events, seed=args.seed, as_of=args.as_of,
                      extra_week=args.extra_week, weeks=args.weeks, policy_path=args.policy)
    for name, rows in sorted(result.files.items()):
        print(f"{rows:>10}  {name}")
    print(f"{sum(result.files.values()):>10}  records in {len(result.files)} files, {result.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
