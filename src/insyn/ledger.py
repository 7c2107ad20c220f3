"""The workbench's own DSAR ledger, the suppression salt, and salted hashes.

The ledger is an append-only file of JSON lines in the warehouse's own state
folder (`dsar-ledger.jsonl`, see workbench.Layout). It records what the DPO
did with Insyn: erasures carried out (`erasure`), identities an operator vouched for
(`identity_vouched`) and access reports produced (`access_report`). It lives
outside the warehouse so that it outlives a rebuilt warehouse, and so that
the read-only dashboard can record a report it produced. An access report's
entry keeps where the file was written and an erasure's where its deletion
tasks went (`path`: relative to the ledger's folder when inside it, so a
moved or restored workbench still finds them), so that erasure and `insyn
purge` can find every copy.

No entry holds a plain e-mail address: a person is named by the salted
SHA-256 of their normalised address (and of their 15-character CRM ids).
The salt lives in the workbench's secrets folder (outside the repository,
owner-only): without it, the hashes on the suppression list cannot be tested
against a guessed address.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import secrets as pysecrets
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InsynError
from .text import email_key, sfid15

LEDGER_FILE = "dsar-ledger.jsonl"
SALT_FILE = "suppression.salt"
HASH_PREFIX = "sha256:"  # how a hashed address reads where an address stood


def stored_path(path: Path, ledger: Path) -> str:
    """How the ledger (the file `ledger`) records a file: relative to the ledger's folder when
    inside it, else absolute (resolved: `--out` can point anywhere)."""
    resolved = path.resolve()
    base = ledger.parent.resolve()
    return str(resolved.relative_to(base)) if resolved.is_relative_to(base) else str(resolved)


def recorded_path(entry_path: str, ledger: Path) -> Path:
    """A recorded path back as a file (the inverse of stored_path). A ledger of an older Insyn,
    moved into the warehouse's state folder, recorded paths relative to the warehouse's folder
    (the state folder's parent): a file found only there is that one, so that an erasure still
    removes it."""
    path = Path(entry_path)
    if path.is_absolute():
        return path
    here, before = ledger.parent / path, ledger.parent.parent / path
    return before if not here.exists() and before.exists() else here


def _private_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def read_salt(secrets: Path) -> str | None:
    path = secrets / SALT_FILE
    try:
        salt = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    if len(salt) < 32:
        raise InsynError(f"{path}: the suppression salt is too short (expected 64 hex characters)")
    return salt


def salt(secrets: Path, create: bool = False) -> str | None:
    """The installation's suppression salt; created (owner-only) on first need when `create`."""
    existing = read_salt(secrets)
    if existing is not None or not create:
        return existing
    _private_dir(secrets)
    path = secrets / SALT_FILE
    value = pysecrets.token_hex(32)
    # written aside and linked into place: a process racing for the first salt (the dashboard
    # and the CLI recording at once) either wins or reads the winner's whole salt
    partial = secrets / f".{SALT_FILE}.{os.getpid()}.{pysecrets.token_hex(4)}"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(value + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.link(partial, path)
    except FileExistsError:
        return read_salt(secrets)
    finally:
        partial.unlink(missing_ok=True)
    return value


def salted(salt_value: str, key: str) -> str:
    """Hex SHA-256 of salt + key, the same as DuckDB's sha256(salt || key)."""
    return hashlib.sha256((salt_value + key).encode("utf-8")).hexdigest()


def email_hash(salt_value: str, email: str | None) -> str | None:
    key = email_key(email)
    return salted(salt_value, key) if key else None


def id_hash(salt_value: str, record_id: str | None) -> str | None:
    key = sfid15(record_id)
    return salted(salt_value, key) if key else None


def operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "unknown"


@dataclass
class Entry:
    entry_id: str
    kind: str
    recorded_at: str
    recorded_by: str
    email_sha256: str | None = None
    request_id: str | None = None
    erased_on: str | None = None
    crm_id_sha256: list[str] = field(default_factory=list)
    vouched_by: str | None = None
    detail: str | None = None
    path: str | None = None   # the report written, or the erasure's deletion tasks (see stored_path)


class Ledger:
    """The append-only ledger file; every write is flushed to disk before it returns."""

    def __init__(self, path: Path):
        self.path = path

    def entries(self) -> list[Entry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(Entry(**json.loads(line)))
            except (ValueError, TypeError):
                raise InsynError(f"{self.path}:{line_no}: not a ledger entry (the ledger was edited by hand?)") from None
        return out

    def erasures(self) -> list[Entry]:
        return [e for e in self.entries() if e.kind == "erasure"]

    def append(self, kind: str, **values) -> Entry:
        entries = self.entries()
        entry = Entry(entry_id=f"L{len(entries) + 1:05d}", kind=kind,
                      recorded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                      recorded_by=values.pop("recorded_by", None) or operator(), **values)
        _private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry.__dict__, ensure_ascii=False, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return entry


@dataclass
class Erasures:
    """What the models need to recognise erased people: the salt and the ledger's erasures."""

    salt: str
    entries: list[Entry]

    @classmethod
    def none(cls) -> "Erasures":
        return cls("", [])

    @classmethod
    def of(cls, ledger: Path, secrets: Path) -> "Erasures":
        """The erasures recorded in the ledger file `ledger`."""
        entries = Ledger(ledger).erasures()
        if not entries:
            return cls.none()
        value = read_salt(secrets)
        if value is None:
            raise InsynError(f"{secrets / SALT_FILE}: the ledger records erasures but the suppression salt "
                             "is missing; restore it from the installation's backup")
        return cls(value, entries)

    def hashes(self) -> set[str]:
        """Every salted hash on the suppression list (addresses and CRM ids)."""
        return {h for e in self.entries for h in [e.email_sha256, *e.crm_id_sha256] if h}
