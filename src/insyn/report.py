"""The content of the audit notebooks: the yearly audit report and the monthly retention review.

The scheduled notebooks (``notebooks/audit/``) hold a ``parameters`` cell and
short calls into this module; everything they show comes from here, in
Swedish or English: Markdown (headings included, so the HTML without code
is fully translated), ``plotly.graph_objects`` figures and pandas frames.

Layers, as in the dashboard:

* data: functions of a read-only DuckDB connection and the named queries
  folder (``pipelines/queries``), returning data frames; no SQL here;
* numbers: pure functions of those frames (``percentile``, ``request_year_stats``);
* presentation: ``YearlyReport`` and ``RetentionReview``, loaded once from the
  warehouse (opened read-only and closed again), then pure: each method
  returns a Markdown string, a frame or a figure, the same for the same data.

The numbers of the law and the policy (one month, three months, 30 days,
12 months, ...) come from ``params.run``, never from constants here. E-mail
addresses are shortened in everything this module writes (``a…@example.se``):
the report leaves the company; the full evidence stays in Insyn.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go

from . import db
from .queries import query

LANGUAGES = ("sv", "en")
REQUEST_TYPES = ("access", "erasure", "rectification", "restriction", "objection", "portability", "unknown")
SEVERITIES = ("high", "medium", "low")
RETENTION_RULE = "retention.inactive_company_initiated"
MAX_TABLE_ROWS = 60          # rows of a table shown in the report; the rest are counted

# Okabe & Ito (2008), as the dashboard's figures: distinct under colour blindness.
_BLUE, _ORANGE, _GREEN, _VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
_SKY_BLUE, _PURPLE, _GREY = "#56B4E9", "#CC79A7", "#999999"
_TYPE_COLOURS = dict(zip(REQUEST_TYPES, (_BLUE, _VERMILLION, _GREEN, _ORANGE, _PURPLE, _SKY_BLUE, _GREY)))
_SEVERITY_COLOURS = {"high": _VERMILLION, "medium": _ORANGE, "low": _SKY_BLUE}


# ---------------------------------------------------------------- texts

# key: (English, Swedish). Texts with {name} are formatted by the caller.
_TEXTS: dict[str, tuple[str, str]] = {
    # titles and headings
    "yearly title": ("Yearly data protection audit {year}", "Årlig dataskyddsgranskning {year}"),
    "monthly title": ("Monthly retention review, {month}", "Månatlig genomgång av lagringstider, {month}"),
    "summary": ("Summary", "Sammanfattning"),
    "requests heading": ("Requests by type and month", "Begäranden per typ och månad"),
    "deadlines heading": ("Deadlines, request by request", "Tidsfrister per begäran"),
    "retention heading": ("Retention of company-initiated contacts", "Lagringstid för företagsinitierade kontakter"),
    "optout heading": ("Opt-outs and first notices", "Avregistreringar och information vid insamling"),
    "weblog heading": ("Web server logs", "Webbserverloggar"),
    "transfers heading": ("Sub-processors and third-country transfers",
                          "Underbiträden och överföringar till tredjeland"),
    "policy heading": ("The privacy policy text", "Integritetspolicyns text"),
    "findings heading": ("Findings per rule", "Avvikelser per regel"),
    "provenance heading": ("Provenance", "Underlag och spårbarhet"),
    "due now heading": ("Contacts due for deletion now", "Kontakter som ska raderas nu"),
    "coming due heading": ("Contacts coming due for deletion", "Kontakter som snart ska raderas"),
    "flagged earlier heading": ("Contacts flagged earlier: are they gone?",
                                "Tidigare flaggade kontakter: är de borttagna?"),
    "first notice heading": ("First notices to collected contacts", "Information till insamlade kontakter"),
    "problems heading": ("The report cannot be relied on", "Rapporten går inte att lita på"),
    # title block
    "as of line": ("Findings evaluated as of **{as_of}**; requests received in {year} (and {prev} for comparison).",
                   "Avvikelserna är bedömda per **{as_of}**; begäranden som inkom {year} (och {prev} som jämförelse)."),
    "partial year": ("The year is not over at {as_of}: {year} is counted up to that date.",
                     "Året är inte slut per {as_of}: {year} räknas fram till det datumet."),
    "monthly as of line": ("Evaluated as of **{as_of}** for the review of {month}.",
                           "Bedömt per **{as_of}** för genomgången av {month}."),
    "language line": ("Report language: English. E-mail addresses are shortened (a…@example.se); "
                      "the full evidence stays in Insyn.",
                      "Rapportspråk: svenska. E-postadresser visas förkortade (a…@example.se); "
                      "fullständiga uppgifter finns kvar i Insyn."),
    # problems
    "problem as_of": ("The warehouse was built for {built}, not for {as_of}: its marts and findings describe {built}. "
                      "Build it for {as_of} (`insyn build --as-of {as_of}`) and run the report again.",
                      "Lagret är byggt per {built}, inte per {as_of}: dess tabeller och avvikelser gäller {built}. "
                      "Bygg det per {as_of} (`insyn build --as-of {as_of}`) och kör rapporten igen."),
    "problem before year": ("The as-of date {as_of} lies before the audited year {year}.",
                            "Datumet {as_of} ligger före det granskade året {year}."),
    "problem month": ("The as-of date {as_of} lies before the reviewed month {month}.",
                      "Datumet {as_of} ligger före den granskade månaden {month}."),
    "problem no export": ("No {source} export was loaded on or before {as_of}.",
                          "Ingen export av {source} har lästs in på eller före {as_of}."),
    "problem params": ("params.run does not hold exactly one row: the warehouse was not built.",
                       "params.run har inte exakt en rad: lagret är inte byggt."),
    # summary
    "measure": ("Measure", "Mått"),
    "requests received": ("Requests received", "Inkomna begäranden"),
    "closed requests": ("Closed", "Avslutade"),
    "open at": ("Open at {as_of}", "Öppna per {as_of}"),
    "legal met": ("Closed within the legal deadline", "Avslutade inom lagstadgad tidsfrist"),
    "legal missed": ("Legal deadline missed (closed late or open past it)",
                     "Lagstadgad tidsfrist missad (avslutad för sent eller öppen efter den)"),
    "legal pending": ("Open, deadline not yet reached", "Öppna, tidsfristen ännu inte nådd"),
    "policy met": ("Policy target met ({days} days)", "Policyns mål uppfyllt ({days} dagar)"),
    "median days": ("Median days to close", "Median, dagar till avslut"),
    "p90 days": ("90th percentile, days to close", "90:e percentilen, dagar till avslut"),
    "extensions": ("Extensions notified (valid)", "Förlängningar meddelade (giltiga)"),
    "of": ("{n} of {d}", "{n} av {d}"),
    "deadline explained": (
        "The legal deadline is {legal} from receipt (GDPR art. 12(3)), moved to the next working day when it "
        "falls on a weekend or Swedish public holiday (Reg. 1182/71 art. 3); it may be extended to {extended} "
        "if the requester is told before the first deadline. A request is judged by its closed date, or at "
        "{as_of} while open. The policy's own target is {target} days. Percentiles are over the closed "
        "requests: the 90th percentile is the smallest number of days within which at least 90 % of them "
        "were closed (nearest rank).",
        "Den lagstadgade tidsfristen är {legal} från mottagandet (GDPR art. 12.3) och flyttas till nästa "
        "arbetsdag när den infaller på en lördag, söndag eller allmän helgdag (förordning 1182/71 art. 3); den "
        "kan förlängas till {extended} om den sökande underrättas inom den första tidsfristen. En begäran "
        "bedöms efter sitt avslutsdatum, eller per {as_of} om den är öppen. Policyns eget mål är {target} dagar. "
        "Percentilerna gäller avslutade begäranden: den 90:e percentilen är det minsta antal dagar inom vilket "
        "minst 90 % av dem avslutades (närmaste rang)."),
    "findings summary": ("At {as_of}, **{rules}** of {all} rules have findings, {total} in all: {high} of high, "
                         "{medium} of medium and {low} of low severity.",
                         "Per {as_of} har **{rules}** av {all} regler avvikelser, totalt {total}: {high} med hög, "
                         "{medium} med medelhög och {low} med låg allvarlighetsgrad."),
    "rules with findings": ("Rules with findings", "Regler med avvikelser"),
    "no findings": ("No rule has any finding at {as_of}.", "Ingen regel har någon avvikelse per {as_of}."),
    "unreadable dates": ("{n} row(s) of the register have a date cell that cannot be read ({ids}); such a "
                         "cell counts as empty.",
                         "{n} rad(er) i registret har en datumcell som inte går att läsa ({ids}); en sådan "
                         "cell räknas som tom."),
    # requests
    "month": ("Month", "Månad"),
    "total": ("Total", "Totalt"),
    "requests intro": ("Requests received in {year} by type and month of receipt ({n} in all; {prev_n} in {prev}).",
                       "Begäranden som inkom {year} per typ och månad ({n} totalt; {prev_n} under {prev})."),
    "requests figure": ("Requests received per month, {year}", "Inkomna begäranden per månad, {year}"),
    "requests axis": ("Requests", "Begäranden"),
    "no requests": ("No requests were received in {year}.", "Inga begäranden inkom {year}."),
    # deadline table
    "deadlines intro": ("Every request received in {year} with the deadline that applied to it: moved to the next "
                        "working day when it fell on a weekend or public holiday, extended when the extension was "
                        "told in time (the notes below the table give the dates). {missed} missed the deadline, "
                        "{pending} are open and not yet due.",
                        "Varje begäran som inkom {year} med den tidsfrist som gällde för den: flyttad till nästa "
                        "arbetsdag när den föll på en lördag, söndag eller helgdag, förlängd när förlängningen "
                        "meddelades i tid (noterna under tabellen ger datumen). {missed} missade tidsfristen, "
                        "{pending} är öppna och ännu inte förfallna."),
    "request id": ("Request id", "Ärende-ID"),
    "type": ("Type", "Typ"),
    "received": ("Received", "Inkom"),
    "legal unrolled": ("Legal deadline before moving", "Lagstadgad tidsfrist före flytt"),
    "legal rolled": ("Legal deadline", "Lagstadgad tidsfrist"),
    "extension told": ("Extension told", "Förlängning meddelad"),
    "extended unrolled": ("Extended deadline before moving", "Förlängd tidsfrist före flytt"),
    "extended deadline": ("Extended deadline", "Förlängd tidsfrist"),
    "deadline applied": ("Deadline", "Tidsfrist"),
    "note policy": ("Past the policy's own target of {days} days: {ids}.",
                    "Över policyns eget mål på {days} dagar: {ids}."),
    "none": ("none", "inga"),
    "mark extended": ("extended", "förlängd"),
    "mark moved": ("moved", "flyttad"),
    "note moved": ("{id}: the deadline fell on {unrolled}, not a working day, and moved to {due}.",
                   "{id}: tidsfristen föll på {unrolled}, som inte är en arbetsdag, och flyttades till {due}."),
    "note extended": ("{id}: extension told {told}, within the legal deadline {legal}: extended deadline {due}.",
                      "{id}: förlängning meddelad {told}, inom den lagstadgade tidsfristen {legal}: förlängd "
                      "tidsfrist {due}."),
    "note extension late": ("{id}: extension told {told}, after the legal deadline {legal}: not valid, the legal "
                            "deadline applies.",
                            "{id}: förlängning meddelad {told}, efter den lagstadgade tidsfristen {legal}: inte "
                            "giltig, den lagstadgade tidsfristen gäller."),
    "closed": ("Closed", "Avslutad"),
    "days": ("Days", "Dagar"),
    "deadline": ("Against the deadline", "Mot tidsfristen"),
    "policy status": ("Against the policy target ({days} days)", "Mot policyns mål ({days} dagar)"),
    "status met": ("in time", "i tid"),
    "status missed": ("late", "för sent"),
    "status missed open": ("late (open)", "för sent (öppen)"),
    "status pending": ("open", "öppen"),
    "extension valid": ("{date}", "{date}"),
    "extension late": ("{date} (too late)", "{date} (för sent)"),
    "more rows": ("… and {n} more rows.", "… och {n} rader till."),
    # retention
    "retention intro": (
        "The policy: a company-initiated contact (collected by the company, e.g. from a web site) is deleted "
        "when there has been no active dialogue with it in the last {months} months. At {as_of}, **{n}** "
        "contacts and leads are due for deletion (rule `{rule}`).",
        "Policyn: en företagsinitierad kontakt (insamlad av företaget, t.ex. från en webbplats) raderas när "
        "det inte har förekommit någon aktiv dialog med den de senaste {months} månaderna. Per {as_of} ska "
        "**{n}** kontakter och leads raderas (regel `{rule}`)."),
    "followup intro": (
        "Follow-up of the checks {period}: of the **{n}** records flagged, {gone} had left the CRM by its next "
        "export, {present} were still there, and {unknown} have no later export yet.",
        "Uppföljning av kontrollerna {period}: av de **{n}** poster som flaggades var {gone} borta ur CRM vid "
        "nästa export, {present} fanns kvar och för {unknown} finns ännu ingen senare export."),
    "followup none": ("No check run {period} flagged a record for deletion.",
                      "Ingen kontrollkörning {period} flaggade någon post för radering."),
    "period year": ("in {year}", "under {year}"),
    "period before": ("before {as_of}", "före {as_of}"),
    "crm id": ("CRM id", "CRM-ID"),
    "object": ("Object", "Objekt"),
    "created": ("Created", "Skapad"),
    "last dialogue": ("Last dialogue", "Senaste dialog"),
    "months quiet": ("Months without dialogue", "Månader utan dialog"),
    "none recorded": ("none recorded", "ingen registrerad"),
    "first flagged": ("First flagged", "Flaggad första gången"),
    "next export": ("Next export", "Nästa export"),
    "gone by next": ("Gone by the next export", "Borta vid nästa export"),
    "gone now": ("Gone now", "Borta nu"),
    "no later export": ("no later export yet", "ingen senare export ännu"),
    "yes": ("yes", "ja"),
    "no": ("no", "nej"),
    "due now intro": (
        "Company-initiated contacts and leads with no active dialogue in the last {months} months at {as_of} "
        "(rule `{rule}`): **{n}** to delete. The CRM ids can go straight into a Salesforce bulk delete.",
        "Företagsinitierade kontakter och leads utan aktiv dialog de senaste {months} månaderna per {as_of} "
        "(regel `{rule}`): **{n}** ska raderas. CRM-id:na kan användas direkt för en massradering i Salesforce."),
    "coming due intro": ("If nothing new happens, these records reach the end of their retention period soon: "
                         "{n30} within 30 days, {n60} within 60 days and {n90} within 90 days of {as_of}.",
                         "Om inget nytt händer når dessa poster snart slutet av sin lagringstid: {n30} inom 30 "
                         "dagar, {n60} inom 60 dagar och {n90} inom 90 dagar från {as_of}."),
    "due on": ("Due for deletion", "Ska raderas"),
    "days left": ("Days left", "Dagar kvar"),
    "within": ("Within", "Inom"),
    "within days": ("{n} days", "{n} dagar"),
    "months figure": ("Company-initiated contacts by months since their last dialogue",
                      "Företagsinitierade kontakter efter månader sedan senaste dialog"),
    "months axis": ("Months since last dialogue (or creation)", "Månader sedan senaste dialog (eller skapande)"),
    "records axis": ("Records", "Poster"),
    "within retention": ("Within the retention period", "Inom lagringstiden"),
    "past retention": ("At or past the retention period", "Lagringstiden nådd eller passerad"),
    # opt-outs and notices
    "optout intro": (
        "Marketing e-mail delivered after the person opted out (rule `optout.marketing_after_optout`, "
        "GDPR art. 21(3)): **{after}** address(es). Opt-outs the CRM and the e-mail tool disagree on "
        "(`optout.not_synced`): **{sync}**.",
        "Marknadsföringsutskick som levererats efter att personen avregistrerat sig (regel "
        "`optout.marketing_after_optout`, GDPR art. 21.3): **{after}** adress(er). Avregistreringar som CRM och "
        "e-postverktyget inte är överens om (`optout.not_synced`): **{sync}**."),
    "notice intro": (
        "A collected contact is to get the first information mailing within {days} days (GDPR art. 14(3)): "
        "late for **{late}** record(s) (`notice.first_mailing_late`), never sent to **{missing}** "
        "(`notice.first_mailing_missing`).",
        "En insamlad kontakt ska få det första informationsutskicket inom {days} dagar (GDPR art. 14.3): "
        "för sent för **{late}** post(er) (`notice.first_mailing_late`), aldrig skickat till **{missing}** "
        "(`notice.first_mailing_missing`)."),
    "address": ("Address", "Adress"),
    "source": ("Source", "Källa"),
    "detail": ("Detail", "Detalj"),
    "rule": ("Rule", "Regel"),
    "record": ("Record", "Post"),
    # web logs
    "weblog intro": (
        "The access logs hold IP addresses and requested addresses. They are kept for {months} months: lines "
        "before {horizon} (UTC) should be gone. {lines} line(s) in {files} file(s) are loaded; **{past}** "
        "line(s) on {past_days} day(s) are past the horizon (`weblog.retention_exceeded`), and **{email}** "
        "line(s) on {email_days} day(s) carry an e-mail address in the requested address "
        "(`weblog.personal_data_in_url`).",
        "Åtkomstloggarna innehåller IP-adresser och begärda webbadresser. De sparas i {months} månader: rader "
        "från före {horizon} (UTC) ska vara borta. {lines} rad(er) i {files} fil(er) är inlästa; **{past}** "
        "rad(er) från {past_days} dag(ar) är äldre än så (`weblog.retention_exceeded`), och **{email}** rad(er) "
        "från {email_days} dag(ar) har en e-postadress i den begärda webbadressen "
        "(`weblog.personal_data_in_url`)."),
    "file": ("File", "Fil"),
    "lines": ("Lines", "Rader"),
    "first day": ("First day", "Första dag"),
    "last day": ("Last day", "Sista dag"),
    "past horizon": ("Past retention", "Äldre än lagringstiden"),
    "with email": ("With e-mail address", "Med e-postadress"),
    "no weblogs": ("No web server log is loaded.", "Ingen webbserverlogg är inläst."),
    # transfers
    "transfers intro": (
        "The sub-processor register at {as_of}: {n} sub-processor(s), {outside} outside the EU/EEA; **{invalid}** "
        "without a valid transfer basis (rule `transfer.invalid_mechanism`, GDPR art. 44–46).",
        "Underbiträdesregistret per {as_of}: {n} underbiträde(n), varav {outside} utanför EU/EES; **{invalid}** "
        "saknar giltig grund för överföringen (regel `transfer.invalid_mechanism`, GDPR art. 44–46)."),
    "sub-processor": ("Sub-processor", "Underbiträde"),
    "country": ("Country", "Land"),
    "role": ("Role", "Roll"),
    "mechanism": ("Transfer basis", "Överföringsgrund"),
    "DPF until": ("DPF certified until", "DPF-certifierad t.o.m."),
    "TIA": ("TIA", "TIA"),
    "DPA": ("DPA", "PUB-avtal"),
    "judgement": ("Judgement", "Bedömning"),
    "in EEA": ("inside the EU/EEA", "inom EU/EES"),
    "adequate country": ("adequacy decision for the country", "adekvansbeslut för landet"),
    "valid": ("valid", "giltig"),
    "invalid": ("invalid: {reason}", "ogiltig: {reason}"),
    "no subprocessors": ("No sub-processor register is loaded.", "Inget underbiträdesregister är inläst."),
    # policy text
    "policy intro": (
        "The policy was last reviewed {reviewed}; it promises a review at least every {months} months "
        "(`policy.review_overdue`: {overdue}). References in the text that are no longer true "
        "(`policy.outdated_reference`): **{outdated}**.",
        "Policyn granskades senast {reviewed}; den utlovar en översyn minst var {months}:e månad "
        "(`policy.review_overdue`: {overdue}). Uppgifter i texten som inte längre stämmer "
        "(`policy.outdated_reference`): **{outdated}**."),
    "policy missing": ("The policy text was not found, so the policy.* rules could not read it.",
                       "Policytexten hittades inte, så policy.*-reglerna kunde inte läsa den."),
    "policy hash": ("Text read: SHA-256 `{sha}`.", "Läst text: SHA-256 `{sha}`."),
    "where": ("Where", "Var"),
    "occurrences": ("Occurrences", "Förekomster"),
    "overdue yes": ("overdue", "försenad"),
    "overdue no": ("not overdue", "inte försenad"),
    # findings
    "findings intro": ("Every rule of the policy at {as_of}, most severe first. When a finding stands for several "
                       "items (log lines, occurrences in the text), their number follows in parentheses.",
                       "Varje regel i policyn per {as_of}, de allvarligaste först. När en avvikelse omfattar flera "
                       "poster (loggrader, förekomster i texten) står antalet poster inom parentes."),
    "title": ("Rule", "Regel"),
    "rule id": ("Rule id", "Regel-id"),
    "severity": ("Severity", "Allvarlighetsgrad"),
    "legal reference": ("Legal reference", "Lagrum"),
    "findings": ("Findings", "Avvikelser"),
    "items": ("Items", "Poster"),
    "findings figure": ("Findings per rule at {as_of}", "Avvikelser per regel per {as_of}"),
    "high": ("high", "hög"),
    "medium": ("medium", "medel"),
    "low": ("low", "låg"),
    # provenance
    "prov warehouse": ("Warehouse: `{file}`, opened read-only, built for {built} (build {build_id} finished "
                       "{finished}, {models} models, Insyn {version}).",
                       "Lager: `{file}`, öppnat skrivskyddat, byggt per {built} (bygge {build_id} klart "
                       "{finished}, {models} modeller, Insyn {version})."),
    "prov run": ("Audit pack run id: `{run_id}`.", "Körnings-id för revisionspaketet: `{run_id}`."),
    "prov no run": ("Audit pack run id: none given (run by hand).",
                    "Körnings-id för revisionspaketet: inget angivet (körd för hand)."),
    "prov check": ("Checks (Great Expectations): run {id} for {as_of}, finished {finished}: {failed} of "
                   "{expectations} expectations failed.",
                   "Kontroller (Great Expectations): körning {id} per {as_of}, klar {finished}: {failed} av "
                   "{expectations} förväntningar underkända."),
    "prov no check": ("Checks (Great Expectations): no check run for {as_of}.",
                      "Kontroller (Great Expectations): ingen kontrollkörning per {as_of}."),
    "prov policy": ("Policy text SHA-256: `{sha}`.", "Policytextens SHA-256: `{sha}`."),
    "prov exports": ("The exports judged ({files} files loaded in all):", "De exporter som bedömts ({files} inlästa filer totalt):"),
    "files": ("Files", "Filer"),
    "latest export": ("Latest export", "Senaste export"),
    "rows": ("Rows", "Rader"),
    "sha256": ("SHA-256 (latest)", "SHA-256 (senaste)"),
    "nothing": ("Nothing to show.", "Inget att visa."),
    "first notice only": (
        "Collected contacts are to get the first information mailing within {days} days (GDPR art. 14(3)).",
        "Insamlade kontakter ska få det första informationsutskicket inom {days} dagar (GDPR art. 14.3)."),
}

_VALUE_TEXTS: dict[str, tuple[str, str]] = {
    "access": ("Access", "Tillgång"),
    "erasure": ("Erasure", "Radering"),
    "rectification": ("Rectification", "Rättelse"),
    "restriction": ("Restriction", "Begränsning"),
    "objection": ("Objection", "Invändning"),
    "portability": ("Portability", "Dataportabilitet"),
    "unknown": ("Unknown", "Okänd"),
    "salesforce.contact": ("Contact", "Kontakt"),
    "salesforce.lead": ("Lead", "Lead"),
    "adequacy": ("Adequacy decision", "Adekvansbeslut"),
    "dpf": ("Data Privacy Framework", "Data Privacy Framework"),
    "scc_2021": ("SCC 2021", "SCC 2021"),
    "scc_2010": ("SCC 2010", "SCC 2010"),
    "bcr": ("Binding corporate rules", "Bindande företagsbestämmelser"),
    "privacy_shield": ("Privacy Shield", "Privacy Shield"),
    "none": ("None", "Ingen"),
}

_MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september",
              "oktober", "november", "december")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")

# The rules' `detail` texts and the transfer judgements are English as the SQL
# models write them; these patterns give their Swedish reading (anything else
# is shown as written).
_DETAIL_SV: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p), s) for p, s in (
    (r"^(\d+) marketing mailing\(s\) after opt-out: (.*)$", r"\1 marknadsföringsutskick efter avregistrering: \2"),
    (r"^opted out in the CRM but subscribed in the e-mail tool$",
     "avregistrerad i CRM men prenumererar i e-postverktyget"),
    (r"^unsubscribed in the e-mail tool but not opted out in the CRM$",
     "avregistrerad i e-postverktyget men inte i CRM"),
    (r"^first mailing (\S+), (\d+) days after creation on (\S+)$",
     r"första utskicket \1, \2 dagar efter att posten skapades \3"),
    (r"^no delivered mailing; created (\S+)$", r"inget levererat utskick; skapad \1"),
    (r"^no e-mail address: the person cannot have been informed$",
     "ingen e-postadress: personen kan inte ha informerats"),
    (r"^no dialogue recorded; created (\S+)$", r"ingen dialog registrerad; skapad \1"),
    (r"^no dialogue since (\S+)$", r"ingen dialog sedan \1"),
    (r"^erased (\S+), still in: (.*)$", r"raderad \1, finns kvar i: \2"),
    (r"^last reviewed (\S+) \(text dated (\S+)\), more than (\d+) months before (\S+)$",
     r"senast granskad \1 (texten daterad \2), mer än \3 månader före \4"),
    (r'^"(.*)": invalidated by the CJEU on 16 July 2020 \(C-311/18\)$',
     r'"\1": ogiltigförklarad av EU-domstolen den 16 juli 2020 (C-311/18)'),
    (r'^"(.*)": the law gives one month \(GDPR art\. 12\(3\)\), not 30 days$',
     r'"\1": lagen ger en månad (GDPR art. 12.3), inte 30 dagar'),
    (r'^"(.*)": renamed Integritetsskyddsmyndigheten \(IMY\) on 1 January 2021$',
     r'"\1": bytte namn till Integritetsskyddsmyndigheten (IMY) den 1 januari 2021'),
    (r"^Privacy Shield was invalidated \(C-311/18\)$", "Privacy Shield har ogiltigförklarats (C-311/18)"),
    (r"^DPF certification had lapsed$", "DPF-certifieringen har löpt ut"),
    (r"^2021 SCCs without a transfer impact assessment$",
     "SCC 2021 utan konsekvensbedömning av överföringen (TIA)"),
    (r"^the 2010 SCCs are no longer valid$", "SCC 2010 gäller inte längre"),
    (r"^no adequacy decision for the country$", "inget adekvansbeslut för landet"),
    (r"^the DPF covers only its own country$", "DPF gäller bara sitt eget land"),
    (r"^the DPF adequacy decision was not yet in force$", "adekvansbeslutet för DPF gällde ännu inte"),
    (r"^no DPF certification date recorded$", "inget datum för DPF-certifiering registrerat"),
    (r"^no transfer basis$", "ingen överföringsgrund"),
    (r"^unknown transfer mechanism$", "okänd överföringsgrund"),
))


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return language


def text(key: str, lang: str, **values) -> str:
    """The report's text for `key` in `lang` ('sv' or 'en'), formatted with `values`."""
    en, sv = _TEXTS[key]
    return (sv if lang == "sv" else en).format(**values)


def label(value, lang: str) -> str:
    """A value the data carries (request type, object, transfer mechanism), in the language."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    pair = _VALUE_TEXTS.get(str(value))
    if pair is None:
        return str(value)
    return pair[1] if lang == "sv" else pair[0]


def translate_detail(detail, lang: str) -> str:
    """A rule's `detail` text (English, as the SQL models write it) in the language; unknown texts as written."""
    if detail is None or (isinstance(detail, float) and math.isnan(detail)):
        return ""
    detail = str(detail)
    if lang == "sv":
        for pattern, replacement in _DETAIL_SV:
            if pattern.match(detail):
                return pattern.sub(replacement, detail)
    return detail


def month_name(month: int, lang: str) -> str:
    return (_MONTHS_SV if lang == "sv" else _MONTHS_EN)[month - 1]


def months_text(n: int, lang: str) -> str:
    """'1 month' / '3 months' / '1 månad' / '3 månader'."""
    if lang == "sv":
        return f"{n} månad" if n == 1 else f"{n} månader"
    return f"{n} month" if n == 1 else f"{n} months"


# ---------------------------------------------------------------- numbers and formats

def percentile(values: Iterable, q: float) -> float | None:
    """The q-th percentile (0 < q <= 100) by nearest rank: the smallest value with at least q % of
    the values at or below it (an observed value, never interpolated). None for no values;
    missing values (None, NaN) are left out."""
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    xs = sorted(float(v) for v in values if v is not None and not pd.isna(v))
    if not xs:
        return None
    rank = math.ceil(q / 100 * len(xs))
    return xs[max(rank, 1) - 1]


def median(values: Iterable) -> float | None:
    """The median: the middle value, or the mean of the two middle values; None for no values."""
    xs = sorted(float(v) for v in values if v is not None and not pd.isna(v))
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def fmt_int(n, lang: str) -> str:
    if n is None or pd.isna(n):
        return "–"
    s = f"{int(n):,}"
    return s.replace(",", "\u00a0") if lang == "sv" else s


def fmt_num(x, lang: str, digits: int = 1) -> str:
    """A number with at most `digits` decimals (none when whole): '15', '15,5' (sv), '15.5' (en)."""
    if x is None or pd.isna(x):
        return "–"
    x = float(x)
    if x == int(x):
        return fmt_int(x, lang)
    s = f"{x:,.{digits}f}"
    if lang == "sv":
        s = s.replace(",", "\u00a0").replace(".", ",")
    return s


def fmt_pct(n: int, d: int, lang: str) -> str:
    """'13 of 15 (87 %)' / '13 av 15 (87 %)'; '–' when nothing was judged."""
    if not d:
        return "–"
    pct = round(100 * n / d)
    return text("of", lang, n=fmt_int(n, lang), d=fmt_int(d, lang)) + (
        f" ({pct}\u00a0%)" if lang == "sv" else f" ({pct}%)")


def fmt_date(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).date().isoformat()


def fmt_time(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")


def mask_email(address) -> str:
    """'anna.ek@example.se' -> 'a…@example.se'; text that is no address is shortened to its first letter."""
    if address is None or pd.isna(address) or not str(address).strip():
        return "–"
    address = str(address).strip().translate(_AT_SIGNS)
    local, at, domain = address.rpartition("@")
    if not at:
        return address[:1] + "…"
    return f"{local[:1]}…@{domain}"


# The abbreviations of everything that leaves the company (this report, the audit pack's evidence and
# Data Docs): one place. An address keeps the first letter of its local part and its domain, an IP
# address its network (81.224.x.x), any other personal value its first letter.
_AT_SIGNS = str.maketrans({"＠": "@", "﹫": "@"})   # the full-width and small @ read as one by people
_EMAIL_IN_TEXT = re.compile(r"[^\s@＠﹫]*[@＠﹫]\S+")
_IP_CANDIDATE = re.compile(r"(?<![\w.:])[0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*(?![\w.:])")
# Characters that could start markup in HTML (an element, an attribute, an entity), as look-alikes.
_MARKUP = str.maketrans({"<": "‹", ">": "›", "&": "＆", '"': "“", "'": "’", "`": "’"})


def mask_ip(address) -> str | None:
    """'81.224.10.7' -> '81.224.x.x', '2001:db8::1f' -> '2001:db8:…'; None when the text is no IP address."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return None
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:2]) + ".x.x"
    return ":".join(group.lstrip("0") or "0" for group in ip.exploded.split(":")[:2]) + ":…"


def mask_in_text(value) -> str:
    """Free text with every e-mail and IP address in it abbreviated (the rest unchanged)."""
    s = "" if value is None else str(value)
    s = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), s)
    return _IP_CANDIDATE.sub(lambda m: mask_ip(m.group(0)) or m.group(0), s)


def plain(value) -> str:
    """Text that no HTML page can read as markup: the characters that start markup replaced by look-alikes."""
    return ("" if value is None else str(value)).translate(_MARKUP)


def abbreviate(value) -> str:
    """A personal value shortened: an e-mail as 'a…@example.se', an IP address as '81.224.x.x',
    anything else (a name, a phone number) as its first letter; markup characters replaced."""
    s = "" if value is None else str(value).strip()
    if not s:
        return s
    if "@" in s:
        return plain(mask_email(s))
    return plain(mask_ip(s) or s[:1] + "…")


# ":" too: a scheme (https:) escaped is no bare URL, so the HTML has no link made from a value.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#:&])")
# Dates and ids such as 2026-02-20 or DSAR-2026-001 in a table cell: kept on one line (a narrow PDF
# column would break them at the hyphens), the text itself unchanged.
_UNBREAKABLE = re.compile(r"\S{0,12}\d-\d\S{0,12}")
# Long names without spaces (rule ids, file paths) may break after these characters (<wbr>: the text is unchanged).
_BREAK_AFTER = re.compile(r"([/.@]|\\_)(?=.)")


def md_escape(value) -> str:
    """A cell value as Markdown text: special characters escaped, line breaks as spaces."""
    s = "" if value is None else str(value)
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"[ \t\r\n]+", " ", s).strip())  # NBSP (1\u00a0250) kept


def _md_cell(value) -> str:
    """A table cell as Markdown: escaped; a date or id kept on one line; a long name given break points."""
    words = []
    for word in md_escape(value).split(" "):
        if _UNBREAKABLE.fullmatch(word):
            word = f'<span style="white-space:nowrap">{word}</span>'
        elif len(word) > 20:
            word = _BREAK_AFTER.sub(r"\1<wbr>", word)
        words.append(word)
    return " ".join(words)


def md_table(rows: Sequence[Sequence], header: Sequence[str], lang: str, *, limit: int = MAX_TABLE_ROWS,
             align: Sequence[str] | None = None) -> str:
    """A Markdown table of already formatted cells; at most `limit` rows, the rest counted below it."""
    if not rows:
        return text("nothing", lang)
    align = align or ["l"] * len(header)
    rule = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
    for row in list(rows)[:limit]:
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    if len(rows) > limit:
        lines.append("")
        lines.append(text("more rows", lang, n=fmt_int(len(rows) - limit, lang)))
    return "\n".join(lines)


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _none(value):
    """NaN / NaT / pd.NA as None."""
    return None if value is None or pd.isna(value) else value


# ---------------------------------------------------------------- data (read-only connection + named queries)

def open_warehouse(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """The warehouse file, opened read-only (an error names the file when it is missing or no warehouse)."""
    return db.connect(Path(warehouse), read_only=True)


def run_params(con, queries) -> pd.DataFrame:
    """params.run: the built as-of and the policy's values (one row)."""
    return query(con, queries, "policy_values")


def dsar_requests(con, queries, year: int) -> pd.DataFrame:
    """Requests received in `year` with the deadline that applies and whether it was met."""
    return query(con, queries, "report_dsar_requests", year=int(year))


def findings_by_rule(con, queries, as_of: dt.date) -> pd.DataFrame:
    frame = query(con, queries, "findings_by_rule", as_of=as_of)
    return frame.astype({"findings": "int64", "items": "int64"})


def findings(con, queries, as_of: dt.date, rule: str | None = None) -> pd.DataFrame:
    frame = query(con, queries, "findings", as_of=as_of, rule=rule)
    frame["count"] = frame["count"].fillna(1).astype("int64")
    return frame


def retention_followup(con, queries, from_on: dt.date | None, to_on: dt.date | None) -> pd.DataFrame:
    return query(con, queries, "report_retention_followup", from_on=from_on, to_on=to_on)


def latest_exports(con, queries) -> pd.DataFrame:
    return query(con, queries, "report_exports")


def _latest_check(checks: pd.DataFrame, as_of: dt.date) -> dict | None:
    if checks.empty:
        return None
    mine = checks[pd.to_datetime(checks["as_of"]).dt.date == as_of]
    if mine.empty:
        return None
    return mine.sort_values("check_run_id").iloc[-1].to_dict()


# ---------------------------------------------------------------- numbers of a year

def request_year_stats(requests: pd.DataFrame) -> dict:
    """Counts and durations of a year's requests (a frame of report_dsar_requests)."""
    closed = requests[~requests["is_open"].astype(bool)] if len(requests) else requests
    days = [int(d) for d in closed["days_to_close"]] if len(closed) else []
    status = requests["deadline_status"].value_counts() if len(requests) else pd.Series(dtype=int)
    policy = requests["policy_status"].value_counts() if len(requests) else pd.Series(dtype=int)
    return {
        "received": len(requests),
        "closed": len(closed),
        "open": len(requests) - len(closed),
        "deadline_met": int(status.get("met", 0)),
        "deadline_missed": int(status.get("missed", 0)),
        "deadline_pending": int(status.get("pending", 0)),
        "policy_met": int(policy.get("met", 0)),
        "policy_missed": int(policy.get("missed", 0)),
        "median_days": median(days),
        "p90_days": percentile(days, 90),
        "extensions": int(requests["has_extension_notice"].sum()) if len(requests) else 0,
        "valid_extensions": int(requests["has_valid_extension"].sum()) if len(requests) else 0,
    }


def requests_by_type_and_month(requests: pd.DataFrame) -> pd.DataFrame:
    """Requests per month of receipt (rows 1-12) and canonical type (columns, in the register's order;
    a type no request has is left out), with a Total column. Months with none hold 0."""
    months = pd.Index(range(1, 13), name="month")
    if requests.empty:
        return pd.DataFrame({"total": 0}, index=months)
    frame = requests.assign(month=pd.to_datetime(requests["received_on"]).dt.month)
    table = pd.crosstab(frame["month"], frame["request_type"]).reindex(months, fill_value=0)
    order = [t for t in REQUEST_TYPES if t in table.columns] + sorted(set(table.columns) - set(REQUEST_TYPES))
    table = table[order]
    table.columns.name = None
    table["total"] = table.sum(axis=1)
    return table.astype("int64")


# ---------------------------------------------------------------- figures (plotly.graph_objects only)

def _figure(title: str, traces: list, **layout) -> go.Figure:
    fig = go.Figure(data=traces)
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        template="plotly_white",
        margin=dict(l=64, r=40, t=72, b=64),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, traceorder="normal"),
        height=420,
        **layout,
    )
    return fig


def figure_requests_by_month(table: pd.DataFrame, year: int, lang: str) -> go.Figure:
    """Stacked bars: requests received per month of `year`, one colour per request type."""
    months = [month_name(m, lang)[:3] for m in table.index]
    traces = [go.Bar(name=label(t, lang), x=months, y=[int(v) for v in table[t]],
                     marker_color=_TYPE_COLOURS.get(t, _GREY))
              for t in table.columns if t != "total"]
    return _figure(text("requests figure", lang, year=year), traces, barmode="stack",
                   xaxis=dict(title=text("month", lang)),
                   yaxis=dict(title=text("requests axis", lang), rangemode="tozero"))


def figure_findings_by_rule(rules: pd.DataFrame, as_of: dt.date, lang: str) -> go.Figure:
    """Horizontal bars: findings per rule at as-of, coloured by severity; rules without findings shown at 0."""
    frame = rules.iloc[::-1]
    title_col = "title_sv" if lang == "sv" else "title_en"
    traces = []
    for severity in SEVERITIES:
        part = frame[frame["severity"] == severity]
        traces.append(go.Bar(
            name=text(severity, lang), orientation="h", y=list(part["rule"]), x=[int(v) for v in part["findings"]],
            marker_color=_SEVERITY_COLOURS[severity], customdata=list(part[title_col]),
            hovertemplate="%{customdata}: %{x}<extra></extra>"))
    fig = _figure(text("findings figure", lang, as_of=as_of.isoformat()), traces, barmode="stack",
                  xaxis=dict(title=text("findings", lang), rangemode="tozero"),
                  yaxis=dict(categoryorder="array", categoryarray=list(frame["rule"]), automargin=True))
    fig.update_layout(height=max(360, 28 * len(frame) + 140))
    return fig


def figure_months_quiet(stale: pd.DataFrame, retention_months: int, lang: str) -> go.Figure:
    """Company-initiated records by whole months since their last dialogue (or creation)."""
    counts = stale["months_quiet"].value_counts().sort_index() if len(stale) else pd.Series(dtype=int)
    months = [int(m) for m in counts.index]
    inside = [int(c) if m < retention_months else 0 for m, c in zip(months, counts)]
    past = [int(c) if m >= retention_months else 0 for m, c in zip(months, counts)]
    traces = [go.Bar(name=text("within retention", lang), x=months, y=inside, marker_color=_BLUE),
              go.Bar(name=text("past retention", lang), x=months, y=past, marker_color=_VERMILLION)]
    return _figure(text("months figure", lang), traces, barmode="stack",
                   xaxis=dict(title=text("months axis", lang), dtick=3),
                   yaxis=dict(title=text("records axis", lang), rangemode="tozero"))


# ---------------------------------------------------------------- shared pieces of the two reports

def _count_of(rules: pd.DataFrame, rule: str, column: str = "findings") -> int:
    row = rules[rules["rule"] == rule]
    return int(row[column].iloc[0]) if len(row) else 0


def _deletion_rows(deletions: pd.DataFrame, stale: pd.DataFrame, lang: str) -> list[list[str]]:
    quiet = stale.set_index(["record_id", "source"]) if len(stale) else None
    rows = []
    for d in deletions.itertuples(index=False):
        source = "salesforce.contact" if d.sobject == "Contact" else "salesforce.lead"
        last, months = None, None
        if quiet is not None and (d.crm_id, source) in quiet.index:
            info = quiet.loc[(d.crm_id, source)]
            last, months = _none(info["last_dialogue_on"]), _none(info["months_quiet"])
        rows.append([d.crm_id, label(source, lang), fmt_date(d.created_on),
                     fmt_date(last) if last is not None else text("none recorded", lang), fmt_int(months, lang)])
    return rows


def _deletion_header(lang: str) -> list[str]:
    return [text(k, lang) for k in ("crm id", "object", "created", "last dialogue", "months quiet")]


def _yes_no(value, lang: str) -> str:
    value = _none(value)
    if value is None:
        return text("no later export", lang)
    return text("yes" if value else "no", lang)


def _followup_rows(followup: pd.DataFrame, lang: str) -> list[list[str]]:
    return [[f.record_id, label(f.source, lang), fmt_date(f.first_flagged_on), fmt_date(f.next_export_at),
             _yes_no(f.is_gone_by_next_export, lang), _yes_no(f.is_gone_now, lang)]
            for f in followup.itertuples(index=False)]


def _followup_markdown(followup: pd.DataFrame, period: str, lang: str) -> str:
    if followup.empty:
        return text("followup none", lang, period=period)
    gone = followup["is_gone_by_next_export"]
    known = gone.notna()
    n_gone = int(gone[known].astype(bool).sum())
    parts = [text("followup intro", lang, period=period, n=fmt_int(len(followup), lang),
                  gone=fmt_int(n_gone, lang), present=fmt_int(int(known.sum()) - n_gone, lang),
                  unknown=fmt_int(int((~known).sum()), lang)),
             md_table(_followup_rows(followup, lang),
                      [text(k, lang) for k in ("crm id", "object", "first flagged", "next export", "gone by next",
                                               "gone now")], lang)]
    return "\n\n".join(parts)


def _notice_markdown(rules: pd.DataFrame, notices: pd.DataFrame, params: dict, lang: str, *,
                     with_intro: bool = True) -> str:
    parts = []
    if with_intro:
        parts.append(text("notice intro", lang, days=params["first_mailing_days"],
                          late=fmt_int(_count_of(rules, "notice.first_mailing_late"), lang),
                          missing=fmt_int(_count_of(rules, "notice.first_mailing_missing"), lang)))
    rows = [[f.record_id, label(f.source, lang), mask_email(f.email), translate_detail(f.detail, lang)]
            for f in notices.itertuples(index=False)]
    if rows:
        parts.append(md_table(rows, [text(k, lang) for k in ("crm id", "object", "address", "detail")], lang))
    return "\n\n".join(parts)


def _problems_markdown(problems: list[str], lang: str) -> str:
    if not problems:
        return ""
    return f"> **{text('problems heading', lang)}**\n>\n" + "\n".join(f"> - {p}" for p in problems)


def _exports_markdown(exports: pd.DataFrame, lang: str) -> str:
    rows = []
    for source, part in exports.groupby("source", sort=True):
        latest = part[part["is_latest"].astype(bool)]
        hashes = ", ".join(str(h)[:16] + "…" for h in latest["sha256"])
        rows.append([source, fmt_int(len(part), lang), fmt_time(latest["exported_at"].max()),
                     fmt_int(int(latest["rows"].sum()), lang), hashes])
    return md_table(rows, [text(k, lang) for k in ("source", "files", "latest export", "rows", "sha256")], lang,
                    limit=200, align=["l", "r", "l", "r", "l"])


def _provenance(*, lang: str, warehouse: str, build: dict | None, params: dict, check: dict | None,
                as_of: dt.date, run_id: str, exports: pd.DataFrame) -> str:
    parts = [f"## {text('provenance heading', lang)}"]
    lines = []
    if build:
        lines.append(text("prov warehouse", lang, file=md_escape(warehouse), built=fmt_date(params.get("as_of")),
                          build_id=build.get("run_id"), finished=fmt_time(build.get("finished_at")),
                          models=build.get("models"), version=build.get("insyn_version") or "–"))
    lines.append(text("prov run", lang, run_id=md_escape(run_id)) if run_id else text("prov no run", lang))
    if check:
        lines.append(text("prov check", lang, id=check["check_run_id"], as_of=as_of.isoformat(),
                          finished=fmt_time(check["finished_at"]), failed=check["failed"],
                          expectations=check["expectations"]))
    else:
        lines.append(text("prov no check", lang, as_of=as_of.isoformat()))
    if params.get("policy_sha256"):
        lines.append(text("prov policy", lang, sha=params["policy_sha256"]))
    parts.append("\n".join(f"- {line}" for line in lines))
    files = build.get("files_loaded") if build else len(exports)
    parts.append(text("prov exports", lang, files=fmt_int(files, lang)))
    parts.append(_exports_markdown(exports, lang))
    return "\n\n".join(parts)


def _check_sources(exports: pd.DataFrame, sources: Sequence[str], as_of: dt.date, lang: str) -> list[str]:
    have = set(exports["source"]) if len(exports) else set()
    return [text("problem no export", lang, source=s, as_of=as_of.isoformat()) for s in sources if s not in have]


def _common_problems(params: pd.DataFrame, as_of: dt.date, lang: str) -> tuple[dict, list[str]]:
    if len(params) != 1:
        return {}, [text("problem params", lang)]
    row = {k: _none(v) for k, v in params.iloc[0].to_dict().items()}
    built = _date(row["as_of"])
    row["as_of"] = built
    problems = []
    if built != as_of:
        problems.append(text("problem as_of", lang, built=built.isoformat(), as_of=as_of.isoformat()))
    return row, problems


# ---------------------------------------------------------------- the yearly audit report

@dataclass
class YearlyData:
    """Everything the yearly report shows, read once from the warehouse."""

    params: pd.DataFrame
    requests: pd.DataFrame               # received in the audited year (report_dsar_requests)
    previous_requests: pd.DataFrame      # received in the year before
    unreadable: pd.DataFrame             # register rows with unreadable date cells
    rules: pd.DataFrame                  # findings_by_rule at as-of
    findings: pd.DataFrame               # every finding at as-of (findings)
    deletions: pd.DataFrame              # deletion_list
    stale: pd.DataFrame                  # stale_contacts
    followup: pd.DataFrame               # report_retention_followup for the year's check runs
    weblog_files: pd.DataFrame
    subprocessors: pd.DataFrame
    exports: pd.DataFrame
    build: pd.DataFrame
    checks: pd.DataFrame


def load_yearly_data(con, queries, year: int, as_of: dt.date) -> YearlyData:
    q = Path(queries)
    return YearlyData(
        params=run_params(con, q),
        requests=dsar_requests(con, q, year),
        previous_requests=dsar_requests(con, q, year - 1),
        unreadable=query(con, q, "report_register_unreadable"),
        rules=findings_by_rule(con, q, as_of),
        findings=findings(con, q, as_of),
        deletions=query(con, q, "deletion_list"),
        stale=query(con, q, "stale_contacts"),
        followup=retention_followup(con, q, dt.date(year, 1, 1), min(as_of, dt.date(year, 12, 31))),
        weblog_files=query(con, q, "report_weblog_files"),
        subprocessors=query(con, q, "subprocessors"),
        exports=latest_exports(con, q),
        build=query(con, q, "report_build"),
        checks=query(con, q, "check_history"),
    )


@dataclass
class YearlyReport:
    """The yearly audit report for the external auditor: build it with `YearlyReport.load(...)`."""

    data: YearlyData
    year: int
    as_of: dt.date
    language: str
    warehouse: str = ""
    problems: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        check_language(self.language)
        self.params, problems = _common_problems(self.data.params, self.as_of, self.language)
        if self.as_of < dt.date(self.year, 1, 1):
            problems.append(text("problem before year", self.language, as_of=self.as_of.isoformat(), year=self.year))
        problems += _check_sources(self.data.exports, ("register.requests", "salesforce.contact"), self.as_of,
                                   self.language)
        self.problems = problems + [p for p in self.problems if p not in problems]

    @classmethod
    def load(cls, warehouse: str, queries: str, year: int, as_of: str, language: str) -> "YearlyReport":
        """Read what the report needs from the warehouse (opened read-only, closed again)."""
        check_language(language)
        as_of_date = _date(as_of)
        con = open_warehouse(warehouse)
        try:
            data = load_yearly_data(con, queries, int(year), as_of_date)
        finally:
            con.close()
        return cls(data=data, year=int(year), as_of=as_of_date, language=language, warehouse=str(warehouse))

    # -- state

    @property
    def ok(self) -> bool:
        """True when the data can be relied on (the notebook's last cell asserts it)."""
        return not self.problems

    @property
    def lang(self) -> str:
        return self.language

    def stats(self) -> dict:
        return request_year_stats(self.data.requests)

    def previous_stats(self) -> dict:
        return request_year_stats(self.data.previous_requests)

    # -- sections

    def title_markdown(self) -> str:
        lang = self.lang
        lines = [f"# {text('yearly title', lang, year=self.year)}", "",
                 text("as of line", lang, as_of=self.as_of.isoformat(), year=self.year, prev=self.year - 1)]
        if self.as_of < dt.date(self.year, 12, 31) and self.as_of >= dt.date(self.year, 1, 1):
            lines += ["", text("partial year", lang, as_of=self.as_of.isoformat(), year=self.year)]
        lines += ["", text("language line", lang)]
        problems = _problems_markdown(self.problems, lang)
        if problems:
            lines += ["", problems]
        return "\n".join(lines)

    def summary_table(self) -> pd.DataFrame:
        """The year against the previous year, one row per measure, formatted for the language."""
        lang, p = self.lang, self.params
        cur, prev = self.stats(), self.previous_stats()
        target = p.get("dsar_policy_target_days")

        def judged(s, key):
            return s[f"{key}_met"], s[f"{key}_met"] + s[f"{key}_missed"]

        def ext(s):
            return f"{fmt_int(s['extensions'], lang)} ({fmt_int(s['valid_extensions'], lang)})"

        measures = [
            (text("requests received", lang), fmt_int(cur["received"], lang), fmt_int(prev["received"], lang)),
            (text("closed requests", lang), fmt_int(cur["closed"], lang), fmt_int(prev["closed"], lang)),
            (text("open at", lang, as_of=self.as_of.isoformat()), fmt_int(cur["open"], lang),
             fmt_int(prev["open"], lang)),
            (text("legal met", lang), fmt_pct(*judged(cur, "deadline"), lang), fmt_pct(*judged(prev, "deadline"), lang)),
            (text("legal missed", lang), fmt_int(cur["deadline_missed"], lang), fmt_int(prev["deadline_missed"], lang)),
            (text("legal pending", lang), fmt_int(cur["deadline_pending"], lang),
             fmt_int(prev["deadline_pending"], lang)),
            (text("policy met", lang, days=target), fmt_pct(*judged(cur, "policy"), lang),
             fmt_pct(*judged(prev, "policy"), lang)),
            (text("median days", lang), fmt_num(cur["median_days"], lang), fmt_num(prev["median_days"], lang)),
            (text("p90 days", lang), fmt_num(cur["p90_days"], lang), fmt_num(prev["p90_days"], lang)),
            (text("extensions", lang), ext(cur), ext(prev)),
        ]
        return pd.DataFrame(measures, columns=[text("measure", lang), str(self.year), str(self.year - 1)])

    def summary_markdown(self) -> str:
        lang, p = self.lang, self.params
        table = self.summary_table()
        parts = [f"## {text('summary', lang)}",
                 md_table(table.values.tolist(), list(table.columns), lang, align=["l", "r", "r"]),
                 text("deadline explained", lang,
                      legal=months_text(int(p.get("dsar_legal_deadline_months") or 0), lang),
                      extended=months_text(int(p.get("dsar_extended_deadline_months") or 0), lang),
                      target=p.get("dsar_policy_target_days"), as_of=self.as_of.isoformat())]
        if len(self.data.unreadable):
            ids = ", ".join(md_escape(i) for i in self.data.unreadable["request_id"])
            parts.append(text("unreadable dates", lang, n=len(self.data.unreadable), ids=ids))
        rules = self.data.rules
        with_findings = rules[rules["findings"] > 0]
        if with_findings.empty:
            parts.append(text("no findings", lang, as_of=self.as_of.isoformat()))
        else:
            per = with_findings.groupby("severity")["findings"].sum()
            parts.append(text("findings summary", lang, as_of=self.as_of.isoformat(),
                              rules=len(with_findings), all=len(rules),
                              total=fmt_int(int(with_findings["findings"].sum()), lang),
                              **{s: fmt_int(int(per.get(s, 0)), lang) for s in SEVERITIES}))
            title = "title_sv" if lang == "sv" else "title_en"
            rows = [[text(r.severity, lang), getattr(r, title), fmt_int(r.findings, lang)]
                    for r in with_findings.itertuples(index=False)]
            parts.append(md_table(rows, [text("severity", lang), text("rules with findings", lang),
                                         text("findings", lang)], lang, align=["l", "l", "r"]))
        return "\n\n".join(parts)

    def requests_by_type_and_month(self) -> pd.DataFrame:
        """Requests of the year per month (1-12) and type, with a total column."""
        return requests_by_type_and_month(self.data.requests)

    def requests_section(self) -> str:
        lang = self.lang
        table = self.requests_by_type_and_month()
        parts = [f"## {text('requests heading', lang)}"]
        if self.data.requests.empty:
            parts.append(text("no requests", lang, year=self.year))
            return "\n\n".join(parts)
        parts.append(text("requests intro", lang, year=self.year, n=fmt_int(len(self.data.requests), lang),
                          prev=self.year - 1, prev_n=fmt_int(len(self.data.previous_requests), lang)))
        header = [text("month", lang)] + [label(c, lang) if c != "total" else text("total", lang)
                                          for c in table.columns]
        rows = [[month_name(m, lang)] + [fmt_int(v, lang) for v in row] for m, row in zip(table.index, table.values)]
        rows.append([text("total", lang)] + [fmt_int(v, lang) for v in table.sum(axis=0)])
        parts.append(md_table(rows, header, lang, align=["l"] + ["r"] * len(table.columns)))
        return "\n\n".join(parts)

    def figure_requests_by_month(self) -> go.Figure:
        return figure_requests_by_month(self.requests_by_type_and_month(), self.year, self.lang)

    def _status(self, status: str, is_open: bool) -> str:
        if status == "missed":
            return text("status missed open" if is_open else "status missed", self.lang)
        return text(f"status {status}", self.lang)

    def deadline_table(self) -> pd.DataFrame:
        """The year's requests, one row each: received, the legal deadline before and after moving it to a
        working day, the extension and extended deadline (when one was told), closed, days and the judgement
        against the legal deadline and the policy's target. Columns named, values written in the language."""
        lang = self.lang
        rows = []
        for r in self.data.requests.itertuples(index=False):
            told = _none(r.extension_notified_on)
            extension = "–" if told is None else text(
                "extension valid" if r.has_valid_extension else "extension late", lang, date=fmt_date(told))
            rows.append([r.request_id, label(r.request_type, lang), fmt_date(r.received_on),
                         fmt_date(r.legal_due_unrolled_on), fmt_date(r.legal_due_on), extension,
                         fmt_date(r.extended_due_unrolled_on) if told is not None else "–",
                         fmt_date(r.extended_due_on) if told is not None else "–", fmt_date(r.closed_on),
                         int(r.days_elapsed), self._status(r.deadline_status, r.is_open),
                         self._status(r.policy_status, r.is_open)])
        header = [text(k, lang) for k in ("request id", "type", "received", "legal unrolled", "legal rolled",
                                          "extension told", "extended unrolled", "extended deadline", "closed",
                                          "days", "deadline")]
        header.append(text("policy status", lang, days=self.params.get("dsar_policy_target_days")))
        return pd.DataFrame(rows, columns=header)

    def deadline_section(self) -> str:
        """The deadline table, compact enough for an A4 page: the deadline that applied in one column (marked
        when moved to a working day or extended), the moves and extensions spelled out below the table."""
        lang = self.lang
        s = self.stats()
        parts = [f"## {text('deadlines heading', lang)}"]
        if self.data.requests.empty:
            parts.append(text("no requests", lang, year=self.year))
            return "\n\n".join(parts)
        parts.append(text("deadlines intro", lang, year=self.year, missed=fmt_int(s["deadline_missed"], lang),
                          pending=fmt_int(s["deadline_pending"], lang)))
        rows, notes = [], []
        for r in self.data.requests.itertuples(index=False):
            due = fmt_date(r.applicable_due_on)
            marks = []
            if r.has_valid_extension:
                marks.append(text("mark extended", lang))
                notes.append(text("note extended", lang, id=r.request_id, told=fmt_date(r.extension_notified_on),
                                  legal=fmt_date(r.legal_due_on), due=fmt_date(r.extended_due_on)))
            elif _none(r.extension_notified_on) is not None:
                notes.append(text("note extension late", lang, id=r.request_id,
                                  told=fmt_date(r.extension_notified_on), legal=fmt_date(r.legal_due_on)))
            unrolled = r.extended_due_unrolled_on if r.has_valid_extension else r.legal_due_unrolled_on
            if fmt_date(unrolled) != due:
                marks.append(text("mark moved", lang))
                notes.append(text("note moved", lang, id=r.request_id, unrolled=fmt_date(unrolled), due=due))
            if marks:
                due = f"{due} ({', '.join(marks)})"
            rows.append([r.request_id, label(r.request_type, lang), fmt_date(r.received_on), due,
                         fmt_date(r.closed_on), fmt_int(r.days_elapsed, lang),
                         self._status(r.deadline_status, r.is_open)])
        header = [text(k, lang) for k in ("request id", "type", "received", "deadline applied", "closed", "days",
                                          "deadline")]
        parts.append(md_table(rows, header, lang, limit=200, align=["l", "l", "l", "l", "l", "r", "l"]))
        late = self.data.requests[self.data.requests["policy_status"] == "missed"]["request_id"]
        notes.append(text("note policy", lang, days=self.params.get("dsar_policy_target_days"),
                          ids=", ".join(late) if len(late) else text("none", lang)))
        parts.append("\n".join(f"- {md_escape(n)}" for n in notes))
        return "\n\n".join(parts)

    def retention_section(self) -> str:
        lang, p = self.lang, self.params
        n = _count_of(self.data.rules, RETENTION_RULE)
        parts = [f"## {text('retention heading', lang)}",
                 text("retention intro", lang, months=p.get("retention_inactive_months"), as_of=self.as_of.isoformat(),
                      n=fmt_int(n, lang), rule=RETENTION_RULE)]
        rows = _deletion_rows(self.data.deletions, self.data.stale, lang)
        if rows:
            parts.append(md_table(rows, _deletion_header(lang), lang, align=["l", "l", "l", "l", "r"]))
        parts.append(_followup_markdown(self.data.followup, text("period year", lang, year=self.year), lang))
        return "\n\n".join(parts)

    def _rule_findings(self, *rules: str) -> pd.DataFrame:
        f = self.data.findings
        return f[f["rule"].isin(rules)]

    def optout_section(self) -> str:
        lang = self.lang
        rules = self.data.rules
        parts = [f"## {text('optout heading', lang)}",
                 text("optout intro", lang, after=fmt_int(_count_of(rules, "optout.marketing_after_optout"), lang),
                      sync=fmt_int(_count_of(rules, "optout.not_synced"), lang))]
        optouts = self._rule_findings("optout.marketing_after_optout", "optout.not_synced")
        rows = [[f.rule, mask_email(f.record_id), f.source, translate_detail(f.detail, lang)]
                for f in optouts.itertuples(index=False)]
        if rows:
            parts.append(md_table(rows, [text(k, lang) for k in ("rule", "address", "source", "detail")], lang))
        parts.append(_notice_markdown(rules, self._rule_findings("notice.first_mailing_late",
                                                                 "notice.first_mailing_missing"), self.params, lang))
        return "\n\n".join(parts)

    def weblog_section(self) -> str:
        lang, p = self.lang, self.params
        files = self.data.weblog_files
        parts = [f"## {text('weblog heading', lang)}"]
        if files.empty:
            parts.append(text("no weblogs", lang))
            return "\n\n".join(parts)
        past = self._rule_findings("weblog.retention_exceeded")
        email = self._rule_findings("weblog.personal_data_in_url")
        parts.append(text("weblog intro", lang, months=p.get("weblog_retention_months"),
                          horizon=fmt_time(p.get("weblog_horizon_at")).replace(" UTC", ""),
                          lines=fmt_int(int(files["lines"].sum()), lang), files=fmt_int(len(files), lang),
                          past=fmt_int(int(past["count"].sum()), lang), past_days=fmt_int(len(past), lang),
                          email=fmt_int(int(email["count"].sum()), lang), email_days=fmt_int(len(email), lang)))
        rows = [[f.file, fmt_int(f.lines, lang), fmt_date(f.first_on), fmt_date(f.last_on),
                 fmt_int(f.lines_past_horizon, lang), fmt_int(f.lines_with_email, lang)]
                for f in files.itertuples(index=False)]
        parts.append(md_table(rows, [text(k, lang) for k in ("file", "lines", "first day", "last day",
                                                             "past horizon", "with email")], lang,
                              align=["l", "r", "l", "l", "r", "r"]))
        return "\n\n".join(parts)

    def transfers_table(self) -> pd.DataFrame:
        lang = self.lang
        rows = []
        for s in self.data.subprocessors.itertuples(index=False):
            if s.is_in_eea:
                judgement = text("valid", lang) + " (" + text("in EEA", lang) + ")"
            elif s.has_country_adequacy:
                judgement = text("valid", lang) + " (" + text("adequate country", lang) + ")"
            elif s.is_transfer_valid:
                judgement = text("valid", lang)
            else:
                judgement = text("invalid", lang, reason=translate_detail(s.invalid_reason, lang))
            rows.append([s.subprocessor_name, s.country_iso2, _none(s.processing_role) or "–",
                         label(s.transfer_mechanism, lang), fmt_date(s.dpf_certified_until), fmt_date(s.tia_on),
                         fmt_date(s.dpa_on), judgement])
        return pd.DataFrame(rows, columns=[text(k, lang) for k in (
            "sub-processor", "country", "role", "mechanism", "DPF until", "TIA", "DPA", "judgement")])

    def transfers_section(self) -> str:
        lang = self.lang
        subs = self.data.subprocessors
        parts = [f"## {text('transfers heading', lang)}"]
        if subs.empty:
            parts.append(text("no subprocessors", lang))
            return "\n\n".join(parts)
        outside = int((~subs["is_in_eea"].astype(bool)).sum())
        invalid = int((~subs["is_transfer_valid"].astype(bool)).sum())
        parts.append(text("transfers intro", lang, as_of=self.as_of.isoformat(), n=fmt_int(len(subs), lang),
                          outside=fmt_int(outside, lang), invalid=fmt_int(invalid, lang)))
        rows = []
        for s, judgement in zip(subs.itertuples(index=False), self.transfers_table()[text("judgement", lang)]):
            basis = label(s.transfer_mechanism, lang)
            evidence = [f"{text(k, lang)} {fmt_date(v)}" for k, v in (("DPF until", s.dpf_certified_until),
                                                                       ("TIA", s.tia_on)) if _none(v) is not None]
            if evidence:
                basis += " (" + ", ".join(evidence) + ")"
            rows.append([s.subprocessor_name, s.country_iso2, _none(s.processing_role) or "–", basis, judgement])
        parts.append(md_table(rows, [text(k, lang) for k in ("sub-processor", "country", "role", "mechanism",
                                                             "judgement")], lang, limit=200))
        return "\n\n".join(parts)

    def policy_text_section(self) -> str:
        lang, p = self.lang, self.params
        parts = [f"## {text('policy heading', lang)}"]
        if not p.get("policy_text_found"):
            parts.append(text("policy missing", lang))
        overdue = _count_of(self.data.rules, "policy.review_overdue")
        outdated = self._rule_findings("policy.outdated_reference")
        parts.append(text("policy intro", lang, reviewed=fmt_date(p.get("policy_last_reviewed_on")),
                          months=p.get("policy_review_interval_months"),
                          overdue=text("overdue yes" if overdue else "overdue no", lang),
                          outdated=fmt_int(len(outdated), lang)))
        found = self._rule_findings("policy.outdated_reference", "policy.review_overdue")
        rows = [[f.rule, f.record_id, translate_detail(f.detail, lang), fmt_int(n, lang)]
                for f, n in zip(found.itertuples(index=False), found["count"])]
        if rows:
            parts.append(md_table(rows, [text(k, lang) for k in ("rule", "where", "detail", "occurrences")], lang,
                                  align=["l", "l", "l", "r"]))
        if p.get("policy_sha256"):
            parts.append(text("policy hash", lang, sha=p["policy_sha256"]))
        return "\n\n".join(parts)

    def findings_table(self) -> pd.DataFrame:
        """Every rule: id, title in the language, severity, legal reference, findings and items at as-of."""
        lang = self.lang
        r = self.data.rules
        title = "title_sv" if lang == "sv" else "title_en"
        return pd.DataFrame({
            text("rule id", lang): r["rule"],
            text("title", lang): r[title],
            text("severity", lang): [text(s, lang) if s in SEVERITIES else s for s in r["severity"]],
            text("legal reference", lang): r["legal_reference"],
            text("findings", lang): r["findings"].astype("int64"),
            text("items", lang): r["items"].astype("int64"),
        })

    def findings_section(self) -> str:
        lang = self.lang
        table = self.findings_table()
        rows = [[row[1], row[0], row[2], row[3], fmt_int(row[4], lang) + (
                 f" ({fmt_int(row[5], lang)})" if row[5] != row[4] else "")]
                for row in table.itertuples(index=False)]
        header = [table.columns[1], table.columns[0], table.columns[2], table.columns[3], table.columns[4]]
        return "\n\n".join([f"## {text('findings heading', lang)}",
                            text("findings intro", lang, as_of=self.as_of.isoformat()),
                            md_table(rows, header, lang, limit=200, align=["l", "l", "l", "l", "r"])])

    def figure_findings_by_rule(self) -> go.Figure:
        return figure_findings_by_rule(self.data.rules, self.as_of, self.lang)

    def provenance_markdown(self, run_id: str = "") -> str:
        build = self.data.build.iloc[0].to_dict() if len(self.data.build) else None
        return _provenance(lang=self.lang, warehouse=self.warehouse, build=build, params=self.params,
                           check=_latest_check(self.data.checks, self.as_of), as_of=self.as_of, run_id=run_id,
                           exports=self.data.exports)


# ---------------------------------------------------------------- the monthly retention review

@dataclass
class RetentionData:
    params: pd.DataFrame
    rules: pd.DataFrame
    findings: pd.DataFrame
    deletions: pd.DataFrame
    stale: pd.DataFrame
    coming_due: pd.DataFrame             # coming_due within the longest horizon
    followup: pd.DataFrame               # flagged at check runs before as-of
    exports: pd.DataFrame
    build: pd.DataFrame
    checks: pd.DataFrame


COMING_DUE_DAYS = (30, 60, 90)


def load_retention_data(con, queries, as_of: dt.date) -> RetentionData:
    q = Path(queries)
    return RetentionData(
        params=run_params(con, q),
        rules=findings_by_rule(con, q, as_of),
        findings=findings(con, q, as_of),
        deletions=query(con, q, "deletion_list"),
        stale=query(con, q, "stale_contacts"),
        coming_due=query(con, q, "coming_due", days=max(COMING_DUE_DAYS)),
        followup=retention_followup(con, q, None, as_of - dt.timedelta(days=1)),
        exports=latest_exports(con, q),
        build=query(con, q, "report_build"),
        checks=query(con, q, "check_history"),
    )


def _month(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"review_month must be YYYY-MM, not {value!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass
class RetentionReview:
    """The DPO's monthly retention review: build it with `RetentionReview.load(...)`."""

    data: RetentionData
    review_month: str
    as_of: dt.date
    language: str
    warehouse: str = ""
    problems: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        check_language(self.language)
        year, month = _month(self.review_month)
        self.params, problems = _common_problems(self.data.params, self.as_of, self.language)
        if self.as_of < dt.date(year, month, 1):
            problems.append(text("problem month", self.language, as_of=self.as_of.isoformat(),
                                 month=self.review_month))
        problems += _check_sources(self.data.exports, ("salesforce.contact",), self.as_of, self.language)
        self.problems = problems + [p for p in self.problems if p not in problems]

    @classmethod
    def load(cls, warehouse: str, queries: str, review_month: str, as_of: str, language: str) -> "RetentionReview":
        check_language(language)
        _month(review_month)
        as_of_date = _date(as_of)
        con = open_warehouse(warehouse)
        try:
            data = load_retention_data(con, queries, as_of_date)
        finally:
            con.close()
        return cls(data=data, review_month=review_month, as_of=as_of_date, language=language,
                   warehouse=str(warehouse))

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def lang(self) -> str:
        return self.language

    def _month_text(self) -> str:
        year, month = _month(self.review_month)
        return f"{month_name(month, self.lang)} {year}"

    def title_markdown(self) -> str:
        lang = self.lang
        lines = [f"# {text('monthly title', lang, month=self._month_text())}", "",
                 text("monthly as of line", lang, as_of=self.as_of.isoformat(), month=self._month_text()), "",
                 text("language line", lang)]
        problems = _problems_markdown(self.problems, lang)
        if problems:
            lines += ["", problems]
        return "\n".join(lines)

    def due_now(self) -> pd.DataFrame:
        """The deletion list at as-of (deletion_list: CRM id, object, e-mail, created, detail)."""
        return self.data.deletions

    def due_now_section(self) -> str:
        lang = self.lang
        n = _count_of(self.data.rules, RETENTION_RULE)
        parts = [f"## {text('due now heading', lang)}",
                 text("due now intro", lang, months=self.params.get("retention_inactive_months"),
                      as_of=self.as_of.isoformat(), rule=RETENTION_RULE, n=fmt_int(n, lang))]
        rows = _deletion_rows(self.data.deletions, self.data.stale, lang)
        if rows:
            parts.append(md_table(rows, _deletion_header(lang), lang, limit=500, align=["l", "l", "l", "l", "r"]))
        return "\n\n".join(parts)

    def coming_due_counts(self) -> dict[int, int]:
        """Records coming due within 30, 60 and 90 days of as-of (cumulative)."""
        days = self.data.coming_due["days_left"]
        return {n: int((days <= n).sum()) for n in COMING_DUE_DAYS}

    def coming_due_section(self) -> str:
        lang = self.lang
        counts = self.coming_due_counts()
        parts = [f"## {text('coming due heading', lang)}",
                 text("coming due intro", lang, as_of=self.as_of.isoformat(),
                      **{f"n{n}": fmt_int(c, lang) for n, c in counts.items()})]
        rows = []
        for c in self.data.coming_due.itertuples(index=False):
            bucket = next(n for n in COMING_DUE_DAYS if c.days_left <= n)
            rows.append([c.record_id, label(c.source, lang), fmt_date(c.created_on),
                         fmt_date(c.last_dialogue_on) if _none(c.last_dialogue_on) is not None
                         else text("none recorded", lang),
                         fmt_date(c.due_on), fmt_int(c.days_left, lang), text("within days", lang, n=bucket)])
        if rows:
            parts.append(md_table(rows, [text(k, lang) for k in ("crm id", "object", "created", "last dialogue",
                                                                 "due on", "days left", "within")], lang,
                                  limit=500, align=["l", "l", "l", "l", "l", "r", "l"]))
        return "\n\n".join(parts)

    def figure_months_quiet(self) -> go.Figure:
        return figure_months_quiet(self.data.stale, int(self.params.get("retention_inactive_months") or 0), self.lang)

    def flagged_earlier_section(self) -> str:
        lang = self.lang
        return "\n\n".join([f"## {text('flagged earlier heading', lang)}",
                            _followup_markdown(self.data.followup,
                                               text("period before", lang, as_of=self.as_of.isoformat()), lang)])

    def first_notice_section(self) -> str:
        lang = self.lang
        f = self.data.findings
        notices = f[f["rule"].isin(("notice.first_mailing_late", "notice.first_mailing_missing"))]
        return "\n\n".join([f"## {text('first notice heading', lang)}",
                            _notice_markdown(self.data.rules, notices, self.params, lang)])

    def provenance_markdown(self, run_id: str = "") -> str:
        build = self.data.build.iloc[0].to_dict() if len(self.data.build) else None
        return _provenance(lang=self.lang, warehouse=self.warehouse, build=build, params=self.params,
                           check=_latest_check(self.data.checks, self.as_of), as_of=self.as_of, run_id=run_id,
                           exports=self.data.exports)


# ---------------------------------------------------------------- notebook set-up

def setup_notebook() -> None:
    """Figures embedded with plotly.js once (offline; the default renderer under papermill drops them),
    and pandas display options for tables."""
    import plotly.io as pio

    pio.renderers["notebook"].config = {"displayModeBar": False, "displaylogo": False}  # a report, not a tool
    pio.renderers.default = "notebook"
    pd.set_option("display.max_rows", MAX_TABLE_ROWS)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.width", 160)
