"""The same work as Insyn for three rules, written the way a careful analyst would in pandas.

    python benchmarks/pandas_baseline.py EXPORTS_DIR [EXPORTS_DIR ...] [--as-of 2026-11-24]
        [--policy policy.toml] [--compare FINDINGS.json]

Rules: retention.inactive_company_initiated, optout.marketing_after_optout and
dsar.legal_deadline_missed, with the semantics of their SQL (pipelines/rules,
marts and staging) and every number, list and holiday from the policy file
through Insyn's own config loader. Files are read with pandas' fastest readers
(`read_csv(engine="pyarrow", dtype_backend="pyarrow")`, `read_json(lines=True,
engine="pyarrow")`), only the columns the rules need. Two real shapes defeat them,
and the code falls back where they do: a quoted value with a line break in a large
CSV (read by pyarrow itself, told to expect them), and SendGrid's "category", a
string in some events and a list in others (read by pandas' own JSON parser).

It finds the exports the way `insyn load` stamps them: a file's export date is
its nearest enclosing YYYY-MM-DD folder, snapshot sources are judged on their
latest export on or before as-of, and every e-mail event file counts (events
are history, deduplicated by sg_event_id). It keeps nothing between runs: each
run lists every export in the folders it is given (an analyst's weekly script
over all the weeks so far), reads the latest snapshot of each source and every
event file again. It knows the exports by their file names (the generator's and
the sample's), where Insyn reads their headers.

`compare(baseline, insyn_rows)` lists the differences from Insyn's findings
(`insyn findings --format json`, or rows of the rule tables); empty when equal.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import re
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from insyn.config import WEEKDAYS, Policy  # noqa: E402
from insyn.dates import add_months  # noqa: E402
from insyn.text import WHITESPACE  # noqa: E402  (the shared definition of "trim")

RULES = ("retention.inactive_company_initiated", "optout.marketing_after_optout", "dsar.legal_deadline_missed")
COLUMNS = ["rule", "record_id", "email", "source", "detail"]
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---------------------------------------------------------------- finding the exports


def export_files(*exports_dirs: Path) -> pd.DataFrame:
    """Every file of the folders with its kind (from its name) and export date (its nearest YYYY-MM-DD folder)."""
    rows = []
    for path in sorted(p for folder in exports_dirs for p in Path(folder).rglob("*") if p.is_file()):
        dated = [part for part in path.parent.parts if _DATE_DIR.match(part)]
        if dated:
            rows.append((path, kind_of(path.name), dt.date.fromisoformat(dated[-1])))
    return pd.DataFrame(rows, columns=["path", "kind", "exported_on"])


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".jsonl"):
        return "esp.events"
    if "unsubscribed" in lower:
        return "mailchimp.unsubscribed"
    if "dpo-register" in lower and lower.endswith(".csv"):
        return "register.requests"
    salesforce = {"contact.csv": "contact", "lead.csv": "lead", "task.csv": "task", "event.csv": "event",
                  "opportunity.csv": "opportunity", "opportunitycontactrole.csv": "opportunitycontactrole",
                  "contacthistory.csv": "contacthistory"}
    return f"salesforce.{salesforce[lower]}" if lower in salesforce else None


def latest(files: pd.DataFrame, kind: str, as_of: dt.date) -> tuple[list[Path], dt.date]:
    """The files of a snapshot source's latest export on or before as-of, and its date (none: as-of)."""
    mine = files[(files.kind == kind) & (files.exported_on <= as_of)]
    if mine.empty:
        return [], as_of
    day = mine.exported_on.max()
    return list(mine[mine.exported_on == day].path), day


def read_csv(paths: list[Path], wanted: list[str], sep: str = ",", encoding: str = "utf-8") -> pd.DataFrame:
    """The wanted columns (matched case-insensitively, absent ones NULL) of CSV files, as text."""
    frames = []
    for path in paths:
        source = path if encoding == "utf-8" else io.BytesIO(path.read_bytes().decode(encoding).encode("utf-8"))
        header = pd.read_csv(source, sep=sep, nrows=0).columns  # pyarrow reads UTF-8 only
        by_key = {c.lstrip("\ufeff").strip().lower(): c for c in header}
        present = [by_key[w.lower()] for w in wanted if w.lower() in by_key]
        if isinstance(source, io.BytesIO):
            source.seek(0)
        try:
            df = pd.read_csv(source, sep=sep, engine="pyarrow", dtype_backend="pyarrow", dtype=str,
                             usecols=present, keep_default_na=False, na_values=[])
        except pd.errors.ParserError:
            # A quoted value with a line break (a multi-line Description) breaks pandas' pyarrow engine
            # once the file spans several blocks; pyarrow itself reads it when told to expect them.
            if isinstance(source, io.BytesIO):
                source.seek(0)
            df = pa_csv.read_csv(
                source, parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(include_columns=present,
                                                      column_types={c: pa.string() for c in present}),
            ).to_pandas(types_mapper=pd.ArrowDtype)
        df.columns = [c.lstrip("\ufeff").strip().lower() for c in df.columns]
        for w in wanted:
            if w.lower() not in df.columns:
                df[w.lower()] = pd.Series(pd.NA, index=df.index, dtype=pd.ArrowDtype(pa.string()))
        frames.append(df[[w.lower() for w in wanted]])
    if not frames:
        return pd.DataFrame({w.lower(): pd.Series(dtype=pd.ArrowDtype(pa.string())) for w in wanted})
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- staging's normalisation


def trim(s: pd.Series) -> pd.Series:
    return s.str.strip(WHITESPACE)


def blank_to_null(s: pd.Series) -> pd.Series:
    t = trim(s)
    return t.mask(t == "")


def email_key(s: pd.Series) -> pd.Series:
    return blank_to_null(s).str.lower()


def sfid15(s: pd.Series) -> pd.Series:
    return blank_to_null(s).str[:15]


def is_true(s: pd.Series) -> pd.Series:
    """Staging's coalesce(to_bool(s), false): true/1/yes/y, after trimming and lower-casing."""
    return trim(s).str.lower().isin(["true", "1", "yes", "y"]).fillna(False).astype(bool)


def to_date(s: pd.Series) -> pd.Series:
    """A date cell (or an ISO date-time's date); NaT when unreadable."""
    return pd.to_datetime(trim(s).str[:10], format="%Y-%m-%d", errors="coerce").dt.normalize()


def to_utc(s: pd.Series) -> pd.Series:
    """An ISO date-time as naive UTC, as the loader stores it (no offset means UTC)."""
    return pd.to_datetime(trim(s), format="ISO8601", utc=True, errors="coerce").dt.tz_localize(None)


def utc_date(s: pd.Series) -> pd.Series:
    return s.dt.normalize()


def squish(s: pd.Series) -> pd.Series:
    return trim(s.str.replace(f"[{re.escape(WHITESPACE)}]+", " ", regex=True)).str.lower()


def ts(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


# ---------------------------------------------------------------- the CRM population


def crm_records(files: pd.DataFrame, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    """dim_crm_records: non-deleted Contacts and non-deleted, non-converted Leads of the latest exports."""
    classes = {v.lower(): origin for origin, values in policy.lead_source_classes.items()
               for v in squish(pd.Series(values, dtype="string")).tolist()}
    frames = []
    for source, extra in (("salesforce.contact", []), ("salesforce.lead", ["IsConverted"])):
        paths, _ = latest(files, source, as_of)
        df = read_csv(paths, ["Id", "IsDeleted", "Email", "LeadSource", "CreatedDate", "HasOptedOutOfEmail", *extra])
        keep = ~is_true(df.isdeleted)
        if extra:
            keep &= ~is_true(df.isconverted)
        df = df[keep]
        frames.append(pd.DataFrame({
            "source": source,
            "record_id": trim(df.id),
            "record_key": sfid15(df.id),
            "email_key": email_key(df.email),
            "contact_origin": squish(df.leadsource).map(classes).fillna("unclassified"),
            "created_on": utc_date(to_utc(df.createddate)),
            "has_opted_out_of_email": is_true(df.hasoptedoutofemail),
        }))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- retention.inactive_company_initiated


def dialogue_evidence(files: pd.DataFrame, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    """fct_dialogue_evidence: (record_key, activity_on) of closed non-mass tasks, meetings and
    opportunities (through contact roles), none dated after its export day."""
    parts = []
    paths, day = latest(files, "salesforce.task", as_of)
    t = read_csv(paths, ["WhoId", "ActivityDate", "IsClosed", "IsDeleted", "TaskSubtype"])
    subtype = blank_to_null(t.tasksubtype).fillna("")
    t = pd.DataFrame({"record_key": sfid15(t.whoid), "activity_on": to_date(t.activitydate)})[
        is_true(t.isclosed) & ~is_true(t.isdeleted) & ~subtype.isin(policy.non_dialogue_task_subtypes)]
    parts.append(t[t.activity_on <= ts(day)])

    paths, day = latest(files, "salesforce.event", as_of)
    e = read_csv(paths, ["WhoId", "ActivityDate", "ActivityDateTime", "StartDateTime", "IsDeleted"])
    activity = to_date(e.activitydate).fillna(utc_date(to_utc(e.activitydatetime))) \
                                      .fillna(utc_date(to_utc(e.startdatetime)))
    e = pd.DataFrame({"record_key": sfid15(e.whoid), "activity_on": activity})[~is_true(e.isdeleted)]
    parts.append(e[e.activity_on <= ts(day)])

    paths, _ = latest(files, "salesforce.opportunitycontactrole", as_of)
    r = read_csv(paths, ["OpportunityId", "ContactId", "IsDeleted"])
    roles = pd.DataFrame({"opportunity_key": sfid15(r.opportunityid), "record_key": sfid15(r.contactid)})[
        ~is_true(r.isdeleted)]
    paths, day = latest(files, "salesforce.opportunity", as_of)
    o = read_csv(paths, ["Id", "IsDeleted", "IsClosed", "CloseDate", "CreatedDate", "LastActivityDate"])
    o = o[~is_true(o.isdeleted)]
    closed = is_true(o.isclosed)
    key = sfid15(o.id)
    dates = pd.concat([
        pd.DataFrame({"opportunity_key": key, "activity_on": to_date(o.lastactivitydate)}),
        pd.DataFrame({"opportunity_key": key, "activity_on": utc_date(to_utc(o.createddate))}),
        pd.DataFrame({"opportunity_key": key[closed], "activity_on": to_date(o.closedate[closed])}),
    ])
    dates = dates[dates.activity_on <= ts(day)]
    parts.append(roles.merge(dates, on="opportunity_key")[["record_key", "activity_on"]])
    evidence = pd.concat(parts, ignore_index=True)
    return evidence.dropna(subset=["record_key", "activity_on"])


def retention(files: pd.DataFrame, records: pd.DataFrame, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    window_start = ts(add_months(as_of, -policy.retention_inactive_months))
    company = records[records.contact_origin == "company_initiated"]
    if company.empty:
        return pd.DataFrame(columns=COLUMNS)
    evidence = dialogue_evidence(files, as_of, policy)
    evidence = evidence[evidence.record_key.isin(company.record_key)]
    evidence = evidence[evidence.activity_on <= ts(as_of)]
    last = evidence.groupby("record_key").activity_on.max().rename("last_dialogue_on")
    in_window = set(evidence[evidence.activity_on >= window_start].record_key)
    found = company[(company.created_on < window_start) & ~company.record_key.isin(in_window)]
    found = found.join(last, on="record_key")
    detail = ("no dialogue since " + found.last_dialogue_on.dt.strftime("%Y-%m-%d")).fillna(
        "no dialogue recorded; created " + found.created_on.dt.strftime("%Y-%m-%d"))
    return pd.DataFrame({"rule": RULES[0], "record_id": found.record_id, "email": found.email_key,
                         "source": found.source, "detail": detail})


# ---------------------------------------------------------------- optout.marketing_after_optout


def read_events(files: pd.DataFrame) -> pd.DataFrame:
    """Every e-mail event once per sg_event_id (the first file and line that hold it)."""
    frames = []
    for path in files[files.kind == "esp.events"].path:
        try:
            df = pd.read_json(path, lines=True, engine="pyarrow", dtype_backend="pyarrow")
        except pa.ArrowInvalid:
            # SendGrid's "category" is a string in some events and a list in others; pyarrow's
            # JSON reader refuses a column that changes type, so such files take pandas' own parser.
            df = pd.read_json(path, lines=True, dtype=False, dtype_backend="pyarrow")
        for column in ("email", "timestamp", "event", "sg_event_id", "category"):
            if column not in df.columns:
                df[column] = None
        frames.append(df[["email", "timestamp", "event", "sg_event_id", "category"]])
    events = pd.concat(frames, ignore_index=True)
    events["event_id"] = blank_to_null(events.sg_event_id.astype("string"))
    with_id = events.event_id.notna()
    events = pd.concat([events[with_id].drop_duplicates("event_id"), events[~with_id]]).sort_index()
    seconds = pd.to_numeric(events.timestamp)
    events["occurred_at"] = pd.to_datetime((seconds * 1_000_000).round().astype("int64"), unit="us")
    events["email_key"] = email_key(events.email.astype("string"))
    events["event_type"] = trim(events.event.astype("string")).str.lower()
    return events


def is_marketing(events: pd.DataFrame, policy: Policy) -> pd.Series:
    """An event whose category (a string or a list) names one of the policy's marketing categories."""
    marketing = {v.lower() for v in policy.email_categories["marketing"]}
    cats = events.category.explode().dropna()
    hit = trim(cats.astype("string")).str.lower().isin(marketing)
    return hit.groupby(level=0).any().reindex(events.index, fill_value=False)


def optouts(files: pd.DataFrame, events: pd.DataFrame, records: pd.DataFrame, as_of: dt.date,
            policy: Policy) -> pd.DataFrame:
    """fct_optout_intervals: (email_key, started_at, ended_at) from the audience export, ESP events
    and the CRM flag dated by its field history."""
    lists = policy.email_events
    paths, _ = latest(files, "mailchimp.unsubscribed", as_of)
    m = read_csv(paths, ["Email Address", "UNSUB_TIME"])
    audience = pd.DataFrame({"email_key": email_key(m["email address"]), "started_at": to_utc(m.unsub_time)})
    dated = events[(utc_date(events.occurred_at) <= ts(as_of)) & events.email_key.notna()]
    esp = dated[dated.event_type.isin(lists["optout"])][["email_key", "occurred_at"]]
    esp = esp.rename(columns={"occurred_at": "started_at"})
    unsub = dated[dated.event_type.isin(lists["group_optout"])][["email_key", "event_id", "occurred_at"]]
    resub = dated[dated.event_type.isin(lists["group_resubscribe"])][["email_key", "occurred_at"]]
    pairs = unsub.reset_index().merge(resub, on="email_key", how="left", suffixes=("", "_resub"))
    pairs = pairs[pairs.occurred_at_resub > pairs.occurred_at]
    ended = pairs.groupby("index").occurred_at_resub.min()
    group = pd.DataFrame({"email_key": unsub.email_key, "started_at": unsub.occurred_at,
                          "ended_at": ended.reindex(unsub.index)})

    paths, _ = latest(files, "salesforce.contacthistory", as_of)
    h = read_csv(paths, ["ContactId", "Field", "NewValue", "CreatedDate", "IsDeleted"])
    true_values = [v.lower() for v in policy.optout_history_true_values]
    h = h[~is_true(h.isdeleted)
          & (trim(h.field).str.lower() == policy.optout_history_field.lower()).fillna(False).astype(bool)
          & trim(h.newvalue).str.lower().isin(true_values).fillna(False).astype(bool)]
    changed = pd.DataFrame({"record_key": sfid15(h.contactid), "started_at": to_utc(h.createddate)})
    changed = changed.groupby("record_key").started_at.max()
    flagged = records[(records.source == "salesforce.contact") & records.has_opted_out_of_email
                      & records.email_key.notna()]
    crm = flagged.join(changed, on="record_key", how="inner")[["email_key", "started_at"]]
    audience = audience[audience.email_key.notna() & audience.started_at.notna()]
    return pd.concat([audience, esp, group, crm], ignore_index=True)


def marketing_after_optout(files: pd.DataFrame, records: pd.DataFrame, as_of: dt.date,
                           policy: Policy) -> pd.DataFrame:
    if not (files.kind == "esp.events").any():
        return pd.DataFrame(columns=COLUMNS)
    events = read_events(files)
    delivered = events[events.event_type.isin(policy.email_events["delivered"])
                       & (utc_date(events.occurred_at) <= ts(as_of))]
    delivered = delivered[is_marketing(delivered, policy)]
    spans = optouts(files, events, records, as_of, policy)
    hits = delivered[["email_key", "event_id", "occurred_at"]].merge(spans, on="email_key")
    hits = hits[(hits.occurred_at > hits.started_at)
                & (hits.ended_at.isna() | (hits.occurred_at < hits.ended_at))]
    hits = hits.drop_duplicates(["email_key", "event_id", "occurred_at"])
    hits = hits.assign(event_id=hits.event_id.fillna("(no event id)")).sort_values(["occurred_at", "event_id"])
    per_address = hits.groupby("email_key", sort=True).event_id.agg(["count", ", ".join])
    detail = per_address["count"].astype(str) + " marketing mailing(s) after opt-out: " + per_address["join"]
    return pd.DataFrame({"rule": RULES[1], "record_id": per_address.index, "email": per_address.index,
                         "source": "esp.events", "detail": detail.values})


# ---------------------------------------------------------------- dsar.legal_deadline_missed


def working_days(policy: Policy, as_of: dt.date) -> pd.Series:
    """params.calendar's working days: not a weekend day, a public holiday or an extra day."""
    import holidays

    first, last = dt.date(as_of.year - 10, 1, 1), dt.date(as_of.year + 2, 12, 31)
    public = holidays.country_holidays(policy.holiday_country, years=range(first.year, last.year + 1))
    weekend = {WEEKDAYS.index(d) for d in policy.weekend_days}
    days = pd.date_range(first, last, freq="D")
    closed = days.day_of_week.isin(list(weekend)) | days.isin(pd.to_datetime(list(public)))
    closed |= days.isin(pd.to_datetime(list(policy.extra_non_working_days)))
    return pd.Series(days[~closed])


def roll(days: pd.Series, working: pd.Series) -> pd.Series:
    """The first working day on or after each day (NaT past the calendar's end)."""
    padded = pd.concat([working, pd.Series([pd.NaT], dtype=working.dtype)], ignore_index=True)
    return pd.Series(padded.iloc[working.searchsorted(days)].values, index=days.index)


def read_register(paths: list[Path], policy: Policy) -> pd.DataFrame:
    """The register's columns under their canonical keys (labels from the policy). A DPO's
    spreadsheet may be saved as UTF-8 or as cp1252 (Swedish Excel), with ',' or ';'."""
    labels = {label.strip().casefold(): key for key, names in policy.register_columns.items()
              for label in [key, *names]}
    frames = []
    for path in paths:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252"), "cp1252"
        first = text.lstrip("\ufeff").split("\n", 1)[0]
        sep = ";" if first.count(";") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=sep))
        mapped = {cell: labels[cell.strip().casefold()] for cell in header if cell.strip().casefold() in labels}
        df = read_csv([path], list(mapped), sep=sep, encoding=encoding)
        frames.append(df.set_axis([mapped[c] for c in mapped], axis=1))
    empty = pd.DataFrame({key: pd.Series(dtype=pd.ArrowDtype(pa.string())) for key in policy.register_columns})
    return pd.concat([empty, *frames], ignore_index=True)


def day(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d")


def legal_deadline_missed(files: pd.DataFrame, as_of: dt.date, policy: Policy) -> pd.DataFrame:
    paths, _ = latest(files, "register.requests", as_of)
    r = read_register(paths, policy)
    req = pd.DataFrame({"request_id": trim(r.request_id), "email_key": email_key(r.email),
                        "received_on": to_date(r.received), "extension_on": to_date(r.extension_notified),
                        "closed_on": to_date(r.closed)})
    req = req[req.received_on.notna() & (req.received_on <= ts(as_of))]
    unrolled = pd.Series([pd.Timestamp(add_months(d.date(), policy.dsar_legal_deadline_months))
                          for d in req.received_on], index=req.index, dtype="datetime64[us]")
    due = roll(unrolled, working_days(policy, as_of))
    req = req.assign(unrolled=unrolled, due=due, judged_on=req.closed_on.fillna(ts(as_of)))
    req = req[req.due.notna()]
    valid_extension = req.extension_on.notna() & (req.extension_on <= req.due)
    found = req[(req.judged_on > req.due) & ~valid_extension]
    detail = (("closed " + day(found.closed_on)).fillna("open") + " after the deadline " + day(found.due)
              + ((" (" + day(found.unrolled) + " rolled to a working day)").where(found.due != found.unrolled, ""))
              + ("; extension told " + day(found.extension_on) + ", too late").fillna(""))
    return pd.DataFrame({"rule": RULES[2], "record_id": found.request_id, "email": found.email_key,
                         "source": "register.requests", "detail": detail})


# ---------------------------------------------------------------- the whole run, and comparing


def run_baseline(exports_dirs, as_of: dt.date, policy_path) -> pd.DataFrame:
    """The three rules' findings as of `as_of` from the exports in a folder (or a list of folders):
    columns rule, record_id, email, source, detail."""
    policy = Policy.load(Path(policy_path))
    folders = [exports_dirs] if isinstance(exports_dirs, (str, Path)) else exports_dirs
    files = export_files(*map(Path, folders))
    records = crm_records(files, as_of, policy)
    found = pd.concat([retention(files, records, as_of, policy),
                       marketing_after_optout(files, records, as_of, policy),
                       legal_deadline_missed(files, as_of, policy)], ignore_index=True)
    found = found.astype({c: "string" for c in COLUMNS})
    return found.sort_values(["rule", "record_id"], ignore_index=True)[COLUMNS]


def _frame(rows) -> pd.DataFrame:
    """Findings as a frame: a DataFrame, a list of finding dicts, or `findings --format json` output."""
    if isinstance(rows, dict):
        rows = rows["findings"]
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=COLUMNS)
    return frame[frame.rule.isin(RULES)]


def compare(baseline_df, insyn_rows) -> list[str]:
    """Human-readable differences between the baseline and Insyn for the baseline's rules; [] when equal.
    Either side may be a DataFrame, a list of finding dicts or `insyn findings --format json` output."""
    def keyed(rows) -> dict:
        return {(r.rule, r.record_id, None if pd.isna(r.email) else r.email): (r.source, r.detail)
                for r in _frame(rows).itertuples()}

    mine, theirs = keyed(baseline_df), keyed(insyn_rows)
    out = []
    for rule in RULES:
        a = {k for k in mine if k[0] == rule}
        b = {k for k in theirs if k[0] == rule}
        if len(a) != len(b):
            out.append(f"{rule}: baseline {len(a)} findings, Insyn {len(b)}")
        out += [f"{rule}: only in the baseline: {k[1]} ({k[2]})" for k in sorted(a - b, key=str)[:20]]
        out += [f"{rule}: only in Insyn: {k[1]} ({k[2]})" for k in sorted(b - a, key=str)[:20]]
        differ = [k for k in sorted(a & b, key=str) if mine[k] != theirs[k]]
        out += [f"{rule}: {k[1]}: baseline {mine[k]!r}, Insyn {theirs[k]!r}" for k in differ[:20]]
        if len(differ) > 20:
            out.append(f"{rule}: ... {len(differ) - 20} more with a different source or detail")
    return out


def as_json(found: pd.DataFrame, as_of: dt.date) -> dict:
    """The shape of `insyn findings --format json`."""
    rows = found.astype(object).where(found.notna(), None).to_dict(orient="records")
    return {"as_of": as_of.isoformat(), "findings": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Three of Insyn's rules in pandas, for the benchmark.")
    parser.add_argument("exports_dirs", type=Path, nargs="+", metavar="EXPORTS_DIR")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 24))
    parser.add_argument("--policy", type=Path, default=ROOT / "policy.toml")
    parser.add_argument("--compare", type=Path, metavar="FINDINGS_JSON",
                        help="`insyn findings --format json` output to compare with")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the findings here, as Insyn's JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    found = run_baseline(args.exports_dirs, args.as_of, args.policy)
    seconds = time.perf_counter() - started
    for rule in RULES:
        print(f"{int((found.rule == rule).sum()):>10}  {rule}")
    print(f"pandas baseline as of {args.as_of}: {seconds:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(as_json(found, args.as_of), ensure_ascii=False, indent=1), encoding="utf-8")
    if args.compare:
        problems = compare(found, json.loads(args.compare.read_text(encoding="utf-8")))
        print("\n".join(problems) if problems else "the same findings as Insyn (rule, record_id, email, detail)")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
