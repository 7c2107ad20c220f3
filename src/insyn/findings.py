"""Findings: the rows of the rule models, for people (table, CSV) and programs (JSON).

A rule returns the facts of each finding in one shape shared by every rule
(pipelines/rules/_models.yml): a `detail_id`, the message id of the sentence
that explains that kind of finding, and typed facts that fill it. The words
live in the catalogs (locale/<lang>/LC_MESSAGES/rules.po); `detail(row,
catalog)` is the one place that turns facts into a sentence. The build keeps
audit.current_findings with the English detail beside the facts, so programs
and SQL readers get a stable English detail whatever the language.

This module is also the one home of the rule id (`rule_id`, `rule_table`) and
the one way to read findings (`read`), and of the rules that could not be
evaluated (`not_evaluated`): a rule whose needed source kinds (its yml's
`needs`) were never loaded is not run, and says so rather than passing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path

import duckdb

from .db import ident, insert_rows, table_exists
from .errors import InsynError
from .texts import cached

RULE_SCHEMA = "rules"
# The facts every rule returns, in this order, with these types (None when a kind of finding has no such fact).
DATE_FACTS = ("first_date", "second_date", "third_date", "fourth_date")
NUMBER_FACTS = ("first_number", "second_number")
TEXT_FACTS = ("first_text", "second_text")
REASON_FACT = "reason"        # English words from content (policy.toml) or a mart: the catalog translates them by those words
TIME_FACT = "first_time"
FACT_COLUMNS = (*DATE_FACTS, *NUMBER_FACTS, *TEXT_FACTS, REASON_FACT, TIME_FACT)
FACT_TYPES = {**{c: "date" for c in DATE_FACTS}, **{c: "bigint" for c in NUMBER_FACTS},
              **{c: "varchar" for c in (*TEXT_FACTS, REASON_FACT)}, TIME_FACT: "timestamp"}
# What a rule model returns, in this order.
RULE_COLUMNS = ("rule", "record_id", "email", "source", "detail_id", *FACT_COLUMNS, "count")
# audit.current_findings and audit.findings_history: the rule's columns and its English detail.
FINDING_COLUMNS = ["rule", "record_id", "email", "source", "detail", "count", "detail_id", *FACT_COLUMNS]


# ---------------------------------------------------------------- the rule id

def rule_id(model_name: str) -> str:
    """A rule model's id: its table name with "__" read as "." (rules.dsar__x is dsar.x)."""
    return model_name.replace("__", ".")


def rule_table(rule: str) -> str:
    """The table of a rule id in schema `rules` (dsar.x is rules.dsar__x)."""
    return rule.replace(".", "__")


def title_id(rule: str) -> str:
    """The message id of a rule's title (rules.po)."""
    return f"rule.{rule}.title"


def rule_specs(models) -> list[dict]:
    """Each rule model's id, table, severity, legal reference and title id, from its yml meta.
    A `rule:` in the meta must agree with the table name: the id has one source."""
    specs = []
    for model in models:
        if model.layer != RULE_SCHEMA:
            continue
        meta = dict(model.meta)
        derived = rule_id(model.name)
        if meta.setdefault("rule", derived) != derived:
            raise InsynError(f"{model.path}: meta rule {meta['rule']!r} does not match the model name "
                             f"{model.name!r} (the rule id is the name with '__' as '.': {derived!r})")
        specs.append({**meta, "table": model.name, "title_id": title_id(derived)})
    return specs


# ---------------------------------------------------------------- rules that cannot be evaluated

POLICY_TEXT = "policy.text"             # the policy.* rules' source: the file at policy.text_path
PLACEHOLDER_MARK = "INSYN PLACEHOLDER"  # what `insyn init` writes in the policy text it leaves to replace
EVENT_FORMATS = ("json", "log")         # event streams: judged by their events' own times, not the export's
NOT_EVALUATED_SUFFIX = ".not_evaluated" # a rule's own row saying it could not judge (a field not exported)
NOT_EVALUATED_COLUMNS = ["rule", "missing_sources", "source", "detail", "detail_id", "first_date", "first_text"]


def needs(spec: Mapping) -> list[tuple[str, ...]]:
    """A rule's needs (its yml meta `needs`): each item a tuple of kinds, any one of which will do."""
    return [tuple(item) if isinstance(item, list) else (item,) for item in spec.get("needs") or []]


def check_needs(specs: list[dict], kinds: set[str]) -> None:
    """Every rule names its needs, and only source kinds sources.toml declares (or policy.text)."""
    known = kinds | {POLICY_TEXT}
    for spec in specs:
        raw = spec.get("needs")
        items = [k for group in needs(spec) for k in group] if isinstance(raw, list) else []
        if not items or not all(isinstance(k, str) for k in items):
            raise InsynError(f"rules/_models.yml: {spec['rule']}: meta needs: expected a list of the source kinds "
                             "the rule judges (an item may be a list: any one of those kinds)")
        unknown = sorted(k for k in items if k not in known)
        if unknown:
            raise InsynError(f"rules/_models.yml: {spec['rule']}: meta needs: unknown source kind(s) "
                             f"{', '.join(unknown)} (known: {', '.join(sorted(known))})")


def policy_text_problem(text_path: Path) -> str | None:
    """Why the policy text cannot be judged: "missing", "placeholder" (still what `insyn init` wrote), or None."""
    if not text_path.exists():
        return "missing"
    if PLACEHOLDER_MARK in text_path.read_bytes().decode("utf-8", errors="replace"):
        return "placeholder"
    return None


def available_sources(con: duckdb.DuckDBPyConnection, as_of: dt.date, sources, text_path: Path) -> set[str]:
    """The source kinds the rules can judge at `as_of`: a snapshot kind exported on or before it (the
    rules judge the latest such export), an event stream loaded at all, and policy.text when it is real."""
    kinds = set()
    if table_exists(con, "audit", "files"):
        streams = {name for name in sources.names() if sources[name].format in EVENT_FORMATS}
        # an export that held no record counts: it says there were none (a register of a year with no
        # request, an empty log after a rotation), which is what the rules then judge
        for source, first in con.execute("select source, min(cast(exported_at as date)) from audit.files "
                                         "group by source").fetchall():
            if source in streams or (first is not None and first <= as_of):
                kinds.add(source)
    if policy_text_problem(text_path) is None:
        kinds.add(POLICY_TEXT)
    return kinds


def _entry(spec: Mapping, missing: list[tuple[str, ...]], detail_id: str, **facts) -> dict:
    return {"rule": spec["rule"], "table": spec["table"], "source": None, "detail_id": detail_id,
            "missing_sources": [k for group in missing for k in group], **facts}


def unmet(specs: list[dict], available: set[str], as_of: dt.date, text_path: Path) -> list[dict]:
    """The rules whose needs `available` does not meet: not run, reported as not evaluated with
    the missing kinds ("a/b" where either would do) and why."""
    entries = []
    for spec in specs:
        missing = [group for group in needs(spec) if not set(group) & available]
        exports = [group for group in missing if group != (POLICY_TEXT,)]
        if exports:
            entries.append(_entry(spec, missing, "not_evaluated.never_loaded", first_date=as_of,
                                  first_text=", ".join("/".join(group) for group in exports)))
        elif missing:
            entries.append(_entry(spec, missing, f"not_evaluated.policy_{policy_text_problem(text_path)}",
                                  first_text=text_path.name))
    return entries


def nothing_loaded(specs: list[dict], available: set[str]) -> list[dict]:
    """Before anything is loaded: every rule, not evaluated, with what it would need."""
    return [_entry(spec, [g for g in needs(spec) if not set(g) & available], "not_evaluated.nothing_loaded")
            for spec in specs]


# ---------------------------------------------------------------- words

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("NaT", "<NA>", "nan")


def _shown(column: str, value) -> str:
    """A fact as the templates write it: ISO dates and times, whole numbers, text as written."""
    if _missing(value):
        return ""
    if column in DATE_FACTS:
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if column == TIME_FACT:
        return value.isoformat(sep=" ")
    if column in NUMBER_FACTS:
        return str(int(value))
    return str(value)


def reason(text, catalog) -> str:
    """A reason written in English words (policy.toml's `why`, dim_subprocessors.invalid_reason)
    in the catalog's language: the catalog's words for it, else as written."""
    if _missing(text):
        return ""
    return catalog(str(text)) if str(text) in catalog else str(text)


def detail(row: Mapping, catalog) -> str:
    """A finding's detail in the catalog's language: its detail_id's template filled with its facts.
    A history row kept before findings had facts (no detail_id) shows its detail as recorded."""
    detail_id = row.get("detail_id")
    if _missing(detail_id):
        recorded = row.get("detail")
        return "" if _missing(recorded) else str(recorded)
    values = {column: _shown(column, row.get(column)) for column in FACT_COLUMNS}
    values[REASON_FACT] = reason(row.get(REASON_FACT), catalog)
    return catalog(str(detail_id), **values)


def title(rule: str, catalog) -> str:
    return catalog(title_id(rule))


# ---------------------------------------------------------------- the build's tables

def write_tables(con: duckdb.DuckDBPyConnection, specs: list[dict], locale: Path,
                 unmet_rules: list[dict] = ()) -> None:
    """params.rules (id, table, severity, legal reference, title id, and the titles in English
    and Swedish from the catalogs in `locale`), audit.current_findings (every rule table's
    rows with their English detail), and audit.not_evaluated (`unmet_rules`, and a rule's own
    rows saying it could not judge), from the rule models just built."""
    english, swedish = cached(locale, "en"), cached(locale, "sv")
    con.execute("create or replace table params.rules (rule varchar, table_name varchar, severity varchar, "
                "legal_reference varchar, title_id varchar, title_en varchar, title_sv varchar)")
    insert_rows(con, "params.rules",
                ["rule", "table_name", "severity", "legal_reference", "title_id", "title_en", "title_sv"],
                [(s["rule"], s["table"], s.get("severity"), s.get("legal_reference"), s["title_id"],
                  english(s["title_id"]), swedish(s["title_id"])) for s in specs])
    columns = ", ".join(f"{ident(c)} {FACT_TYPES.get(c, 'bigint' if c == 'count' else 'varchar')}"
                        for c in FINDING_COLUMNS)
    con.execute(f"create or replace table audit.current_findings ({columns})")
    built = set(tables(con))
    rows, unable = [], [dict(e) for e in unmet_rules]
    for spec in specs:
        if spec["table"] in built:
            for r in _select(con, spec["table"]):
                said = str(r["detail_id"] or "").endswith(NOT_EVALUATED_SUFFIX)
                (unable if said else rows).append({**r, "missing_sources": [], "detail": detail(r, english)})
    insert_rows(con, "audit.current_findings", FINDING_COLUMNS, [[r[c] for c in FINDING_COLUMNS] for r in rows])
    con.execute("create or replace table audit.not_evaluated (rule varchar, missing_sources varchar, "
                "source varchar, detail varchar, detail_id varchar, first_date date, first_text varchar)")
    insert_rows(con, "audit.not_evaluated", NOT_EVALUATED_COLUMNS,
                [[e["rule"], ",".join(e["missing_sources"]), e.get("source"), detail(e, english), e["detail_id"],
                  e.get("first_date"), e.get("first_text")] for e in unable])


def _select(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    cur = con.execute(f"select {', '.join(ident(c) for c in RULE_COLUMNS)} from {RULE_SCHEMA}.{ident(table)}")
    return [dict(zip(RULE_COLUMNS, r)) for r in cur.fetchall()]


# ---------------------------------------------------------------- reading

def built_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date the models were last built for, or None."""
    if not table_exists(con, "params", "run"):
        return None
    row = con.execute("select as_of from params.run").fetchone()
    return row[0] if row else None


def is_current(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> bool:
    """Built for this as-of, after the last load."""
    if built_as_of(con) != as_of or not table_exists(con, "audit", "runs"):
        return False
    last_build = con.execute("select max(finished_at) from audit.runs where command = 'build'").fetchone()[0]
    last_load = con.execute("select max(finished_at) from audit.loads").fetchone()[0] \
        if table_exists(con, "audit", "loads") else None
    last_purge = con.execute("select max(purged_at) from audit.purges").fetchone()[0] \
        if table_exists(con, "audit", "purges") else None
    return last_build is not None and all(t is None or last_build >= t for t in (last_load, last_purge))


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The rule tables built in the warehouse."""
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = $s order by table_name",
        {"s": RULE_SCHEMA}).fetchall()]


def rule_ids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Rule id -> rule table."""
    return {rule_id(table): table for table in tables(con)}


def read(con: duckdb.DuckDBPyConnection, rule: str | None = None, *, email: str | None = None) -> list[dict]:
    """Every finding as the last build left it (or one rule's, or one person's: `email` as its
    email_key), with its English detail and facts, sorted by rule, then record_id."""
    wanted = {"rule": rule, "email": email}
    params = {k: v for k, v in wanted.items() if v}
    where = ("where " + " and ".join(f"{k} = ${k}" for k in params)) if params else ""
    cur = con.execute(f"select {', '.join(ident(c) for c in FINDING_COLUMNS)} from audit.current_findings {where}",
                      params)
    rows = [dict(zip(FINDING_COLUMNS, r)) for r in cur.fetchall()]
    rows.sort(key=lambda f: (f["rule"], f["record_id"] or ""))
    return rows


def not_evaluated(con: duckdb.DuckDBPyConnection, rule: str | None = None) -> list[dict]:
    """The rules the last build could not evaluate (or one rule's entries): rule, missing_sources (a
    list of kinds), source (the kind whose export lacked a field, else None), English detail, detail_id
    and facts; sorted by rule. Empty for a warehouse built before rules declared their needs."""
    if not table_exists(con, "audit", "not_evaluated"):
        return []
    where, params = ("where rule = $rule", {"rule": rule}) if rule else ("", {})
    cur = con.execute(f"select {', '.join(ident(c) for c in NOT_EVALUATED_COLUMNS)} from audit.not_evaluated "
                      f"{where} order by rule, source nulls first", params)
    entries = [dict(zip(NOT_EVALUATED_COLUMNS, r)) for r in cur.fetchall()]
    for e in entries:
        e["missing_sources"] = [k for k in (e["missing_sources"] or "").split(",") if k]
    return entries


def with_details(entries: list[dict], catalog) -> list[dict]:
    """Not-evaluated entries with their `detail` in the catalog's language."""
    return [{**e, "detail": detail(e, catalog)} for e in entries]


def not_evaluated_lines(entries: list[dict], catalog) -> list[str]:
    """One sentence per rule not evaluated, in the catalog's language: its title, its id and why
    (for the audit pack and the dashboard)."""
    return [f"{title(e['rule'], catalog)} ({e['rule']}): {detail(e, catalog)}" for e in entries]


def _json_value(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def as_json(findings: list[dict], as_of: dt.date, unable: list[dict] = ()) -> dict:
    """The `findings --format json` contract: count only when it is not 1; the detail_id and
    the facts that are set, under `facts`; beside them `not_evaluated`, the rules that could not
    be evaluated (`unable`, from not_evaluated) with the source kinds they miss."""
    out = []
    for f in findings:
        item = {k: f[k] for k in ("rule", "record_id", "email", "source", "detail")}
        if f["count"] != 1:
            item["count"] = f["count"]
        item["detail_id"] = f["detail_id"]
        item["facts"] = {c: _json_value(f[c]) for c in FACT_COLUMNS if f.get(c) is not None}
        out.append(item)
    missing = []
    for e in unable:
        item = {"rule": e["rule"], "missing_sources": e["missing_sources"], "detail": e["detail"],
                "detail_id": e["detail_id"]}
        if e.get("source"):
            item["source"] = e["source"]
        missing.append(item)
    return {"as_of": as_of.isoformat(), "findings": out, "not_evaluated": missing}


def as_rows(findings: list[dict], unable: list[dict] = ()) -> list[list]:
    """The `findings --format csv` rows, in FINDING_COLUMNS order; then one row per rule not
    evaluated: no record, `source` the kinds it misses (space-separated, else the kind whose
    export lacks a field), count 0, detail_id not_evaluated.* (or the rule's own)."""
    rows = [[_json_value(f[c]) for c in FINDING_COLUMNS] for f in findings]
    for e in unable:
        row = {**{c: None for c in FINDING_COLUMNS}, **{c: e.get(c) for c in FACT_COLUMNS},
               "rule": e["rule"], "source": " ".join(e["missing_sources"]) or e.get("source"),
               "detail": e["detail"], "count": 0, "detail_id": e["detail_id"]}
        rows.append([_json_value(row[c]) for c in FINDING_COLUMNS])
    return rows


def summary(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(rule, number of findings) for every rule, zeros included."""
    return [(rule, con.execute(f"select count(*) from {RULE_SCHEMA}.{ident(table)}").fetchone()[0])
            for rule, table in rule_ids(con).items()]
