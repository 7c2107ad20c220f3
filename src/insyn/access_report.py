"""`insyn dsar report`: the access report (GDPR art. 15) the policy promises.

gather()  every row held about one person, from every source that names
          people (sources.toml's person_* columns: the same declaration that
          erasure purges by), structured by source with the source's own ids:
          snapshot sources from their latest export on or before as-of,
          appended streams (e-mail events, web logs) whole, each row once.
compose() the art. 15 content per category of data: purposes, legal basis,
          origin, recipients with what the sub-processor register records of
          each transfer at as-of (never a safeguard it does not hold),
          retention with the date the data falls due, automated decisions and
          profiling (policy.toml [access_report]), rights, the supervisory
          authority. Words come from the catalogs (letter.po), the company's
          data from templates/access_report.toml, numbers from the policy.
render_html() / write(): the letter (HTML, PDF) and the machine-readable copy
          (JSON, art. 15(3)).

Identity first: a report is produced only for a person whose request in the
register has its identity verified, or when the operator vouches for it
(recorded in the ledger); every report produced is recorded in the ledger,
with the path it was written to, so that an erasure can remove it.
"""

from __future__ import annotations

import datetime as dt
import re
import json
import secrets as pysecrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .config import read_toml
from .db import ident, raw_columns
from .errors import ConfigError, InsynError
from .files import write_private
from .ledger import Ledger, email_hash, id_hash, salt as get_salt, stored_path
from .sources import Sources
from .text import email_key, trim

TEMPLATE_TEXTS = "access_report.toml"
FORMATS = ("pdf", "html", "json")   # what `produce` writes
TEMPLATE_HTML = "access_report.html.j2"

# What each source kind shows (its category, fields and their labels, translated values, the
# names beside ids) is said in sources.toml ([kind.access_report]); its words are in the catalogs.
# raw columns that are not data about the person (the loader's lineage, derived copies)
HIDDEN = {"_load_id", "_file_id", "_record_no", "_line_no", "_exported_at", "_lawful_basis"}


class IdentityNotVerified(InsynError):
    """Exit 2: the report is refused until identity is established."""


@dataclass
class Identity:
    how: str                   # register | vouched
    request_id: str | None
    verified_on: str | None
    method: str | None
    vouched_by: str | None = None
    ledger_entry: str | None = None


def load_texts(templates: Path) -> dict:
    return read_toml(templates / TEMPLATE_TEXTS)


def with_letter_words(texts: dict, locale: Path, lang: str) -> dict:
    """`texts` (access_report.toml: the company's data) with the letter's words in `lang` from the
    workbench's catalogs (locale/<lang>/LC_MESSAGES/letter.po: `letter.*`, the categories'
    `letter.categories.<category>.*`, the transfer bases' `letter.transfer.<mechanism>`)."""
    from .texts import cached

    words = cached(locale, lang).section("letter")
    return {**texts, lang: words, "transfer_mechanisms": {lang: words.pop("transfer", {})}}


# ---------------------------------------------------------------- identity


def verified_request(con: duckdb.DuckDBPyConnection, key: str, as_of: dt.date) -> tuple | None:
    """The person's latest request in the register whose identity was verified on or before as-of."""
    return con.execute(
        "select q.request_id, cast(q.identity_verified_on as date), r.verification_method "
        "from marts.fct_dsar_requests q "
        "left join staging.stg_register__requests r on r.file_id = q.file_id and r.record_no = q.record_no "
        "where q.email_key = $key and q.identity_verified_on is not null "
        "and cast(q.identity_verified_on as date) <= $as_of "
        "order by (q.request_type = 'access') desc, q.is_open desc, q.received_on desc, q.request_id limit 1",
        {"key": key, "as_of": as_of}).fetchone()


def establish_identity(con, *, key: str, as_of: dt.date, vouched_by: str | None, ledger: Path,
                       secrets: Path, recorded_by: str | None = None) -> Identity:
    """Identity first: the register's verification, else the operator's word (recorded); else refuse."""
    found = verified_request(con, key, as_of)
    if found:
        return Identity("register", found[0], found[1].isoformat() if found[1] else None, trim(found[2]))
    vouched_by = trim(vouched_by)
    if not vouched_by:
        raise IdentityNotVerified(
            "dsar report: no request from this address in the register has its identity verified "
            f"(on or before {as_of}); record the verification date in the register, or vouch for it with "
            "--identity-verified-by NAME")
    salt_value = get_salt(secrets, create=True)
    entry = Ledger(ledger).append(
        "identity_vouched", email_sha256=email_hash(salt_value, key), vouched_by=vouched_by,
        recorded_by=recorded_by)
    return Identity("vouched", None, entry.recorded_at[:10], None, vouched_by, entry.entry_id)


# ---------------------------------------------------------------- gathering


def gather(con: duckdb.DuckDBPyConnection, sources: Sources, pipelines: Path, key: str,
           as_of: dt.date) -> dict[str, list[dict]]:
    """Every row about the person, by source name; each row's fields as exported (lower-cased
    keys), with `_export` (date of the export) and, for streams, `_file` and `_line`."""
    from .persons import crm_ids, person_condition, register_ids

    # the warehouse's macros (email_key, sfid15) are there once it is built; this may be read-only
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
    crm_ids = crm_ids(con, sources, key, register_ids(con, sources, key))
    salt_value = pysecrets.token_hex(16)  # a throwaway salt: the same matching code as erasure
    con.execute("create or replace temp table insyn_erased (hash varchar)")
    hashes = {email_hash(salt_value, key), *(id_hash(salt_value, i) for i in crm_ids)}
    con.executemany("insert into insyn_erased values (?)", [[h] for h in sorted(hashes)])
    out: dict[str, list[dict]] = {}
    try:
        for table, kind in sources.tables().items():
            if table not in tables or kind.report is None:
                continue
            columns = raw_columns(con, table)
            condition = person_condition(kind, set(columns), "r")
            if condition is None:
                continue
            shown = [c for c in columns if c not in HIDDEN and not c.endswith("__utc")]
            stream = kind.format in ("json", "log")
            # a time with a UTC twin reads as that (an epoch second or a local time is not for people)
            out_cols = ", ".join(
                f"coalesce(strftime(r.{ident(c + '__utc')}, '%Y-%m-%d %H:%M:%S UTC'), r.{ident(c)}) as {ident(c)}"
                if c + "__utc" in columns else f"r.{ident(c)}" for c in shown)
            if stream:
                sql = (f"select {out_cols}, min(f.file) as _file, min(r._line_no) as _line, "
                       "cast(min(r._exported_at) as date) as _export "
                       f"from raw.{ident(table)} r join audit.files f on f.file_id = r._file_id "
                       f"where ({condition}) and cast(r._exported_at as date) <= $as_of "
                       f"group by all order by all")
            else:
                partition = "r._status" if "_status" in columns else "1"
                sql = (f"select {out_cols}, cast(r._exported_at as date) as _export from raw.{ident(table)} r "
                       f"where ({condition}) and r._exported_at = (select max(l._exported_at) "
                       f"from raw.{ident(table)} l where cast(l._exported_at as date) <= $as_of "
                       + ("and l._status = r._status" if partition != "1" else "") + ") order by all")
            cur = con.execute(sql, {"salt": salt_value, "as_of": as_of})
            names = [d[0] for d in cur.description]
            rows = [{n: v for n, v in zip(names, row) if v is not None and v != ""} for row in cur.fetchall()]
            if rows:
                _add_names(con, sources, kind, rows)
                out[kind.report.shown_as] = [_in_order(kind, row) for row in rows]
    finally:
        con.execute("drop table if exists insyn_erased")
    return out


def _add_names(con, sources: Sources, kind, rows: list[dict]) -> None:
    """Beside an id of another record (an account, a campaign), its name (sources.toml: names)."""
    for ref in kind.report.names:
        table = sources[ref.kind].table
        try:
            names = dict(con.execute(
                f"select sfid15({ident(ref.id_column)}), max({ident(ref.name_column)}) from raw.{ident(table)} "
                "group by 1").fetchall())
        except duckdb.Error:   # not loaded (yet), or the export lacks the column
            continue
        for row in rows:
            if row.get(ref.column):
                label = names.get(row[ref.column][:15])
                if label:
                    row[ref.shown_as] = label


def _in_order(kind, row: dict) -> dict:
    """The row with the fields sources.toml names first, in its order, then the rest as exported."""
    first = {f: row[f] for f, _ in kind.report.fields if f in row}
    return {**first, **{k: v for k, v in row.items() if k not in first}}


# ---------------------------------------------------------------- the art. 15 content


def _fmt(text: str, **values) -> str:
    """A letter text from the catalog with its placeholders filled (insyn.texts.fill, the one way);
    a text that had none came filled from the catalog already."""
    from .texts import Template, fill

    return fill(text, values) if isinstance(text, Template) else text


def compose(con: duckdb.DuckDBPyConnection, *, key: str, as_of: dt.date, lang: str, texts: dict, policy,
            held: dict[str, list[dict]], identity: Identity, generated_at: dt.datetime, sources: Sources,
            catalog) -> dict:
    """The report's content: per category of data what art. 15 requires, and the data itself;
    each source's name, field labels and value words (`labels`) from the catalog."""
    words = texts[lang]
    statements = letter_policy(policy.path)
    recipients_all = transfers(con, as_of, texts.get("transfer_mechanisms", {}).get(lang, {}), statements)
    # no register at as-of is not "no recipients": the letter must not say there are none
    register_loaded = con.execute("select count(*) from marts.int_latest_exports "
                                  "where source = 'register.subprocessors'").fetchone()[0] > 0

    def recipients(category: str) -> list[dict]:
        patterns = [p.lower() for p in texts.get("recipients_match", {}).get(category, [])]
        return [r for r in recipients_all
                if any(p in f"{r['name']} {r['role'] or ''}".lower() for p in patterns)]

    name = _person_name(held, sources)
    categories = []
    kinds = {k.report.shown_as: k for k in sources.reported()}
    for category in sources.categories():
        shown = {s: rows for s, rows in held.items() if kinds[s].report.category == category}
        if not shown:
            continue
        c = words.get("categories", {}).get(category)
        if c is None:
            raise InsynError(f"access report: no {lang!r} words for the category {category!r} "
                             f"(pipelines/sources.toml: {', '.join(sorted(shown))})")
        entry = {
            "category": category, "title": c["title"], "purpose": c["purpose"], "legal_basis": c["legal_basis"],
            "records": sum(len(rows) for rows in shown.values()),
            "recipients": recipients(category), "sources": shown,
            "labels": {s: _labels(kinds[s], catalog) for s in shown},
        }
        retention = next((k.report.retention for k in sources.reported()
                          if k.report.category == category and k.report.retention), None)
        if retention == "crm_clock":
            entry["origin"], entry["retention"] = _crm_origin_retention(con, key, c, policy, held,
                                                                        _lead_source_words(sources, catalog))
        elif retention == "log_age":
            from .dates import add_months

            oldest = min((d for s, rows in shown.items() if kinds[s].report.retention == "log_age"
                          for d in [_oldest_day(rows, kinds[s])] if d), default=None)
            due = add_months(oldest, policy.weblog_retention_months) if oldest else None
            entry["origin"] = c["origin"]
            entry["retention"] = _fmt(c["retention"], months=policy.weblog_retention_months,
                                      due_on=due.isoformat() if due else "")
        else:
            entry["origin"], entry["retention"] = c["origin"], c["retention"]
        categories.append(entry)
    controller = texts["controller"]
    authority = texts["supervisory_authority"]
    return {
        "report": "access report (GDPR art. 15)",
        "language": lang,
        "as_of": as_of.isoformat(),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "controller": controller,
        "person": {"email": key, "name": name},
        "identity": identity.__dict__,
        "request_id": identity.request_id,
        "categories": categories,
        "automated_decisions": [_word(words, "automated_decision", n, "automated_decisions", policy.path)
                                for n in statements["automated_decisions"]],
        "profiling": [_word(words, "profiling", n, "profiling", policy.path) for n in statements["profiling"]],
        "rights": words["rights"],
        "how_to": _fmt(words["how_to"], contact=controller["contact"]),
        "complaint": _fmt(words["complaint"], authority=authority["name"], address=authority["address"],
                          web=authority["web"]),
        "supervisory_authority": authority,
        # for the DPO (`dsar report` names them): fields the letter leaves out for want of a label
        "fields_without_label": _unlabelled(held, kinds),
        "subprocessor_register": register_loaded,
    }


def _unlabelled(held: dict[str, list[dict]], kinds: dict) -> dict[str, list[str]]:
    """Per source shown record by record, the fields held that sources.toml neither labels nor
    hides (a table layout shows its chosen columns by design)."""
    out = {}
    for source, rows in held.items():
        spec = kinds[source].report
        if spec.layout == "table":
            continue
        labelled = {f for f, _ in spec.fields} | set(spec.hide)
        missing = sorted({k for row in rows for k in row if not k.startswith("_") and k not in labelled})
        if missing:
            out[source] = missing
    return out


# ---------------------------------------------------------------- transfers (art. 15(2))

POLICY_SECTION = "access_report"
# [access_report] in policy.toml: the company's own statements in the letter, each a name whose
# words are in letter.po, and which transfer mechanisms rest on an assessment or a certification
POLICY_LISTS = ("automated_decisions", "profiling", "assessment_mechanisms", "certification_mechanisms")


def letter_policy(path: Path) -> dict[str, list[str]]:
    """policy.toml's [access_report]: every list present (an empty one is a statement too)."""
    section = read_toml(path).get(POLICY_SECTION)
    if not isinstance(section, dict):
        raise ConfigError(str(path), f"[{POLICY_SECTION}]", "missing (the access letter's statements on "
                          "automated decisions, profiling and transfers; see the reference policy.toml)")
    out = {}
    for key in POLICY_LISTS:
        value = section.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and re.fullmatch(r"[a-z0-9_]+", v)
                                                  for v in value):
            raise ConfigError(str(path), f"{POLICY_SECTION}.{key}",
                              "missing or not a list of names (lower-case letters, digits, _)")
        out[key] = value
    return out


def _word(words: dict, group: str, name: str, key: str, path: Path) -> str:
    """The letter's words for a name the policy lists (letter.<group>.<name>)."""
    text = words.get(group, {}).get(name)
    if not isinstance(text, str):
        raise ConfigError(str(path), f"{POLICY_SECTION}.{key}",
                          f"{name!r} has no words in letter.po (letter.{group}.{name})")
    return text


def transfers(con: duckdb.DuckDBPyConnection, as_of: dt.date, words: dict, statements: dict) -> list[dict]:
    """Each sub-processor in the register as it stands at as-of (marts.dim_subprocessors, built
    for as-of) with what the letter may say of its transfer: only what the register records
    (the mechanism, the assessment's date or that none is recorded, the certification's end)."""
    rows = con.execute(
        "select subprocessor_name, country_iso2, processing_role, transfer_mechanism, is_transfer_valid, "
        "is_in_eea, tia_on, dpf_certified_until from marts.dim_subprocessors order by subprocessor_name").fetchall()
    out = []
    for name, country, role, mechanism, valid, in_eea, tia_on, certified_until in rows:
        tia_on = tia_on if tia_on is not None and tia_on <= as_of else None   # not made yet at as-of
        out.append({"name": name, "country": country, "role": role, "mechanism": mechanism, "valid": valid,
                    "tia_on": tia_on, "dpf_certified_until": certified_until,
                    "transfer_basis": _transfer_statement(words, statements, as_of, mechanism, bool(in_eea),
                                                          tia_on, certified_until)})
    return out


def _transfer_statement(words: dict, statements: dict, as_of: dt.date, mechanism: str | None, in_eea: bool,
                        tia_on: dt.date | None, certified_until: dt.date | None) -> str:
    def said(key: str):
        if key not in words:   # a workbench's own catalog from before these words
            from .texts import MissingText
            raise MissingText(f"no text for message 'letter.transfer.{key}' (add it to letter.po under locale/)")
        return words[key]

    if in_eea:
        return said("within_eea")
    names = words.get("name", {})
    if not mechanism:
        parts = [said("not_recorded")]
    elif mechanism in names:
        parts = [_fmt(said("recorded"), mechanism=names[mechanism])]
    else:   # a code the policy does not list: quoted as recorded, never dressed as a safeguard
        parts = [_fmt(said("unclassified"), mechanism=mechanism)]
    if tia_on is not None:
        parts.append(_fmt(said("tia_on"), date=tia_on.isoformat()))
    elif mechanism in statements["assessment_mechanisms"]:
        parts.append(said("no_tia"))
    if certified_until is not None:
        ended = certified_until < as_of
        parts.append(_fmt(said("certification_ended" if ended else "certified_until"),
                          date=certified_until.isoformat()))
    elif mechanism in statements["certification_mechanisms"]:
        parts.append(said("no_certification"))
    return " ".join(parts)


def _labels(kind, catalog) -> dict:
    """A source's name, its fields' labels and its values in words, from the catalog."""
    spec = kind.report
    return {"name": catalog(spec.name),
            "fields": {f: catalog(msgid) for f, msgid in spec.fields},
            "values": {f: {value_key(v): catalog(msgid) for v, msgid in values.items()}
                       for f, values in spec.values.items()}}


def value_key(value) -> str:
    """A value as sources.toml's values tables match it: trimmed, inner spaces as one, any case
    (exports write 'Completed', 'completed ', 'web  research')."""
    return " ".join(str(value).split()).casefold()


def _person_name(held: dict[str, list[dict]], sources: Sources) -> str | None:
    """The first name found, in the order sources.toml declares the kinds with person_name."""
    for kind in sources.reported():
        for row in held.get(kind.report.shown_as, []) if kind.report.person_name else ():
            full = " ".join(str(row[f]).strip() for f in kind.report.person_name if row.get(f))
            if full.strip():
                return full.strip()
    return None


def _oldest_day(rows: list[dict], kind) -> dt.date | None:
    """The UTC day of the oldest row by the kind's first time stamp (read as 'YYYY-MM-DD HH:MM:SS
    UTC', see gather)."""
    from .text import column_key

    field = column_key(kind.timestamps[0]) if kind.timestamps else None
    days = []
    for row in rows:
        try:
            days.append(dt.date.fromisoformat(str(row.get(field, ""))[:10]))
        except ValueError:  # a line whose time could not be read
            continue
    return min(days) if days else None


def _lead_source_words(sources: Sources, catalog) -> dict[str, str]:
    """The CRM's lead sources in words (sources.toml: the values of the field leadsource)."""
    return {value_key(v): catalog(msgid) for k in sources.reported()
            for v, msgid in k.report.values.get("leadsource", {}).items()}


def _crm_origin_retention(con, key: str, c: dict, policy, held, lead_words: dict) -> tuple[str, str]:
    """Origin and retention of the person's CRM records (dim_crm_records, fct_retention_clock)."""
    rows = con.execute(
        "select r.contact_origin, r.lead_source, k.due_on from marts.dim_crm_records r "
        "left join marts.fct_retention_clock k on k.record_key = r.record_key "
        "where r.email_key = $key order by k.due_on nulls last, r.record_id", {"key": key}).fetchall()
    if not rows:
        return _fmt(c["origin_unclassified"], lead_source="-"), c["retention_self_initiated"]
    origins, retentions = [], []
    for origin, lead_source, due_on in rows:
        lead_source = lead_words.get(value_key(lead_source), lead_source) if lead_source else "-"
        o = _fmt(c.get(f"origin_{origin}", c["origin_unclassified"]), lead_source=lead_source)
        if o not in origins:
            origins.append(o)
        if origin == "company_initiated":
            r = _fmt(c["retention_company_initiated"], months=policy.retention_inactive_months,
                     due_on=due_on.isoformat() if due_on else "")
        else:
            r = c["retention_self_initiated"]
        if r not in retentions:
            retentions.append(r)
    return " ".join(origins), " ".join(retentions)


# ---------------------------------------------------------------- rendering


def render_html(report: dict, texts: dict, templates: Path, sources: Sources) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined)
    words = texts[report["language"]]
    controller = texts["controller"]["name"]
    # Exports write booleans as true/false; a letter says yes or no in the reader's language.
    truth = {"true": words["yes"], "false": words["no"]}
    labels = {s: c["labels"][s] for c in report["categories"] for s in c["labels"]}

    def shown(value, source: str, field: str):
        """A value as the letter shows it: in words where sources.toml says so, booleans as yes/no;
        any other value as it was written (free text the person or the company typed)."""
        words_for = labels.get(source, {}).get("values", {}).get(field, {})
        return words_for.get(value_key(value), truth.get(str(value).lower(), value))

    env.filters["shown"] = shown
    env.tests["unbroken"] = unbroken
    env.filters["date_pieces"] = date_pieces
    kinds = {k.report.shown_as: k.report for k in sources.reported()}
    return env.get_template(TEMPLATE_HTML).render(
        r=report, w=words, labels=labels, source_names={s: v["name"] for s, v in labels.items()},
        letter={"columns": {s: [f for f, _ in k.fields] for s, k in kinds.items() if k.layout == "table"}},
        fields=lambda source, row: _fields_shown(row, labels[source]["fields"], kinds[source].hide),
        hidden=lambda count: _fmt(words["hidden_fields"], count=count),
        title=_fmt(words["title"], controller=controller),
        greeting=_fmt(words["greeting"], name=report["person"]["name"]) if report["person"]["name"]
        else words["greeting_no_name"],
        footer=_fmt(words["footer"], generated=report["generated_at"][:10], controller=controller,
                    as_of=report["as_of"]),
        exported=lambda d: _fmt(words["exported"], date=d),
    )


def _fields_shown(row: dict, labelled: dict, hide: tuple) -> tuple[list[tuple[str, str, object]], int]:
    """The fields of a record the letter shows, as (field, label, value): those with a label in
    the catalog (sources.toml fields), in its order; and how many others the export holds (record
    keeping, derived values, a column nobody named: the JSON copy has them, a column name never
    reaches the letter)."""
    shown = [(k, labelled[k], v) for k, v in row.items() if k in labelled and k not in hide]
    others = sum(1 for k in row if not k.startswith("_") and (k not in labelled or k in hide))
    return shown, others


_ONE_VALUE = re.compile(r"\d{4}-\d\d-\d\d(?: \d\d:\d\d(?::\d\d)?(?: UTC)?)?")


def unbroken(value) -> bool:
    """A value that must not be split across lines: one short token (an IP address, an e-mail
    address, an id, a number) or a date and time."""
    text = str(value)
    return len(text) <= 40 and (not any(c.isspace() for c in text) or bool(_ONE_VALUE.fullmatch(text)))


def date_pieces(text) -> list[tuple[str, bool]]:
    """A sentence as (piece, is a date) pairs: the template keeps each date on one line."""
    return [(piece, bool(i % 2)) for i, piece in enumerate(re.split(r"(\d{4}-\d\d-\d\d)", str(text))) if piece]


def to_json(report: dict) -> str:
    from .output import json_default

    return json.dumps(report, ensure_ascii=False, indent=2, default=json_default) + "\n"


def produce(con: duckdb.DuckDBPyConnection, *, email: str, as_of: dt.date, lang: str, fmt: str, out: Path,
            workbench, policy, sources: Sources, ledger: Path, vouched_by: str | None = None,
            recorded_by: str | None = None, kept: bool = True) -> dict:
    """Identity first, then gather, compose and write the report to `out` (owner-only).
    Records the report in the ledger, with where it was written (erasure removes it from
    there) unless `kept` is false (the caller deletes the file itself, as the dashboard does);
    returns the report's content."""
    key = email_key(email)
    if not key:
        raise InsynError("dsar report: blank e-mail address")
    templates = workbench.templates
    from .texts import cached, workbench_locale

    locale = workbench_locale(workbench.root)
    texts = with_letter_words(load_texts(templates), locale, lang)
    if lang not in texts:
        raise ConfigError(str(templates / TEMPLATE_TEXTS), lang, "no texts in this language")
    identity = establish_identity(con, key=key, as_of=as_of, vouched_by=vouched_by, ledger=ledger,
                                  secrets=workbench.secrets, recorded_by=recorded_by)
    held = gather(con, sources, workbench.pipelines, key, as_of)
    report = compose(con, key=key, as_of=as_of, lang=lang, texts=texts, policy=policy, held=held,
                     identity=identity, generated_at=dt.datetime.now(dt.timezone.utc), sources=sources,
                     catalog=cached(locale, lang))
    if kept:
        _refuse_a_path_naming(out, key, report["person"]["name"])
    if fmt == "json":
        write_private(out, to_json(report).encode("utf-8"))
    else:
        html = render_html(report, texts, templates, sources)
        if fmt == "html":
            write_private(out, html.encode("utf-8"))
        else:
            from .audit import html_pdf

            staging = out.with_name(out.name + ".html")
            write_private(staging, html.encode("utf-8"))
            try:
                refused = html_pdf(staging, out, media="print")
            finally:
                staging.unlink(missing_ok=True)
            if refused:
                raise InsynError(f"dsar report: the page asked for remote resources ({refused[0]})")
            out.chmod(0o600)
    salt_value = get_salt(workbench.secrets, create=True)
    Ledger(ledger).append(
        "access_report", email_sha256=email_hash(salt_value, key), request_id=identity.request_id,
        recorded_by=recorded_by, detail=f"{fmt}, {lang}, as of {as_of}",
        path=stored_path(out, ledger) if kept else None)
    return report


def _folded(text: str) -> str:
    return re.sub(r"[\s._-]+", " ", unicodedata.normalize("NFC", text).casefold()).strip()


def _refuse_a_path_naming(out: Path, key: str, name: str | None) -> None:
    """The ledger keeps the report's path for good: a path that holds the person's address or
    full name would outlive their erasure there."""
    where = _folded(str(out.resolve()))
    if key in str(out).casefold() or (name and _folded(name) and _folded(name) in where):
        raise InsynError("dsar report: --out names the person (their address or name); the ledger records "
                         "where each report is written and keeps it after an erasure: name the file by the "
                         "request id instead")


def default_name(report_id: str | None, fmt: str) -> str:
    """A file name in the reports folder. The request id comes from the register (an
    export): only letters, digits, dots, dashes and underscores of it reach the name,
    so it can never name another folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{name_prefix(report_id)}{stamp}.{fmt}"


def name_prefix(report_id: str | None) -> str:
    """The start of default_name for a request (erasure finds a person's reports by it)."""
    # no "..": harmless without a slash, but no name Insyn offers should look like a way up
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._-]+", "_", report_id or "")).strip("._") or "vouched"
    return f"access-report-{safe[:60]}-"
