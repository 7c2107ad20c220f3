"""`insyn build`: run the SQL models in pipelines/ in dependency order.

A model is one SELECT in pipelines/<layer>/<name>.sql; it becomes the table
<layer>.<name>. Models name the tables they read as <layer>.<name>, which is
how the order is found. Descriptions come from pipelines/<layer>/_models.yml.
The whole build is one transaction.

A model whose _models.yml entry says `materialized: incremental` (in `meta`)
reads only raw tables, other incremental models and params that do not follow
the as-of, and only the rows of the files after `params.increment.after_file_id`
(each of its rows follows from one file's rows). A full build sets that to 0
and computes the table anew; a later build adds the rows of the files loaded
since (file ids only grow), unless the model's definition (its SQL, the macros,
the params it reads, its raw columns) changed, rows were removed from the raw
tables it reads directly or through its models (an erasure, a purge), or a
model it reads was computed anew since: then it is computed anew.
audit.model_builds records which, and why, for every model of every build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from .config import WEEKDAYS, Policy
from .dates import add_months, outside_years
from .db import ident, insert_rows, table_exists, transaction
from .errors import InsynError
from .ledger import Erasures
from .schema import ensure_schema
from .sources import Sources
from .text import squish, trim
from .texts import workbench_locale

MODEL_LAYERS = ("staging", "marts", "rules")
RULE_LAYER = "rules"
_REF = re.compile(r"\b(staging|marts|rules)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_RAW_REF = re.compile(r"\braw\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_PARAMS_REF = re.compile(r"\bparams\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_AUDIT_REF = re.compile(r"\baudit\.[a-z_]", re.IGNORECASE)
INCREMENT = "increment"   # params.increment: an incremental model reads the files after after_file_id, up to through_file_id
NO_LAST_FILE = 2**63 - 1   # params.increment.through_file_id outside a model's step: every file
AS_OF_PARAMS = {"run", "calendar"}   # params whose rows follow the as-of date


@dataclass
class Model:
    layer: str
    name: str
    path: Path
    sql: str
    depends_on: set[str] = field(default_factory=set)
    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    # an incremental model's raw tables, read directly or through the incremental models it reads
    lineage_raw: list[str] = field(default_factory=list)

    @property
    def table(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def incremental(self) -> bool:
        return self.meta.get("materialized") == "incremental"

    @property
    def raw_tables(self) -> list[str]:
        return sorted({t.lower() for t in _RAW_REF.findall(_COMMENT.sub("", self.sql))})

    @property
    def params_read(self) -> list[str]:
        return sorted({t.lower() for t in _PARAMS_REF.findall(_COMMENT.sub("", self.sql))})


def discover(pipelines: Path) -> list[Model]:
    """Every model, in an order where each comes after what it reads."""
    models: dict[str, Model] = {}
    for layer in MODEL_LAYERS:
        folder = pipelines / layer
        if not folder.is_dir():
            continue
        docs = _read_docs(folder)
        for path in sorted(folder.glob("*.sql")):
            sql = path.read_text(encoding="utf-8").strip().rstrip(";").strip()
            refs = {f"{a.lower()}.{b.lower()}" for a, b in _REF.findall(_COMMENT.sub("", sql))}
            doc = docs.get(path.stem, {})
            model = Model(layer, path.stem, path, sql, refs,
                          (doc.get("description") or "").strip(),
                          {c["name"]: (c.get("description") or "").strip() for c in doc.get("columns", [])},
                          doc.get("meta") or {})
            models[model.table] = model
    for model in models.values():
        model.depends_on.discard(model.table)
        unknown = sorted(model.depends_on - models.keys())
        if unknown:
            raise InsynError(f"{model.path}: reads {', '.join(unknown)}, which no model defines")
    for model in models.values():
        if model.incremental:
            _check_incremental(model, models)
    ordered: list[Model] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise InsynError(f"models depend on each other in a cycle: {' -> '.join(chain + (name,))}")
        state[name] = 1
        for dep in sorted(models[name].depends_on):
            visit(dep, chain + (name,))
        state[name] = 2
        ordered.append(models[name])

    for name in sorted(models):
        visit(name, ())
    for model in ordered:   # upstream first
        if model.incremental:
            model.lineage_raw = sorted(set(model.raw_tables).union(
                *(models[dep].lineage_raw for dep in model.depends_on)))
    return ordered


def _check_incremental(model: Model, models: dict[str, Model]) -> None:
    """An incremental model can be extended file by file only if it reads raw files, other
    incremental models and the policy's params, never the as-of (params.run) or a model computed
    anew at every build, and says which files."""
    text = _COMMENT.sub("", model.sql)
    whole = sorted(dep for dep in model.depends_on if not models[dep].incremental)
    if whole or _AUDIT_REF.search(text) or set(model.params_read) & AS_OF_PARAMS:
        raise InsynError(f"{model.path}: an incremental model reads only raw tables, incremental models and "
                         f"params that do not depend on the as-of (not params.{', params.'.join(sorted(AS_OF_PARAMS))}"
                         f"{', not ' + ', '.join(whole) if whole else ''}): it is extended file by file, "
                         "whatever the as-of")
    if INCREMENT not in model.params_read or not (model.raw_tables or model.depends_on):
        raise InsynError(f"{model.path}: an incremental model reads raw files after "
                         f"params.{INCREMENT}.after_file_id (only the new files on an increment)")


def _read_docs(folder: Path) -> dict[str, dict]:
    path = folder / "_models.yml"
    if not path.exists():
        return {}
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    except yaml.YAMLError as exc:
        raise InsynError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    # `shared_columns`: columns every model of the folder has (the rules' facts), described once
    shared = [c for c in doc.get("shared_columns", []) if isinstance(c, dict) and "name" in c]
    models = {m["name"]: m for m in doc.get("models", []) if isinstance(m, dict) and "name" in m}
    for m in models.values():
        own = {c.get("name") for c in m.get("columns", []) if isinstance(c, dict)}
        m["columns"] = [*m.get("columns", []), *(c for c in shared if c["name"] not in own)]
    return models


def sql_literal(text: str) -> str:
    """A string literal for DDL that takes no parameters (COMMENT ON)."""
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------- parameters


@dataclass
class ParamTable:
    """One table of run parameters: the same rows reach DuckDB and Spark."""
    name: str                        # params.<name>
    columns: list[tuple[str, str]]   # (column, DuckDB type)
    rows: list[tuple]
    description: str = ""


def _typed(value) -> str:
    return ("TIMESTAMP" if isinstance(value, dt.datetime) else "DATE" if isinstance(value, dt.date)
            else "BOOLEAN" if isinstance(value, bool) else "INTEGER" if isinstance(value, int) else "VARCHAR")


def param_tables(policy: Policy, as_of: dt.date, erasures: Erasures | None = None) -> list[ParamTable]:
    """The run's as-of date, the policy's values, the calendar, the policy text and the
    ledger's erasures (hashed), as tables models join (no $parameters in models)."""
    t = policy.transfer
    run = {
        "as_of": as_of,
        "retention_inactive_months": policy.retention_inactive_months,
        "first_mailing_days": policy.first_mailing_days,
        "dsar_policy_target_days": policy.dsar_policy_target_days,
        "dsar_legal_deadline_months": policy.dsar_legal_deadline_months,
        "dsar_extended_deadline_months": policy.dsar_extended_deadline_months,
        "dsar_free_access_interval_months": policy.dsar_free_access_interval_months,
        "weblog_retention_months": policy.weblog_retention_months,
        "weblog_horizon_timezone": policy.weblog_horizon_timezone,
        "policy_review_interval_months": policy.review_interval_months,
        "policy_last_reviewed_on": policy.last_reviewed_on,
        "optout_history_field": policy.optout_history_field,
        "lawful_basis_contact_field": policy.lawful_basis_fields["contact"],
        "lawful_basis_lead_field": policy.lawful_basis_fields["lead"],
        "privacy_shield_invalid_from": t["privacy_shield_invalid_from"],
        "old_scc_valid_until": t["old_scc_valid_until"],
        "dpf_adequacy_from": t["dpf_adequacy_from"],
        "dpf_country": t["dpf_country"],
        "policy_sha256": policy.sha256,                # policy.toml
        "policy_text_sha256": policy.text_sha256,      # the text the policy.* rules read
        "policy_text_found": policy.text_path.exists(),
        "weblog_horizon_at": weblog_horizon(policy, as_of),
    }
    lists = {
        "non_dialogue_task_subtypes": policy.non_dialogue_task_subtypes,
        "consent_values": [v.lower() for v in policy.consent_values],
        "optout_history_true_values": [v.lower() for v in policy.optout_history_true_values],
        "eea_countries": t["eea_countries"],
        "adequacy_countries": t["adequacy_countries"],
        "transfer_mechanisms": t["mechanisms"],
        **{f"{k}_events": v for k, v in policy.email_events.items()},
        **{f"{k}_categories": v for k, v in policy.email_categories.items()},
    }
    erasures = erasures or Erasures.none()
    V = "VARCHAR"
    return [
        ParamTable("run", [(k, _typed(v)) for k, v in run.items()], [tuple(run.values())]),
        ParamTable("value_lists", [("list_name", V), ("value", V)],
                   [(name, v) for name, values in lists.items() for v in values]),
        ParamTable("lead_source_classes", [("lead_source_key", V), ("contact_origin", V)],
                   [(squish(v), origin) for origin, values in policy.lead_source_classes.items() for v in values]),
        ParamTable("request_types", [("label_key", V), ("request_type", V)],
                   [(trim(v).lower(), k) for k, values in policy.request_types.items() for v in values]),
        ParamTable("outcomes", [("label_key", V), ("outcome", V)],
                   [(trim(v).lower(), k) for k, values in policy.outcomes.items() for v in values]),
        ParamTable("outdated_references", [("pattern", V), ("why", V)],
                   [(r.pattern, r.why) for r in policy.outdated_references]),
        ParamTable("policy_date_markers", [("marker", V)], [(m,) for m in policy.policy_date_markers]),
        ParamTable("calendar", [("day", "DATE"), ("is_working_day", "BOOLEAN"), ("holiday_name", V)],
                   calendar_rows(policy, as_of)),
        ParamTable("policy_text_lines", [("file", V), ("line_no", "INTEGER"), ("line", V)],
                   policy_text_rows(policy)),
        ParamTable("erasure_ledger", [("entry_id", V), ("request_id", V), ("erased_on", "DATE"), ("email_hash", V)],
                   [(e.entry_id, e.request_id, dt.date.fromisoformat(e.erased_on), e.email_sha256)
                    for e in erasures.entries],
                   "Erasures recorded by `insyn dsar erase` in the workbench's ledger (dsar-ledger.jsonl "
                   "in the warehouse's own folder beside it, <warehouse>.d/): entry, the request it carries out, its date, and the salted "
                   "SHA-256 of the person's normalised address (the suppression list)."),
        ParamTable(INCREMENT, [("after_file_id", "BIGINT"), ("through_file_id", "BIGINT")], [(0, NO_LAST_FILE)],
                   "The files an incremental model reads: those after after_file_id, up to through_file_id. "
                   "Every file (0 and the largest BIGINT) except while `insyn build` makes a model: then the "
                   "files loaded since its last build, up to the last its models cover."),
        ParamTable("erasure_ledger_ids", [("entry_id", V), ("id_hash", V)],
                   [(e.entry_id, h) for e in erasures.entries for h in e.crm_id_sha256],
                   "The salted SHA-256 of each 15-character CRM id of a ledger erasure's person."),
    ]


def write_params(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: dt.date,
                 erasures: Erasures | None = None, tables: list[ParamTable] | None = None) -> None:
    """The parameter tables (`tables`, default param_tables), in DuckDB. The salt goes to a
    temporary table of this connection only: it never enters the file."""
    for table in tables if tables is not None else param_tables(policy, as_of, erasures):
        name = f"params.{ident(table.name)}"
        con.execute(f"create or replace table {name} ("
                    + ", ".join(f"{ident(c)} {typ}" for c, typ in table.columns) + ")")
        insert_rows(con, name, [c for c, _ in table.columns], table.rows)
        if table.description:
            con.execute(f"comment on table {name} is {sql_literal(table.description)}")
    con.execute("create or replace temp table erasure_salt as select cast($salt as varchar) as salt",
                {"salt": (erasures or Erasures.none()).salt})


def calendar_rows(policy: Policy, as_of: dt.date) -> list[tuple]:
    """Every day around the as-of, and whether it is a working day (not a weekend
    day, a public holiday of the policy's country, or an extra day)."""
    import holidays

    if outside_years(as_of):   # the CLI refuses such a date; an as-of derived from data may not be
        raise InsynError(f"as-of {outside_years(as_of)}")
    first = dt.date(as_of.year - 10, 1, 1)
    last = dt.date(as_of.year + 2, 12, 31)
    public = holidays.country_holidays(policy.holiday_country, years=range(first.year, last.year + 1))
    extra = set(policy.extra_non_working_days)
    weekend = {WEEKDAYS.index(d) for d in policy.weekend_days}
    rows = []
    day = first
    while day <= last:
        name = public.get(day)
        rows.append((day, day.weekday() not in weekend and name is None and day not in extra, name))
        day += dt.timedelta(days=1)
    return rows


def policy_text_rows(policy: Policy) -> list[tuple]:
    """The policy text the policy.* rules read, line by line."""
    path = policy.text_path
    if not path.exists():
        return []
    try:
        name = str(path.resolve().relative_to(policy.path.parent.resolve()))
    except ValueError:
        name = str(path)
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    return [(name, i, line) for i, line in enumerate(text.splitlines(), start=1)]


def weblog_horizon(policy: Policy, as_of: dt.date) -> dt.datetime:
    """Midnight (in the policy's zone) of as-of minus the log retention, as naive UTC."""
    from zoneinfo import ZoneInfo

    day = add_months(as_of, -policy.weblog_retention_months)
    local = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(policy.weblog_horizon_timezone))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def macro_statements(path: Path) -> list[str]:
    """The statements of pipelines/macros.sql, comments removed."""
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    return [s.strip() for s in text.split(";") if s.strip()]


def create_macros(con: duckdb.DuckDBPyConnection, pipelines: Path) -> None:
    """The shared SQL helpers (pipelines/macros.sql), one statement each."""
    for statement in macro_statements(pipelines / "macros.sql"):
        con.execute(statement)


# ---------------------------------------------------------------- running


def build(con: duckdb.DuckDBPyConnection, *, pipelines: Path, sources: Sources, policy: Policy,
          as_of: dt.date, layers: tuple[str, ...] = MODEL_LAYERS, erasures: Erasures | None = None,
          progress=None, results=None, prepare=None, locale: Path | None = None, full: bool = False) -> list[Model]:
    """Rebuild the models of `layers` (default all) for `as_of`, in one transaction.

    Incremental models get the rows of the files loaded since the last build (see the module's
    doc); `full` computes every model anew. `erasures` (the ledger's, with the salt) let
    erasure.not_executed recognise erased people by their salted hashes; without it the rule
    reads the register only. `results(model)`, when given, is the model's rows as another engine
    computed them (an Arrow table or dataset): they are copied in instead of running the SQL here
    (always in full); `prepare(con)` runs first, in the same transaction. `locale` holds the
    catalogs the rule titles and details come from (default: the workbench's, beside `pipelines`)."""
    from . import findings

    every_model = discover(pipelines)
    models = [m for m in every_model if m.layer in layers]
    specs = findings.rule_specs(every_model)
    findings.check_needs(specs, set(sources.names()))
    say = progress or (lambda msg: None)
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with transaction(con):
        ensure_schema(con, sources)
        if prepare is not None:
            prepare(con)
        create_macros(con, pipelines)
        tables = param_tables(policy, as_of, erasures)
        write_params(con, policy, as_of, erasures, tables)
        run_id = con.execute("select coalesce(max(run_id), 0) + 1 from audit.runs").fetchone()[0]
        # a rule whose sources were never loaded is not run: its table stays empty, and it is
        # reported as not evaluated (audit.not_evaluated), never as passed
        unmet = findings.unmet(specs, findings.available_sources(con, as_of, sources, policy.text_path),
                               as_of, policy.text_path)
        not_run = {f"{RULE_LAYER}.{e['table']}" for e in unmet}
        through = con.execute("select coalesce(max(file_id), 0) from audit.files").fetchone()[0]
        definitions = _definitions(con, models, pipelines, tables)
        for n, model in enumerate(models, start=1):
            step = plan_step(con, model, definitions.get(model.table), through,
                             full=full or results is not None or model.table in not_run)
            say(f"[{n}/{len(models)}] {model.table}" + (" (not evaluated)" if model.table in not_run else "")
                + (f" ({step.how}: {step.reason})" if model.incremental else ""))
            try:
                added = _materialize(con, model, results, empty=model.table in not_run, step=step)
            except duckdb.Error as exc:
                raise InsynError(f"{model.path}: {str(exc).splitlines()[0]}") from None
            _record_step(con, run_id, model, step, added)
            _document(con, model)
        con.execute(f"update params.{INCREMENT} set after_file_id = 0, through_file_id = $n",   # a model's SQL
                    {"n": NO_LAST_FILE})                                                          # by hand: every file
        _write_docs_tables(con, models)
        _write_rule_catalog(con, specs, locale or workbench_locale(pipelines.parent), unmet)
        con.execute(
            "insert into audit.runs values ($id, 'build', $as_of, $started, $finished, 'ok', $n)",
            {"id": run_id, "as_of": as_of, "started": started,
             "finished": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "n": len(models)},
        )
    return models


# ---------------------------------------------------------------- incremental models


@dataclass
class Step:
    """How a build makes one model: 'full', 'increment' (the files after `after_file_id`) or
    'unchanged'; `through_file_id` is the last file it then covers."""
    how: str
    reason: str
    after_file_id: int
    through_file_id: int
    definition: str | None


def _definitions(con: duckdb.DuckDBPyConnection, models: list[Model], pipelines: Path,
                 tables: list[ParamTable]) -> dict[str, str]:
    """Each incremental model's definition: a hash of what its rows follow from besides the raw
    rows (its SQL, the macros, the params it reads, its raw tables' columns, DuckDB's version)."""
    macros = (pipelines / "macros.sql").read_text(encoding="utf-8")
    params = {t.name: t for t in tables}
    out = {}
    for model in (m for m in models if m.incremental):
        columns = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'raw' "
            "and table_name in (select unnest($t)) order by table_name, column_index",
            {"t": model.lineage_raw}).fetchall()
        read = [(name, params[name].columns, params[name].rows) for name in model.params_read
                if name != INCREMENT and name in params]
        # DuckDB's version too: a function's answer may change with it
        text = json.dumps([model.sql, macros, read, columns, duckdb.__version__], default=str, ensure_ascii=False)
        out[model.table] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return out


def _raw_rows(con: duckdb.DuckDBPyConnection, model: Model, through: int) -> int:
    """The rows of the raw tables the model reads (directly or through its models) in files up to
    `through`: rows only ever leave old files (an erasure, a purge), so a count lower than the last
    build's means some did."""
    return sum(con.execute(f"select count(*) from raw.{ident(t)} where _file_id <= $f", {"f": through}).fetchone()[0]
               for t in model.lineage_raw)


def plan_step(con: duckdb.DuckDBPyConnection, model: Model, definition: str | None, through: int,
              full: bool) -> Step:
    """Whether `model` is computed anew, extended with the files after the last build's, or kept."""
    if not model.incremental:
        return Step("full", "not incremental", 0, through, None)
    upstream = []
    if model.depends_on:
        # the models it reads (incremental too): their latest full computation, and the files they cover;
        # it never covers more files than they do (a build of some layers may leave them behind)
        upstream = con.execute(
            "select table_name, max(case when how = 'full' then run_id end), arg_max(through_file_id, run_id) "
            "from audit.model_builds where table_name in (select unnest($t)) group by table_name",
            {"t": sorted(model.depends_on)}).fetchall()
        through = min([through, *(up_to for _, _, up_to in upstream)])
    if full:
        return Step("full", "a full build", 0, through, definition)
    last = con.execute(
        "select run_id, through_file_id, raw_rows, definition_sha256 from audit.model_builds "
        "where table_name = $t order by run_id desc limit 1", {"t": model.table}).fetchone()
    if last is None or not table_exists(con, model.layer, model.name):
        return Step("full", "never built", 0, through, definition)
    built_in, covered, raw_rows, built_with = last
    if built_with != definition:
        return Step("full", "its definition changed (SQL, macros, policy values or raw columns)", 0, through,
                    definition)
    if len(upstream) < len(model.depends_on) or any((full_in or 0) > built_in for _, full_in, _ in upstream):
        return Step("full", "a model it reads was computed anew", 0, through, definition)
    if through < covered:
        return Step("full", "the models it reads cover fewer files than it does", 0, through, definition)
    if _raw_rows(con, model, covered) != raw_rows:
        return Step("full", "rows were removed from its raw tables (an erasure or a purge)", 0, through,
                    definition)
    if through == covered or _raw_rows(con, model, through) == raw_rows:
        return Step("unchanged", "no rows of its sources loaded since", covered, through, definition)
    return Step("increment", f"the files after file {covered}", covered, through, definition)


def _record_step(con: duckdb.DuckDBPyConnection, run_id: int, model: Model, step: Step, added: int | None) -> None:
    con.execute(
        "insert into audit.model_builds values ($run, $table, $how, $reason, $after, $through, $raw, $added, $def)",
        {"run": run_id, "table": model.table, "how": step.how, "reason": step.reason, "after": step.after_file_id,
         "through": step.through_file_id,
         "raw": _raw_rows(con, model, step.through_file_id) if model.incremental else None,
         "added": added, "def": step.definition})


def _materialize(con: duckdb.DuckDBPyConnection, model: Model, results, empty: bool = False,
                 step: Step | None = None) -> int | None:
    """The model's table; `empty`: its columns only (a rule not run). On an increment, the new
    files' rows are added; the rows added (None when computed anew)."""
    table = f"{ident(model.layer)}.{ident(model.name)}"
    none = " limit 0" if empty else ""
    if results is None:
        if step is not None and step.how == "unchanged":
            return 0
        if model.incremental:
            con.execute(f"update params.{INCREMENT} set after_file_id = $f, through_file_id = $t",
                        {"f": step.after_file_id if step else 0, "t": step.through_file_id if step else NO_LAST_FILE})
        if step is not None and step.how == "increment":
            return con.execute(f"insert into {table} select * from ({model.sql}) as model_rows").fetchone()[0]
        sql = f"select * from ({model.sql}) as model_rows{none}" if empty else model.sql
        con.execute(f"create or replace table {table} as {sql}")
        return None
    con.register("insyn_model_rows", results(model))
    try:
        con.execute(f"create or replace table {table} as select * from insyn_model_rows{none}")
    finally:
        con.unregister("insyn_model_rows")
    return None


def _document(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    table = f"{ident(model.layer)}.{ident(model.name)}"
    if model.description:
        con.execute(f"comment on table {table} is {sql_literal(model.description)}")
    existing = {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = $s and table_name = $t",
        {"s": model.layer, "t": model.name}).fetchall()}
    for column, text in model.columns.items():
        if column in existing and text:
            con.execute(f"comment on column {table}.{ident(column)} is {sql_literal(text)}")


def _write_rule_catalog(con: duckdb.DuckDBPyConnection, specs: list[dict], locale: Path,
                        unmet: list[dict]) -> None:
    """params.rules, audit.current_findings and audit.not_evaluated (findings.write_tables): the
    titles and the English details come from the catalogs in `locale`."""
    from . import findings

    if con.execute("select count(*) from duckdb_views() where schema_name = 'audit' "
                   "and view_name = 'current_findings'").fetchone()[0]:
        con.execute("drop view audit.current_findings")   # a warehouse built before the findings had facts
    findings.write_tables(con, specs, locale, unmet)


def _write_docs_tables(con: duckdb.DuckDBPyConnection, models: list[Model]) -> None:
    """audit.model_docs and audit.column_docs: the data dictionary as tables."""
    con.execute("create or replace table audit.model_docs (table_schema varchar, table_name varchar, "
                "description varchar, source_file varchar, depends_on varchar)")
    insert_rows(con, "audit.model_docs", ["table_schema", "table_name", "description", "source_file", "depends_on"],
                [(m.layer, m.name, m.description, f"{m.layer}/{m.path.name}", ", ".join(sorted(m.depends_on)))
                 for m in models])
    con.execute("create or replace table audit.column_docs (table_schema varchar, table_name varchar, "
                "column_name varchar, data_type varchar, description varchar)")
    rows = []
    for m in models:
        for name, typ in con.execute(
            "select column_name, data_type from duckdb_columns() where schema_name = $s and table_name = $t "
            "order by column_index", {"s": m.layer, "t": m.name}).fetchall():
            rows.append((m.layer, m.name, name, typ, m.columns.get(name, "")))
    insert_rows(con, "audit.column_docs", ["table_schema", "table_name", "column_name", "data_type", "description"],
                rows)
