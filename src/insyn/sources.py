"""Source kinds (pipelines/sources.toml): everything Insyn knows about a kind, said once.

A kind says how a file of it is recognised and loaded, which columns name a
person (erasure purges by them, the access report gathers by them), what the
access report (GDPR art. 15) shows of it (category, fields and their labels by
message id, translated values, names of referenced records), and the deletion
task an erasure writes for its source system. The program holds no list of
kinds: a new one is a sources.toml entry, its staging model and its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import read_toml
from .errors import ConfigError
from .text import column_key
from .texts import PlaceholderError, placeholders

FORMATS = ("csv", "json", "log", "register")
KIND_KEYS = {"table", "format", "required", "any_of", "signature", "columns", "timestamps", "hints",
             "loader_columns", "person_email", "person_ids", "person_text", "person_ids_of_address",
             "keep_on_erasure", "status", "split", "access_report", "deletion", "same_as"}
LIST_KEYS = ("required", "any_of", "signature", "columns", "timestamps", "hints", "loader_columns",
             "person_email", "person_ids", "person_text", "person_ids_of_address")
# what a `same_as` kind may say of its own (the rest is its base's)
SAME_AS_KEYS = {"same_as", "hints", "signature", "status"}
REPORT_KEYS = {"category", "name", "shown_as", "layout", "fields", "values", "hide", "names", "person_name",
               "retention"}
REPORT_LAYOUTS = ("records", "table")
# how the report computes a category's retention (its words carry {months} and {due_on})
RETENTIONS = ("crm_clock", "log_age")
DELETION_KEYS = {"system", "object", "action", "per", "record_id", "found", "detail"}
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
_MSGID = re.compile(r"[\w.-]+")   # message ids: word characters, dots, dashes


@dataclass(frozen=True)
class NameOf:
    """Beside an id of another record, that record's name (e.g. the account of a contact)."""
    column: str        # the id column of this kind
    kind: str          # the kind the id refers to
    id_column: str     # its id column
    name_column: str   # its column holding the name
    shown_as: str      # the field the name is shown as


@dataclass(frozen=True)
class ReportSpec:
    """What the access report shows of a kind."""
    category: str                                   # the category of data (its words: the report's texts)
    name: str                                       # message id: the source's name above its records
    shown_as: str                                   # the source name in the report's JSON (kinds sharing a table share one)
    layout: str = "records"                         # records: a block per record; table: one table
    fields: tuple[tuple[str, str], ...] = ()        # (field, message id of its label), in the order shown
    values: dict = field(default_factory=dict)      # field -> {value: message id}
    hide: tuple[str, ...] = ()                      # fields the letter leaves out (the JSON copy keeps them)
    names: tuple[NameOf, ...] = ()
    person_name: tuple[str, ...] = ()               # fields that make the person's name (first, last)
    retention: str | None = None                    # how its category's retention date is computed

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.fields)


@dataclass(frozen=True)
class DeletionSpec:
    """The task an erasure writes for the source system (plain data in the system's own terms)."""
    system: str
    object: str            # may name the group: "audience member ({_status})"
    action: str
    per: str = "record"    # record (one task per record id) | file | person (one task) | a column
    record_id: tuple[str, ...] = ()   # the record's own id (the first non-blank of these)
    found: str = "export"  # the date shown: export (of the latest export holding it) | a column | none
    detail: str = ""       # may use {email} and {rows}


@dataclass(frozen=True)
class SourceKind:
    name: str                 # system.entity, as declared
    table: str                # raw table
    format: str               # csv | json | log | register
    required: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    signature: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    loader_columns: tuple[str, ...] = ()
    # how a row names a person, for erasure: an address, CRM ids, free text holding an address
    person_email: tuple[str, ...] = ()
    person_ids: tuple[str, ...] = ()
    person_text: tuple[str, ...] = ()
    # ids that stand for the person wherever the row's address is theirs (erasure follows them)
    person_ids_of_address: tuple[str, ...] = ()
    keep_on_erasure: bool = False  # the register: how a request was handled must stay provable
    status: str | None = None      # stored in _status (kinds sharing one table)
    split: tuple[str, str] | None = None   # (list column, child raw table): one child row per element
    report: ReportSpec | None = None
    deletion: DeletionSpec | None = None

    @property
    def declared_columns(self) -> list[str]:
        """Every column the raw table has from the start, in order."""
        out: list[str] = []
        for col in (*self.required, *self.columns, *self.any_of):
            key = column_key(col)
            if key not in out:
                out.append(key)
        return out

    @property
    def names_people(self) -> bool:
        return bool(self.person_email or self.person_ids or self.person_text)

    def missing_required(self, keys: set[str]) -> list[str]:
        return [c for c in self.required if column_key(c) not in keys]

    def matches(self, keys: set[str]) -> bool:
        if self.format not in ("csv", "register") or self.missing_required(keys):
            return False
        return not self.any_of or any(column_key(c) in keys for c in self.any_of)

    def score(self, keys: set[str]) -> int:
        wanted = {column_key(c) for c in (*self.required, *self.any_of, *self.signature)}
        return len(wanted & keys)


class _Reader:
    """Typed reads of one kind's entry; every problem names sources.toml, the kind and the key."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = str(path), name

    def fail(self, key: str, problem: str):
        raise ConfigError(self.path, f"[{self.name}] {key}", problem)

    def text(self, spec: dict, key: str, *, prefix: str = "", required: bool = True, default=None,
             pattern: re.Pattern | None = None) -> str | None:
        if key not in spec:
            if required:
                self.fail(prefix + key, "missing")
            return default
        value = spec[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(prefix + key, "expected a non-empty string")
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(prefix + key, f"{value!r} is not a valid name")
        return value

    def texts(self, spec: dict, key: str, *, prefix: str = "") -> tuple[str, ...]:
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(prefix + key, "expected a list of non-empty strings")
        return tuple(value)

    def only(self, spec: dict, allowed: set[str], prefix: str = "") -> None:
        unknown = sorted(set(spec) - allowed)
        if unknown:
            self.fail(prefix + unknown[0], f"unknown key (expected one of {', '.join(sorted(allowed))})")

    def table(self, spec: dict, key: str, prefix: str = "") -> dict:
        value = spec.get(key, {})
        if not isinstance(value, dict):
            self.fail(prefix + key, "expected a table")
        return value


def _report(r: _Reader, spec: dict, kind_name: str) -> ReportSpec:
    p = "access_report."
    r.only(spec, REPORT_KEYS, p)
    layout = r.text(spec, "layout", prefix=p, required=False, default="records")
    if layout not in REPORT_LAYOUTS:
        r.fail(p + "layout", f"expected one of {', '.join(REPORT_LAYOUTS)}")
    fields = r.table(spec, "fields", p)
    for col, msgid in fields.items():
        if column_key(col) != col.lstrip("_"):   # loader columns start with "_"
            r.fail(f"{p}fields.{col}", f"a field is named as stored: {column_key(col)!r}")
        r.text(fields, col, prefix=p + "fields.", pattern=_MSGID)
    if layout == "table" and not fields:
        r.fail(p + "fields", "a table layout needs its fields")
    values = {}
    for col, mapping in r.table(spec, "values", p).items():
        if not isinstance(mapping, dict):
            r.fail(f"{p}values.{col}", "expected a table of value = message id")
        for value in mapping:
            r.text(mapping, value, prefix=f"{p}values.{col}.", pattern=_MSGID)
        values[col] = dict(mapping)
    names = []
    for col, ref in r.table(spec, "names", p).items():
        if not isinstance(ref, dict):
            r.fail(f"{p}names.{col}", "expected {kind = ..., id = ..., column = ..., shown_as = ...}")
        r.only(ref, {"kind", "id", "column", "shown_as"}, f"{p}names.{col}.")
        names.append(NameOf(col, r.text(ref, "kind", prefix=f"{p}names.{col}."),
                            column_key(r.text(ref, "id", prefix=f"{p}names.{col}.")),
                            column_key(r.text(ref, "column", prefix=f"{p}names.{col}.")),
                            r.text(ref, "shown_as", prefix=f"{p}names.{col}.", pattern=_IDENT)))
    retention = r.text(spec, "retention", prefix=p, required=False)
    if retention is not None and retention not in RETENTIONS:
        r.fail(p + "retention", f"expected one of {', '.join(RETENTIONS)}")
    return ReportSpec(
        category=r.text(spec, "category", prefix=p, pattern=_IDENT),
        name=r.text(spec, "name", prefix=p, pattern=_MSGID),
        shown_as=r.text(spec, "shown_as", prefix=p, required=False, default=kind_name),
        layout=layout, fields=tuple(fields.items()), values=values,
        hide=tuple(column_key(c) for c in r.texts(spec, "hide", prefix=p)), names=tuple(names),
        person_name=tuple(column_key(c) for c in r.texts(spec, "person_name", prefix=p)), retention=retention)


def _deletion(r: _Reader, spec: dict) -> DeletionSpec:
    p = "deletion."
    r.only(spec, DELETION_KEYS, p)
    per = r.text(spec, "per", prefix=p, required=False, default="record")
    record_id = tuple(column_key(c) for c in r.texts(spec, "record_id", prefix=p))
    if per == "record" and not record_id:
        r.fail(p + "record_id", "one task per record needs the record's id column")
    per = per if per in ("file", "person") or per.startswith("_") else column_key(per)
    obj = r.text(spec, "object", prefix=p)
    detail = r.text(spec, "detail", prefix=p, required=False, default="") or ""
    # the task's texts are filled by texts.fill: plain {name} placeholders of what the task knows
    for key, text, allowed in (("object", obj, {per} - {"record", "file", "person"}),
                               ("detail", detail, {"email", "rows"})):
        try:
            names = placeholders(text)
        except PlaceholderError as exc:
            r.fail(p + key, str(exc))
        if not names <= allowed:
            r.fail(p + key, f"names {', '.join(sorted(names - allowed))}; it may name only "
                   f"{', '.join('{' + n + '}' for n in sorted(allowed)) or 'nothing'}")
    return DeletionSpec(
        system=r.text(spec, "system", prefix=p), object=obj, action=r.text(spec, "action", prefix=p), per=per,
        record_id=record_id, found=r.text(spec, "found", prefix=p, required=False, default="export"),
        detail=detail)


def _flag(r: _Reader, spec: dict, key: str) -> bool:
    value = spec.get(key, False)
    if not isinstance(value, bool):   # "false" in quotes is a string, and true to Python
        r.fail(key, "expected true or false (without quotes)")
    return value


def _kind(path: Path, name: str, spec: dict) -> SourceKind:
    r = _Reader(path, name)
    r.only(spec, KIND_KEYS)
    fmt = r.text(spec, "format")
    if fmt not in FORMATS:
        r.fail("format", f"expected one of {', '.join(FORMATS)}")
    split = None
    if "split" in spec:
        s = r.table(spec, "split")
        r.only(s, {"column", "table"}, "split.")
        split = (column_key(r.text(s, "column", prefix="split.")), r.text(s, "table", prefix="split.", pattern=_IDENT))
    kind = SourceKind(
        name=name, table=r.text(spec, "table", pattern=_IDENT), format=fmt,
        **{k: r.texts(spec, k) for k in LIST_KEYS},
        keep_on_erasure=_flag(r, spec, "keep_on_erasure"),
        status=r.text(spec, "status", required=False), split=split,
        report=_report(r, r.table(spec, "access_report"), name) if "access_report" in spec else None,
        deletion=_deletion(r, r.table(spec, "deletion")) if "deletion" in spec else None,
    )
    # a column that names a person but is not in the raw table would match nobody: an erasure
    # would leave the person's rows, and the access report would not show them
    have = {*kind.declared_columns, *map(column_key, kind.loader_columns)}
    for key in ("person_email", "person_ids", "person_text", "person_ids_of_address"):
        unknown = [c for c in getattr(kind, key) if column_key(c) not in have]
        if unknown:
            r.fail(key, f"{', '.join(unknown)}: not among the kind's columns (required, columns, any_of, "
                   "loader_columns)")
    if fmt == "json" and (not kind.timestamps or column_key(kind.timestamps[0]) not in map(column_key, kind.required)):
        r.fail("timestamps", "an event stream (format json) names its time (unix seconds) first, and requires it")
    # a kind that names people is in the art. 15 report and in the erasure's deletion tasks:
    # left out of either silently, a person would not learn of it or it would not be deleted
    if kind.names_people and kind.report is None:
        r.fail("access_report", "missing (a kind whose rows name a person must say what the access report shows)")
    if kind.names_people and not kind.keep_on_erasure and kind.deletion is None:
        r.fail("deletion", "missing (a kind whose rows name a person must say the deletion task for its system)")
    return kind


@dataclass
class Sources:
    kinds: dict[str, SourceKind] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> "Sources":
        doc = read_toml(path)
        kinds: dict[str, SourceKind] = {}
        pending_same: dict[str, dict] = {}
        for system, entries in doc.items():
            if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
                raise ConfigError(str(path), system, "expected [system.entity] tables")
            for entity, spec in entries.items():
                name = f"{system}.{entity}"
                if "same_as" in spec:
                    pending_same[name] = spec
                else:
                    kinds[name] = _kind(path, name, spec)
        for name, spec in pending_same.items():
            r = _Reader(path, name)
            r.only(spec, SAME_AS_KEYS)
            b = kinds.get(r.text(spec, "same_as"))
            if b is None:
                r.fail("same_as", f"unknown kind {spec['same_as']}")
            kinds[name] = replace(b, name=name, hints=r.texts(spec, "hints"),
                                  signature=b.signature + r.texts(spec, "signature"),
                                  status=r.text(spec, "status", required=False, default=b.status))
        sources = cls(kinds, path)
        sources._check(path)
        return sources

    def _check(self, path: Path) -> None:
        for kind in self.kinds.values():
            for ref in kind.report.names if kind.report else ():
                if ref.kind not in self.kinds:
                    raise ConfigError(str(path), f"[{kind.name}] access_report.names.{ref.column}.kind",
                                      f"unknown kind {ref.kind}")
        for fmt in ("log", "register"):   # recognised by content, not by columns: one kind each
            found = [k.name for k in self.kinds.values() if k.format == fmt]
            if len(found) > 1:
                raise ConfigError(str(path), f"[{found[1]}] format", f"only one kind may have format {fmt!r} "
                                  f"({found[0]} has it)")

    def __getitem__(self, name: str) -> SourceKind:
        return self.kinds[name]

    def names(self) -> list[str]:
        return sorted(self.kinds)

    def tables(self) -> dict[str, SourceKind]:
        """One kind per raw table (kinds with a status share one)."""
        out: dict[str, SourceKind] = {}
        for name in sorted(self.kinds):
            out.setdefault(self.kinds[name].table, self.kinds[name])
        return out

    def of_format(self, fmt: str) -> list[SourceKind]:
        """The kinds of a format, in the order sources.toml declares them."""
        return [k for k in self.kinds.values() if k.format == fmt]

    def register(self) -> SourceKind | None:
        """The DPO's request register (format "register"; its columns are the policy's keys)."""
        found = self.of_format("register")
        return found[0] if found else None

    def reported(self) -> list[SourceKind]:
        """The kinds the access report shows, in sources.toml's order, one per raw table."""
        tables = self.tables()
        return [k for k in self.kinds.values() if k.report and tables.get(k.table) is not None
                and tables[k.table].name == k.name]

    def categories(self) -> list[str]:
        """The categories of data, in the order their first kind appears in sources.toml."""
        out: list[str] = []
        for kind in self.kinds.values():
            if kind.report and kind.report.category not in out:
                out.append(kind.report.category)
        return out

    def split_tables(self) -> list[tuple[SourceKind, str, str]]:
        """(kind, list column, child table) of every kind whose list column has its own raw table."""
        return [(k, *k.split) for k in self.tables().values() if k.split]

    def detect_csv(self, keys: set[str], file_name: str) -> SourceKind | None:
        """The kind whose columns a CSV header has; the file name breaks ties."""
        candidates = [k for k in self.kinds.values() if k.format == "csv" and k.matches(keys)]
        if not candidates:
            return None
        stem = _name_words(file_name)
        hinted = [(max((len(h) for h in k.hints if h in stem), default=0), k) for k in candidates]
        best_hint = max(h for h, _ in hinted)
        if best_hint:
            candidates = [k for h, k in hinted if h == best_hint]
        return max(candidates, key=lambda k: (k.score(keys), -len(k.required)))


def _name_words(file_name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", Path(file_name).name.lower())
