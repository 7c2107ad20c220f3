"""Who looked up whom: the access log (accountability, GDPR art. 5(2)).

One JSON line per event in `access-log.jsonl` in the warehouse's state
folder (workbench.Layout; owner-only): when (UTC), what (`EVENTS`), which user (a dashboard login, or
`cli:<OS user>`), the person concerned as the salted hash of their normalised
address (the ledger's salt: never the address itself), the client's address
for a login, and whether it succeeded. The dashboard and the command line may
write at once: each entry is one write to a file opened for appending, under
an exclusive lock. `insyn access-log` reads it; `insyn purge` drops entries
past `[retention] access_log_days` (they are staff data too).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

from .errors import InsynError
from .files import replace_private
from .ledger import email_hash, salt as get_salt

ACCESS_LOG_FILE = "access-log.jsonl"
EVENTS = ("login", "lookup", "report", "erase", "vouch", "export")
FIELDS = ("at", "event", "user", "subject", "address", "success", "detail")


def _open_locked(path: Path, flags: int, lock: int) -> int:
    """The log file, opened and locked; reopened if a purge replaced it while we waited."""
    while True:
        fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(fd, lock)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:   # replaced and not yet there again: try once more
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


class AccessLog:
    def __init__(self, path: Path, secrets: Path):
        self.path = path   # the log file (workbench.Layout.access_log)
        self.secrets = secrets

    def record(self, event: str, *, user: str, email: str | None = None, address: str | None = None,
               success: bool | None = None, detail: str | None = None) -> None:
        """Append one entry. `email` is hashed here; `detail` must hold no personal data."""
        if event not in EVENTS:
            raise ValueError(f"access log: unknown event {event!r} (known: {', '.join(EVENTS)})")
        subject = email_hash(get_salt(self.secrets, create=True), email) if email else None
        entry = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "event": event,
                 "user": user, "subject": subject, "address": address, "success": success, "detail": detail}
        line = (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = _open_locked(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, fcntl.LOCK_EX)
        try:
            os.fchmod(fd, 0o600)    # an older file keeps its mode through O_CREAT
            os.write(fd, line)      # one write of one line, under the lock
            os.fsync(fd)
        finally:
            os.close(fd)

    def _read(self) -> list[dict]:
        try:
            fd = _open_locked(self.path, os.O_RDONLY, fcntl.LOCK_SH)
        except FileNotFoundError:
            return []
        with os.fdopen(fd, "r", encoding="utf-8") as fh:
            return [entry for _, entry in self._parse(fh.read())]

    def _parse(self, text: str) -> list[tuple[str, dict]]:
        """Each entry's line and the entry, with its time as `_at` (aware, UTC)."""
        out = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                entry["_at"] = _when(entry["at"])
            except (ValueError, TypeError, KeyError):
                raise InsynError(f"{self.path}:{line_no}: not an access-log entry (edited by hand?)") from None
            out.append((line, entry))
        return out

    def entries(self, since: dt.date | None = None) -> list[dict]:
        """Every entry (oldest first), or those on or after `since` (a UTC day)."""
        found = self._read()
        if since is not None:
            found = [e for e in found if e["_at"].date() >= since]
        return [{k: e.get(k) for k in FIELDS} for e in found]

    def purge(self, before: dt.datetime, dry_run: bool = False) -> int:
        """Drop the entries older than `before` (naive means UTC); the file is rewritten aside and
        moved into place, under the lock. Returns how many went (or would go, with `dry_run`)."""
        if before.tzinfo is None:
            before = before.replace(tzinfo=dt.timezone.utc)
        try:
            fd = _open_locked(self.path, os.O_RDWR, fcntl.LOCK_EX)
        except FileNotFoundError:
            return 0
        try:
            with os.fdopen(os.dup(fd), "r", encoding="utf-8") as fh:
                entries = self._parse(fh.read())
            kept = [line + "\n" for line, entry in entries if entry["_at"] >= before]
            dropped = len(entries) - len(kept)
            if dropped and not dry_run:
                # writers waiting on the old file's lock reopen the new one
                replace_private(self.path, "".join(kept).encode("utf-8"))
            return dropped
        finally:
            os.close(fd)


def _when(value: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)


def cli_user() -> str:
    """How the access log names the command line's user."""
    from .ledger import operator

    return f"cli:{operator()}"
