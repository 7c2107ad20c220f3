"""Source kinds (pipelines/sources.toml) and recognising a file's kind."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError
from .text import column_key


@dataclass(frozen=True)
class SourceKind:
    name: str                 # e.g. salesforce.contact
    table: str                # raw table, e.g. salesforce__contact
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
    keep_on_erasure: bool = False  # the register: how a request was handled must stay provable

    @property
    def declared_columns(self) -> list[str]:
        """Every column the raw table has from the start, in order."""
        out: list[str] = []
        for col in (*self.required, *self.columns, *self.any_of):
            key = column_key(col)
            if key not in out:
                out.append(key)
        return out

    def missing_required(self, keys: set[str]) -> list[str]:
        return [c for c in self.required if column_key(c) not in keys]

    def matches(self, keys: set[str]) -> bool:
        if self.format not in ("csv", "register") or self.missing_required(keys):
            return False
        return not self.any_of or any(column_key(c) in keys for c in self.any_of)

    def score(self, keys: set[str]) -> int:
        wanted = {column_key(c) for c in (*self.required, *self.any_of, *self.signature)}
        return len(wanted & keys)


@dataclass
class Sources:
    kinds: dict[str, SourceKind] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Sources":
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(str(path), "(file)", "not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), "(syntax)", str(exc)) from None
        kinds: dict[str, SourceKind] = {}
        pending_same: dict[str, tuple[str, dict]] = {}
        for system, entries in doc.items():
            for entity, spec in entries.items():
                name = f"{system}.{entity}"
                if "same_as" in spec:
                    pending_same[name] = (spec["same_as"], spec)
                    continue
                for key in ("table", "format"):
                    if key not in spec:
                        raise ConfigError(str(path), f"{name}.{key}", "missing")
                kinds[name] = SourceKind(
                    name=name,
                    table=spec["table"],
                    format=spec["format"],
                    **{k: tuple(spec.get(k, ())) for k in
                       ("required", "any_of", "signature", "columns", "timestamps", "hints",
                        "loader_columns", "person_email", "person_ids", "person_text")},
                    keep_on_erasure=bool(spec.get("keep_on_erasure", False)),
                )
        for name, (base, spec) in pending_same.items():
            if base not in kinds:
                raise ConfigError(str(path), f"{name}.same_as", f"unknown kind {base}")
            b = kinds[base]
            kinds[name] = replace(b, name=name, hints=tuple(spec.get("hints", ())))
        return cls(kinds)

    def __getitem__(self, name: str) -> SourceKind:
        return self.kinds[name]

    def names(self) -> list[str]:
        return sorted(self.kinds)

    def tables(self) -> dict[str, SourceKind]:
        """One kind per raw table (mailchimp statuses share one)."""
        out: dict[str, SourceKind] = {}
        for name in sorted(self.kinds):
            out.setdefault(self.kinds[name].table, self.kinds[name])
        return out

    def detect_csv(self, keys: set[str], file_name: str) -> SourceKind | None:
        """The kind whose columns a CSV header has; the file name breaks ties."""
        candidates = [k for k in self.kinds.values() if k.format == "csv" and k.matches(keys)]
        if not candidates:
            return None
        if any(k.name.startswith("mailchimp.") for k in candidates):
            return self.kinds[mailchimp_status(file_name, keys)]
        stem = _name_words(file_name)
        hinted = [(max((len(h) for h in k.hints if h in stem), default=0), k) for k in candidates]
        best_hint = max(h for h, _ in hinted)
        if best_hint:
            candidates = [k for h, k in hinted if h == best_hint]
        return max(candidates, key=lambda k: (k.score(keys), -len(k.required)))


def _name_words(file_name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", Path(file_name).name.lower())


def mailchimp_status(file_name: str, keys: set[str]) -> str:
    """Status of an audience file: from its name, else from its columns."""
    name = Path(file_name).name.lower()
    if "unsubscribed" in name:
        return "mailchimp.unsubscribed"
    if "cleaned" in name:
        return "mailchimp.cleaned"
    if "subscribed" in name:
        return "mailchimp.subscribed"
    if "unsub_time" in keys:
        return "mailchimp.unsubscribed"
    if "clean_time" in keys:
        return "mailchimp.cleaned"
    return "mailchimp.subscribed"
