"""The people register: what is held about one address, for the dashboard's /people page.

Per source kind, as sources.toml describes it: the kinds whose rows name a person are
searched by the same matching as the access report and erasure (access_report.gather,
persons.py), each shown with its name from the catalog (`[kind.access_report] name`), its
category (the letter's `letter.categories.<category>.title`), its number of records and,
when the kind declares time stamps, the first and last day they hold. Beside them, the
person's requests (the register's mart) and findings (findings.read), in the catalog's
language. No kind is named here: a new one in sources.toml shows up by content alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import findings
from .access_report import gather
from .sources import Sources
from .text import column_key, email_key
from .texts import Catalog


@dataclass
class Held:
    """Rows as dicts, each list in the order the page shows it."""
    sources: list[dict] = field(default_factory=list)    # category, source, kind, records, first_on, last_on
    requests: list[dict] = field(default_factory=list)   # request_id, request_type, outcome, received_on
    findings: list[dict] = field(default_factory=list)   # rule, title, record_id, detail
    # False when the warehouse has no raw layer (served from Spark's lake): what each source holds
    # was not looked at, which is not the same as nothing held
    raw_layer: bool = True

    @property
    def empty(self) -> bool:
        return not (self.sources or self.requests or self.findings)


def held(con: duckdb.DuckDBPyConnection, sources: Sources, email: str, words: Catalog,
         as_of: dt.date | None = None) -> Held:
    """Everything held about `email` in the warehouse `con` (a snapshot: read-only is enough),
    as of `as_of` (default: the date it was built for), in the language of `words`."""
    key = email_key(email)
    if not key:
        return Held()
    as_of = as_of or findings.built_as_of(con) or dt.date.today()
    pipelines = sources.path.parent if sources.path else Path(".")
    rows_of = gather(con, sources, pipelines, key, as_of)
    out = Held(raw_layer=con.execute("select count(*) from duckdb_tables() where schema_name = 'raw'")
               .fetchone()[0] > 0)
    order = sources.categories()
    # by category, then kind, in sources.toml's order: a kind's place is its content's
    for kind in sorted(sources.reported(), key=lambda k: order.index(k.report.category)):
        rows = rows_of.get(kind.report.shown_as)
        if not rows:
            continue
        days = [d for row in rows for ts in kind.timestamps for d in [_day(row.get(column_key(ts)))] if d]
        out.sources.append({
            "category": _words(words, f"letter.categories.{kind.report.category}.title", kind.report.category),
            "source": _words(words, kind.report.name, kind.report.name),
            "kind": kind.report.shown_as,
            "records": len(rows),
            "first_on": min(days) if days else None,
            "last_on": max(days) if days else None,
        })
    out.requests = [dict(zip(("request_id", "request_type", "outcome", "received_on"), r)) for r in con.execute(
        "select request_id, request_type, outcome, received_on from marts.fct_dsar_requests "
        "where email_key = $key order by received_on, request_id", {"key": key}).fetchall()]
    out.findings = [{"rule": f["rule"], "title": _words(words, findings.title_id(f["rule"]), f["rule"]),
                     "record_id": f["record_id"], "detail": findings.detail(f, words)}
                    for f in findings.read(con, email=key)]
    return out


def _words(words: Catalog, msgid: str, otherwise: str) -> str:
    """The catalog's words for `msgid`; `otherwise` when it has none (tests/test_texts.py and the
    pseudo-language test find such gaps; a page never fails on one)."""
    return words(msgid) if msgid in words else otherwise


def _day(value) -> dt.date | None:
    """The day of a time as gather shows it ('YYYY-MM-DD HH:MM:SS UTC', or as exported)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "")[:10])
    except ValueError:   # a time the export wrote some other way: no date rather than a wrong one
        return None
