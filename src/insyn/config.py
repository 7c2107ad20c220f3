"""The workbench config (insyn.toml) and the policy file (policy.toml).

Both are validated at start-up; an error names the file and the key. Every
number, value list and name the rules use comes from the policy file.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError, InsynError

WORKBENCH_FILE = "insyn.toml"
DB_ENV = "INSYN_DB"
WORKBENCH_ENV = "INSYN_WORKBENCH"

# Canonical register keys: the staging model reads these names. Their labels
# in the register (Swedish and English) come from the policy file.
REGISTER_KEYS = (
    "request_id", "received", "channel", "name", "email", "crm_id", "request_type",
    "identity_verified", "verification_method", "extension_notified", "extension_reason",
    "answered", "closed", "outcome", "fee", "handler", "notes",
)
OUTCOME_KEYS = ("done", "refused", "partly_done")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def read_toml(path: Path) -> dict:
    """A TOML file of the workbench (insyn.toml, policy.toml, sources.toml, a template's texts);
    a missing file or a syntax error is an error naming the file (and the line), exit 2."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "(encoding)", f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", str(exc)) from None
    except RecursionError:
        raise ConfigError(str(path), "(syntax)", "nested too deeply") from None


class _Reader:
    """Typed access to a TOML document; errors name the file and dotted key."""

    def __init__(self, doc: dict, file: str):
        self.doc = doc
        self.file = file

    def _get(self, key: str, default: Any = ...) -> Any:
        node: Any = self.doc
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is not ...:
                    return default
                raise ConfigError(self.file, key, "missing")
            node = node[part]
        return node

    def fail(self, key: str, problem: str):
        raise ConfigError(self.file, key, problem)

    def str(self, key: str, default: Any = ...) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "expected a non-empty string")
        return value

    def positive_int(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(key, "expected a positive whole number")
        return value

    def date(self, key: str) -> dt.date:
        value = self._get(key)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            self.fail(key, "expected a date such as 2025-01-31 (unquoted)")
        return value

    def str_list(self, key: str, *, allow_empty: bool = False) -> list[str]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, "expected a list of non-empty strings")
        if not value and not allow_empty:
            self.fail(key, "expected at least one value")
        return value

    def date_list(self, key: str) -> list[dt.date]:
        value = self._get(key)
        if not isinstance(value, list) or not all(
            isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in value
        ):
            self.fail(key, "expected a list of dates")
        return value

    def table(self, key: str) -> dict:
        value = self._get(key)
        if not isinstance(value, dict):
            self.fail(key, "expected a table")
        return value

    def timezone(self, key: str) -> str:
        name = self.str(key)
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(key, "not a known time zone name")
        return name

    def list_table(self, key: str, required: tuple[str, ...] = ()) -> dict[str, list[str]]:
        table = self.table(key)
        out = {}
        for name in table:
            out[name] = self.str_list(f"{key}.{name}")
        for name in required:
            if name not in out:
                self.fail(f"{key}.{name}", "missing")
        return out


@dataclass(frozen=True)
class OutdatedReference:
    pattern: str
    why: str


@dataclass(frozen=True)
class Policy:
    """The policy file, validated. Attribute names say what the value is for."""

    path: Path
    name: str
    text_path: Path
    last_reviewed_on: dt.date
    review_interval_months: int
    date_timezone: str
    retention_inactive_months: int
    non_dialogue_task_subtypes: list[str]
    lead_source_classes: dict[str, list[str]]
    email_categories: dict[str, list[str]]
    email_events: dict[str, list[str]]
    first_mailing_days: int
    optout_history_field: str
    optout_history_true_values: list[str]
    dsar_policy_target_days: int
    dsar_legal_deadline_months: int
    dsar_extended_deadline_months: int
    dsar_free_access_interval_months: int
    holiday_country: str
    weekend_days: list[str]
    extra_non_working_days: list[dt.date]
    request_types: dict[str, list[str]]
    outcomes: dict[str, list[str]]
    register_columns: dict[str, list[str]]
    register_required: list[str]
    weblog_retention_months: int
    weblog_horizon_timezone: str
    lawful_basis_fields: dict[str, str]
    consent_values: list[str]
    transfer: dict[str, Any]
    outdated_references: list[OutdatedReference]
    policy_date_markers: list[str]
    sha256: str = field(default="", compare=False)   # of policy.toml itself

    @property
    def text_sha256(self) -> str:
        """SHA-256 of the policy text the policy.* rules read (text_path), "" when it is missing."""
        import hashlib

        try:
            return hashlib.sha256(self.text_path.read_bytes()).hexdigest()
        except OSError:
            return ""

    @classmethod
    def load(cls, path: Path) -> "Policy":
        import hashlib

        data = path.read_bytes() if path.exists() else None
        r = _Reader(read_toml(path), str(path))
        if r.str("dates.date_timezone") != "UTC":
            # Loaders store UTC; a date in another zone needs engine-specific SQL.
            r.fail("dates.date_timezone", "only UTC is supported")
        weekend = r.str_list("dsar.weekend_days", allow_empty=True)
        for day in weekend:
            if day.lower() not in WEEKDAYS:
                r.fail("dsar.weekend_days", f"not a weekday name: {day}")
        register_columns = r.list_table("dsar.register_columns", REGISTER_KEYS)
        for key in register_columns:
            if key not in REGISTER_KEYS:
                r.fail(f"dsar.register_columns.{key}", "not a register column this version knows")
        register_required = r.str_list("dsar.register_required.columns")
        for key in register_required:
            if key not in REGISTER_KEYS:
                r.fail("dsar.register_required.columns", f"unknown register column key: {key}")
        refs = r._get("policy_text.outdated_references")
        if not isinstance(refs, list) or not refs:
            r.fail("policy_text.outdated_references", "expected a list of [[tables]]")
        outdated = []
        for i, ref in enumerate(refs):
            ref_reader = _Reader(ref if isinstance(ref, dict) else {}, str(path))
            try:
                outdated.append(OutdatedReference(ref_reader.str("pattern"), ref_reader.str("why")))
            except ConfigError as exc:
                r.fail(f"policy_text.outdated_references[{i}].{exc.key}", "missing or not a string")
        mechanisms = r.str_list("transfer.mechanisms")
        transfer = {
            "mechanisms": mechanisms,
            "privacy_shield_invalid_from": r.date("transfer.privacy_shield_invalid_from"),
            "old_scc_valid_until": r.date("transfer.old_scc_valid_until"),
            "dpf_adequacy_from": r.date("transfer.dpf_adequacy_from"),
            "dpf_country": r.str("transfer.dpf_country"),
            "eea_countries": r.str_list("transfer.eea_countries"),
            "adequacy_countries": r.str_list("transfer.adequacy_countries", allow_empty=True),
        }
        for key in ("eea_countries", "adequacy_countries"):
            if any(len(c) != 2 or not c.isalpha() or not c.isupper() for c in transfer[key]):
                r.fail(f"transfer.{key}", "expected ISO 3166 two-letter upper-case codes")
        return cls(
            path=path,
            name=r.str("policy.name"),
            text_path=(path.parent / r.str("policy.text_path")),
            last_reviewed_on=r.date("policy.last_reviewed_on"),
            review_interval_months=r.positive_int("policy.review_interval_months"),
            date_timezone=r.timezone("dates.date_timezone"),
            retention_inactive_months=r.positive_int("retention.company_initiated_inactive_months"),
            non_dialogue_task_subtypes=r.str_list("retention.non_dialogue_task_subtypes", allow_empty=True),
            lead_source_classes={
                "company_initiated": r.str_list("lead_source.company_initiated"),
                "self_initiated": r.str_list("lead_source.self_initiated"),
            },
            email_categories={
                "marketing": r.str_list("email.marketing_categories"),
                "first_notice": r.str_list("email.first_notice_categories"),
                "transactional": r.str_list("email.transactional_categories", allow_empty=True),
            },
            email_events={
                "delivered": r.str_list("email.delivered_events"),
                "optout": r.str_list("email.optout_events"),
                "group_optout": r.str_list("email.group_optout_events"),
                "group_resubscribe": r.str_list("email.group_resubscribe_events"),
            },
            first_mailing_days=r.positive_int("notice.first_mailing_days"),
            optout_history_field=r.str("crm.optout_history_field"),
            optout_history_true_values=r.str_list("crm.optout_history_true_values"),
            dsar_policy_target_days=r.positive_int("dsar.policy_target_days"),
            dsar_legal_deadline_months=r.positive_int("dsar.legal_deadline_months"),
            dsar_extended_deadline_months=r.positive_int("dsar.extended_deadline_months"),
            dsar_free_access_interval_months=r.positive_int("dsar.free_access_interval_months"),
            holiday_country=r.str("dsar.holiday_country"),
            weekend_days=[d.lower() for d in weekend],
            extra_non_working_days=r.date_list("dsar.extra_non_working_days"),
            request_types=r.list_table("dsar.request_types"),
            outcomes=r.list_table("dsar.outcomes", OUTCOME_KEYS),
            register_columns=register_columns,
            register_required=register_required,
            weblog_retention_months=r.positive_int("weblog.retention_months"),
            weblog_horizon_timezone=r.timezone("weblog.horizon_timezone"),
            lawful_basis_fields={
                "contact": r.str("lawful_basis.contact_field"),
                "lead": r.str("lawful_basis.lead_field"),
            },
            consent_values=r.str_list("lawful_basis.consent_values"),
            transfer=transfer,
            outdated_references=outdated,
            policy_date_markers=r.str_list("policy_text.date_markers"),
            sha256=hashlib.sha256(data).hexdigest() if data else "",
        )


# DuckDB settings an installation may fix (a big warehouse on a small machine: a
# memory limit, and a folder to spill to).
DUCKDB_SETTINGS = {"memory_limit", "threads", "temp_directory"}
ENGINES = ("duckdb", "spark")
# What `insyn purge` deletes by age, in days ([retention] in insyn.toml): the access log's
# entries, access reports produced, and the deletion-task files of erasures.
RETENTION_KEYS = ("access_log_days", "reports_days", "deletion_tasks_days")
ENGINE_ENV = "INSYN_ENGINE"
LAKE_ENV = "INSYN_LAKE"


@dataclass(frozen=True)
class Settings:
    """insyn.toml: where things are, and the settings of this installation (the application
    object built on them is workbench.Workbench)."""

    root: Path
    language: str
    policy_file: Path
    pipelines: Path
    expectations: Path
    warehouse: Path
    demo_warehouse: Path
    inbox: Path
    sample: Path
    audit_packs: Path
    secrets: Path
    templates: Path
    ignore: list[str]
    schedule: dict[str, Any]
    bulk_min_bytes: int | None = 8 << 20   # [load]: CSV/JSON-lines files this big are read by DuckDB itself
    duckdb: dict = field(default_factory=dict)   # [duckdb]: memory_limit, threads, temp_directory
    engine: str = "duckdb"                       # [engine] name: where the models run
    lake: str | None = None                      # [engine] lake: the raw layer's Parquet (with Spark)
    spark: dict = field(default_factory=dict)    # [spark]: master or remote, and conf
    dashboard: dict = field(default_factory=dict)  # [dashboard]: allowed_hosts, trusted_proxies (lists)
    snapshot_months: int | None = None           # [purge]: raw snapshots kept this long (None: for ever)
    retention: dict = field(default_factory=dict)  # [retention]: days kept of RETENTION_KEYS (absent: for ever)

    @classmethod
    def load(cls, root: Path) -> "Settings":
        path = root / WORKBENCH_FILE
        if not path.exists():
            raise ConfigError(str(path), "(file)", "not found: run insyn in a workbench folder or pass --workbench DIR")
        r = _Reader(read_toml(path), str(path))
        language = r.str("workbench.language")
        if language not in ("sv", "en"):
            r.fail("workbench.language", "expected 'sv' or 'en'")

        def p(key: str) -> Path:
            return (root / r.str(key)).resolve()

        schedule = r._get("schedule", {})
        if not isinstance(schedule, dict):
            r.fail("schedule", "expected a table")
        ignore = r._get("load.ignore", [])
        if not isinstance(ignore, list) or not all(isinstance(x, str) for x in ignore):
            r.fail("load.ignore", "expected a list of file-name patterns")
        bulk_min_bytes = r._get("load.bulk_min_bytes", 8 << 20)
        if bulk_min_bytes is False:
            bulk_min_bytes = None   # every file through the Python readers
        elif isinstance(bulk_min_bytes, bool) or not isinstance(bulk_min_bytes, int) or bulk_min_bytes < 0:
            r.fail("load.bulk_min_bytes", "expected a number of bytes (0 or more), or false")
        settings = r._get("duckdb", {})
        if not isinstance(settings, dict) or not set(settings) <= DUCKDB_SETTINGS:
            r.fail("duckdb", f"expected a table of {', '.join(sorted(DUCKDB_SETTINGS))}")
        dashboard_keys = ("allowed_hosts", "trusted_proxies")
        given = r._get("dashboard", {})
        if not isinstance(given, dict) or not set(given) <= set(dashboard_keys):
            # a misspelt trusted_proxies would put every client behind the proxy on one address
            r.fail("dashboard", f"expected a table of {', '.join(dashboard_keys)}")
        dashboard = {key: given.get(key, []) for key in dashboard_keys}
        for key, value in dashboard.items():
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                r.fail(f"dashboard.{key}", "expected a list of non-empty strings")
        engine = r._get("engine.name", "duckdb")
        if engine not in ENGINES:
            r.fail("engine.name", f"expected one of {', '.join(ENGINES)}")
        lake = r._get("engine.lake", None)
        if lake is not None and not isinstance(lake, str):
            r.fail("engine.lake", "expected a folder or an object-store URL")
        spark = r._get("spark", {})
        if not isinstance(spark, dict) or not set(spark) <= {"master", "remote", "conf"} or \
                not isinstance(spark.get("conf", {}), dict):
            r.fail("spark", "expected a table of master (local[N] or spark://…), remote (sc://…) and conf")
        snapshot_months = r._get("purge.snapshot_months", None)
        if snapshot_months is not None and (isinstance(snapshot_months, bool) or not isinstance(snapshot_months, int)
                                            or snapshot_months < 1):
            r.fail("purge.snapshot_months", "expected a number of months (1 or more)")
        retention = r._get("retention", {})
        if not isinstance(retention, dict):
            r.fail("retention", "expected a table")
        for key, value in retention.items():
            if key not in RETENTION_KEYS:
                r.fail(f"retention.{key}", f"not a setting this version knows ({', '.join(RETENTION_KEYS)})")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                r.fail(f"retention.{key}", "expected a number of days (1 or more)")
        return cls(
            root=root.resolve(),
            language=language,
            policy_file=p("workbench.policy"),
            pipelines=p("workbench.pipelines"),
            expectations=p("workbench.expectations"),
            warehouse=p("workbench.warehouse"),
            demo_warehouse=p("workbench.demo_warehouse"),
            inbox=p("workbench.inbox"),
            sample=p("workbench.sample"),
            audit_packs=p("workbench.audit_packs"),
            secrets=(root / r.str("workbench.secrets", "data/secrets")).resolve(),
            templates=(root / r.str("workbench.templates", "templates")).resolve(),
            ignore=ignore,
            schedule=schedule,
            bulk_min_bytes=bulk_min_bytes,
            duckdb={k: (str((root / v).resolve()) if k == "temp_directory" else v) for k, v in settings.items()},
            engine=engine,
            lake=_location(root, lake) if lake else None,
            spark=spark,
            dashboard=dashboard,
            snapshot_months=snapshot_months,
            retention=dict(retention),
        )

    def database(self, override: str | None = None) -> Path:
        """--db, else $INSYN_DB, else the configured warehouse."""
        chosen = override or os.environ.get(DB_ENV)
        return Path(chosen).resolve() if chosen else self.warehouse

    def policy(self) -> Policy:
        return Policy.load(self.policy_file)

    def choose_engine(self, engine: str | None = None, lake: str | None = None) -> tuple[str, str | None]:
        """--engine/--lake, else $INSYN_ENGINE/$INSYN_LAKE, else [engine] in insyn.toml."""
        name = engine or os.environ.get(ENGINE_ENV) or self.engine
        if name not in ENGINES:
            raise InsynError(f"{'--engine' if engine else '$' + ENGINE_ENV}: expected one of "
                             f"{', '.join(ENGINES)}, not {name!r}")
        where = lake or os.environ.get(LAKE_ENV)
        where = _location(Path.cwd(), where) if where else self.lake
        return name, where   # engines.choose turns them into the engine (and refuses Spark without a lake)


def _location(base: Path, where: str) -> str:
    """A folder (relative to `base`) or an object-store URL (s3://, gs://, abfs://, hdfs://), as given."""
    if "://" in where and not where.startswith("file://"):
        return where
    return str((base / where.removeprefix("file://")).resolve())
