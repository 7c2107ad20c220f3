"""Access control for the dashboard: users, roles, sessions, throttling and a gate.

- `UserStore`: a JSON file of users with scrypt password hashes and a role
  ("dpo" or "viewer"; none recorded reads as viewer), owner-only, written
  atomically. Passwords are never stored or logged.
- `load_secret_key`: the 32-byte key that signs session cookies, created once;
  `check_owner_only` refuses a secret file others may read, as ssh does.
- `LoginGuard`: locks one user name from one client address after repeated
  failures (never a whole address, never a user everywhere); a user name
  failing from many addresses is only slowed down. Attempts in flight count.
- `SessionRegistry`: the live sessions, held by the server; a cookie only
  names one, so logout, a new password or a removed user ends it at once.
- `install`: puts a Flask server (the one under Dash) behind the gate: the
  Host must be one served, a POST must come from the served origin, and every
  route but /login and /logout needs a session, or the token of a loopback
  dashboard (`?token=` exchanged for a cookie, or `Authorization: token ...`).
  Every response gets `Cache-Control: no-store`, a Content-Security-Policy
  and the like; bodies over 1 MB are refused (413).
- `current_user`, `current_role`: for the pages (dashboards/components/roles.py).

Logging (logger "insyn.auth") records at most that a login succeeded, failed
or was locked: never a user name, a password, a token, a client address or a
query string. Who logged in from where goes to `on_login` (the access log).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import html
import json
import ipaddress
import logging
import os
import re
import secrets
import shlex
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Callable

from .errors import InsynError
from .files import replace_private

try:  # serialises writers across processes (`insyn user add` while the dashboard runs)
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("insyn.auth")

SCRYPT_N = 16384
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
MAX_NAME_CHARS = 64
NAME_PUNCTUATION = "._-@"
SECRET_KEY_BYTES = 32
SESSION_LIFETIME = dt.timedelta(hours=8)

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"

DPO, VIEWER = "dpo", "viewer"
ROLES = (DPO, VIEWER)
DEFAULT_ROLE = "viewer"           # least privilege: a record without a role is a viewer
LOCAL_USER = "local"              # who holds a loopback dashboard's token (role dpo)
TOKEN_ENV = "INSYN_DASHBOARD_TOKEN"
MIN_TOKEN_CHARS = 16
MAX_CONTENT_LENGTH = 1 << 20      # 1 MB: a callback or a login form is far smaller
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class AuthError(InsynError, ValueError):
    """A user, password or auth file that cannot be used; the message says why."""


# ---------------------------------------------------------------------------
# Users


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _valid_name(name: str) -> bool:
    return (
        isinstance(name, str)
        and 1 <= len(name) <= MAX_NAME_CHARS
        and all(c.isalpha() or c in "0123456789" or c in NAME_PUNCTUATION for c in name)
    )


def _check_params(n: int, r: int, p: int) -> None:
    if not (
        isinstance(n, int) and 2 <= n <= 2**20 and n & (n - 1) == 0
        and isinstance(r, int) and 1 <= r <= 32
        and isinstance(p, int) and 1 <= p <= 16
    ):
        raise AuthError("scrypt parameters out of range (n a power of two up to 2^20, r 1-32, p 1-16)")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = HASH_BYTES) -> bytes:
    # Looked up on the module at call time so tests can count the calls.
    return hashlib.scrypt(
        _nfc(password).encode("utf-8", "surrogatepass"),
        salt=salt, n=n, r=r, p=p, dklen=dklen,
        maxmem=128 * r * (n + p + 2) + (1 << 20),
    )


def _mkdirs_private(folder: Path) -> None:
    """Create the missing folders of `folder` owner-only; existing ones are left as they are."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, mode 0600, its missing folders 0700."""
    _mkdirs_private(path.parent)
    replace_private(path, data)


class _suppress_os_error:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return kind is not None and issubclass(kind, OSError)


def _fsync_dir(folder: Path) -> None:
    with _suppress_os_error():
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class UserStore:
    """Dashboard users in a JSON file: {"users": {name: {"salt", "hash", "n", "r", "p", "role", "created_at"}}}.

    `n`, `r`, `p` are the scrypt cost for new passwords (lower them in tests
    only); each user's own parameters are stored with the hash. The file is
    re-read when it changes on disk, so users added by `insyn user add` are
    seen by a running dashboard.
    """

    def __init__(self, path: Path, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P):
        _check_params(n, r, p)
        self.path = Path(path)
        self.n, self.r, self.p = n, r, p
        self._lock = threading.RLock()
        self._cache: dict[str, dict] = {}
        self._cache_key: tuple | None = None
        # What an unknown user is checked against: the same scrypt work, never a match.
        self._dummy_salt = secrets.token_bytes(SALT_BYTES)
        self._dummy_hash = secrets.token_bytes(HASH_BYTES)

    # -- reading

    def _read_file(self) -> dict[str, dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise AuthError(f"{self.path}: cannot read the users file ({type(e).__name__})") from None
        try:
            doc = json.loads(text)
        except ValueError:
            raise AuthError(f"{self.path}: the users file is not valid JSON") from None
        users = doc.get("users") if isinstance(doc, dict) else None
        if not isinstance(users, dict):
            raise AuthError(f'{self.path}: the users file has no "users" object')
        for i, record in enumerate(users.values(), 1):
            if not self._valid_record(record):
                raise AuthError(f"{self.path}: user entry {i} is malformed")
        return users

    @staticmethod
    def _valid_record(record) -> bool:
        if not isinstance(record, dict):
            return False
        try:
            bytes.fromhex(record["salt"])
            if len(bytes.fromhex(record["hash"])) < 16:
                return False
            _check_params(record["n"], record["r"], record["p"])
        except (KeyError, TypeError, ValueError):
            return False
        return record.get("role", DEFAULT_ROLE) in ROLES

    def _users(self) -> dict[str, dict]:
        """The users, re-read only when the file changed on disk."""
        with self._lock:
            try:
                st = self.path.stat()
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
            except FileNotFoundError:
                key = None
            if key is None:
                self._cache, self._cache_key = {}, None
            elif key != self._cache_key:
                self._cache = self._read_file()
                self._cache_key = key
            return self._cache

    def names(self) -> list[str]:
        return sorted(self._users())

    def listing(self) -> list[dict]:
        """Each user's name, role and creation time (never the hash)."""
        return [{"name": name, "role": record.get("role", DEFAULT_ROLE), "created_at": record.get("created_at", "")}
                for name, record in sorted(self._users().items())]

    def role(self, name: str) -> str | None:
        """The user's role ("dpo" or "viewer"); None for no such user."""
        record = self._record(name)
        return None if record is None else record.get("role", DEFAULT_ROLE)

    def __len__(self) -> int:
        return len(self._users())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _nfc(name) in self._users()

    # -- writing

    def _locked_update(self, change: Callable[[dict[str, dict]], None]) -> None:
        with self._lock:
            lock_fd = None
            if fcntl is not None:
                _mkdirs_private(self.path.parent)
                lock_fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            try:
                users = dict(self._read_file())  # fresh from disk, not the cache
                change(users)
                data = json.dumps({"users": users}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
                _write_private(self.path, data.encode("utf-8"))
                self._cache_key = None
            finally:
                if lock_fd is not None:
                    os.close(lock_fd)  # releases the flock

    def add(self, name: str, password: str, role: str | None = None) -> None:
        """Add a user, or set a new password for an existing one. `role` None keeps
        an existing user's role and makes a new user a viewer."""
        if role is not None and role not in ROLES:
            raise AuthError(f"a role is one of {', '.join(ROLES)}")
        if not isinstance(name, str) or not _valid_name(_nfc(name)):
            raise AuthError(
                f"a user name is 1-{MAX_NAME_CHARS} characters: letters, digits and . _ - @"
            )
        if _nfc(name).casefold() == LOCAL_USER:
            raise AuthError(f'the user name "{LOCAL_USER}" is kept for the loopback dashboard\'s token holder')
        if not isinstance(password, str) or len(_nfc(password)) < MIN_PASSWORD_CHARS:
            raise AuthError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
        if len(_nfc(password)) > MAX_PASSWORD_CHARS:
            raise AuthError(f"a password has at most {MAX_PASSWORD_CHARS} characters")
        name = _nfc(name)
        salt = secrets.token_bytes(SALT_BYTES)
        digest = _scrypt(password, salt, self.n, self.r, self.p)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

        def change(users: dict[str, dict]) -> None:
            previous = users.get(name) or {}
            users[name] = {
                "salt": salt.hex(),
                "hash": digest.hex(),
                "n": self.n,
                "r": self.r,
                "p": self.p,
                "role": role or previous.get("role", DEFAULT_ROLE),
                "created_at": previous.get("created_at", now),
            }

        self._locked_update(change)

    def remove(self, name: str) -> bool:
        """Remove a user; True when there was one. Their sessions stop working."""
        removed = []

        def change(users: dict[str, dict]) -> None:
            if users.pop(_nfc(name), None) is not None:
                removed.append(True)

        self._locked_update(change)
        return bool(removed)

    # -- checking

    def _record(self, name: object) -> dict | None:
        if not isinstance(name, str):
            return None
        name = _nfc(name)
        if not _valid_name(name):
            return None
        return self._users().get(name)

    def verify(self, name: str, password: str) -> bool:
        """True when `password` is `name`'s. An unknown user costs the same scrypt work."""
        record = self._record(name)
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
            password, record = "", None  # still do the work, never match
        if record is None:
            salt, expected = self._dummy_salt, self._dummy_hash
            n, r, p = self.n, self.r, self.p
        else:
            salt, expected = bytes.fromhex(record["salt"]), bytes.fromhex(record["hash"])
            n, r, p = record["n"], record["r"], record["p"]
        digest = _scrypt(password, salt, n, r, p, len(expected))
        return hmac.compare_digest(digest, expected) and record is not None

    def credential_id(self, name: str) -> str | None:
        """A short fingerprint of the user's current password hash, kept in the
        session so that a new password or a removed user ends old sessions."""
        record = self._record(name)
        if record is None:
            return None
        return hashlib.sha256(f"{record['salt']}:{record['hash']}".encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------
# Secret files and the session-signing key


def check_owner_only(path: Path) -> None:
    """Refuse (AuthError) a secret file that group or others may read or write, or that
    another account owns, naming the `chmod` to run, as ssh does. A missing file is fine."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise AuthError(f"{path}: owned by another account; a secret file must be yours alone")
    if st.st_mode & 0o077:
        raise AuthError(f"{path}: permissions {oct(st.st_mode & 0o777)[2:]} are too open (group or others may "
                        f"read or write it); run `chmod 600 {shlex.quote(str(path))}`")


def load_secret_key(path: Path) -> bytes:
    """The 32-byte key in `path`, created (0600, folder 0700) on first use."""
    path = Path(path)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        _mkdirs_private(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(SECRET_KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # atomic and never overwrites: a concurrent creator wins
            except FileExistsError:
                pass
        finally:
            with _suppress_os_error():
                os.unlink(tmp)
        _fsync_dir(path.parent)
        key = path.read_bytes()
    if len(key) != SECRET_KEY_BYTES:
        raise AuthError(f"{path}: the secret key file must hold exactly {SECRET_KEY_BYTES} bytes")
    return key


# ---------------------------------------------------------------------------
# Throttling


class Throttled(Exception):
    """A login attempt refused before its password is checked; retry after `retry_after` seconds."""

    def __init__(self, retry_after: float):
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


def _user_key(user: str) -> str:
    # Names are kept only as hashes; variants in case count as one name.
    return hashlib.sha256(_nfc(str(user)).casefold().encode("utf-8", "surrogatepass")).hexdigest()


class LoginGuard:
    """Login throttling that an attacker cannot turn against the real user.

    - One user name from one client address: `max_failures` failures within
      `window_s` seconds lock that pair for `lockout_s`. Attempts still being
      checked count too, so parallel guesses check no more passwords than that.
      Other names from the same address (behind a TLS proxy every client shares
      one) and the same name from other addresses are not locked.
    - One user name failing from many addresses: past `slow_after` failures in
      the window its checks are spaced `slow_s` apart, from whatever address (a
      slow-down, never a lock: the real user gets in after a wait). A wait over
      `max_wait_s` is refused with its Retry-After instead of held.

    Use: `wait = guard.begin(user, address)` (raises `Throttled`), sleep `wait`,
    check the password, then `guard.end(user, address, ok)` in any case.
    Thread-safe; `clock` (seconds, monotonic) can be injected for tests.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 15 * 60,
        lockout_s: float = 15 * 60,
        slow_after: int = 20,
        slow_s: float = 1.0,
        max_wait_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ):
        if max_failures < 1 or slow_after < 1 or window_s <= 0 or lockout_s <= 0 or slow_s < 0:
            raise ValueError("max_failures, slow_after, window_s and lockout_s must be positive")
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.slow_after = slow_after
        self.slow_s = slow_s
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._failures: dict[tuple, collections.deque] = {}  # (user, address) and (user,): failure times
        self._locked_until: dict[tuple, float] = {}          # (user, address)
        self._in_flight: dict[tuple, int] = {}               # (user, address): passwords being checked
        self._next_slot: dict[str, float] = {}               # user: the earliest next check while slowed

    def _recent(self, key: tuple, now: float) -> collections.deque:
        times = self._failures.get(key, collections.deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until this user may try again from this address (0 = now)."""
        now = self.clock()
        with self._lock:
            return max(0.0, self._locked_until.get((_user_key(user), str(address or "")), 0.0) - now)

    def is_locked(self, user: str, address: str) -> bool:
        return self.retry_after(user, address) > 0

    def begin(self, user: str, address: str) -> float:
        """Reserve one password check: the seconds to wait before it, or `Throttled`."""
        now = self.clock()
        user_key = _user_key(user)
        pair = (user_key, str(address or ""))
        with self._lock:
            locked = self._locked_until.get(pair, 0.0) - now
            if locked > 0:
                raise Throttled(locked)
            if len(self._recent(pair, now)) + self._in_flight.get(pair, 0) >= self.max_failures:
                raise Throttled(1.0)  # the checks under way decide whether the pair is locked
            wait = 0.0
            if len(self._recent((user_key,), now)) >= self.slow_after:
                slot = max(now, self._next_slot.get(user_key, 0.0))
                wait = slot - now
                if wait > self.max_wait_s:
                    raise Throttled(wait)
                self._next_slot[user_key] = slot + self.slow_s
            self._in_flight[pair] = self._in_flight.get(pair, 0) + 1
            return wait

    def end(self, user: str, address: str, success: bool) -> None:
        """The check reserved by `begin` is done: a success clears the pair, a failure counts."""
        now = self.clock()
        user_key = _user_key(user)
        pair = (user_key, str(address or ""))
        with self._lock:
            left = self._in_flight.get(pair, 0) - 1
            if left > 0:
                self._in_flight[pair] = left
            else:
                self._in_flight.pop(pair, None)
            if success:
                self._failures.pop(pair, None)
                self._locked_until.pop(pair, None)
                return
            for key in (pair, (user_key,)):
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times
            if len(self._failures[pair]) >= self.max_failures:
                self._locked_until[pair] = now + self.lockout_s
                del self._failures[pair]
            if len(self._failures) + len(self._locked_until) + len(self._next_slot) > self.max_entries:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        for key in [k for k, until in self._next_slot.items() if until <= now]:
            del self._next_slot[key]
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - self.window_s]:
            del self._failures[key]
        excess = len(self._failures) - self.max_entries // 2
        if excess > 0:  # still too many: forget the oldest counts (lockouts stay)
            for key, _ in sorted(self._failures.items(), key=lambda kv: kv[1][-1])[:excess]:
                del self._failures[key]


# ---------------------------------------------------------------------------
# Sessions, held by the server


class SessionRegistry:
    """The live sessions of this process (waitress is one process). A session
    cookie carries only a random id naming one; ending a session removes it
    here, so a copied cookie stops working at once. A restart ends them all."""

    def __init__(self, *, lifetime_s: float = SESSION_LIFETIME.total_seconds(),
                 clock: Callable[[], float] = time.time, max_sessions: int = 10_000):
        self.lifetime_s = lifetime_s
        self.clock = clock
        self.max_sessions = max_sessions
        self._lock = threading.Lock()
        self._sessions: dict[str, dict] = {}

    def create(self, user: str, cred: str) -> str:
        """A new session for `user` (`cred`: the credential it was opened with); its id."""
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                for key in [k for k, s in self._sessions.items() if not self._alive(s, now)]:
                    del self._sessions[key]
                while len(self._sessions) >= self.max_sessions:  # still full: the oldest goes
                    del self._sessions[min(self._sessions, key=lambda k: self._sessions[k]["created"])]
            self._sessions[sid] = {"user": user, "cred": cred, "created": now}
        return sid

    def _alive(self, entry: dict, now: float) -> bool:
        return 0 <= now - entry["created"] < self.lifetime_s

    def get(self, sid: object) -> dict | None:
        """The session `sid` names while it lives ({"user", "cred", "created"}), else None."""
        if not isinstance(sid, str):
            return None
        with self._lock:
            entry = self._sessions.get(sid)
            if entry is None:
                return None
            if not self._alive(entry, self.clock()):
                del self._sessions[sid]
                return None
            return dict(entry)

    def revoke(self, sid: object) -> None:
        if isinstance(sid, str):
            with self._lock:
                self._sessions.pop(sid, None)

    def __len__(self) -> int:
        return len(self._sessions)


# ---------------------------------------------------------------------------
# The loopback token, client addresses, Host and Origin


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


def dashboard_token(environ=os.environ) -> tuple[str, bool]:
    """(token, chosen): $INSYN_DASHBOARD_TOKEN when set (tests and benchmarks choose it), else a new random one."""
    chosen = environ.get(TOKEN_ENV)
    if not chosen:
        return secrets.token_urlsafe(32), False
    if not (MIN_TOKEN_CHARS <= len(chosen) <= 256 and _TOKEN_CHARS.fullmatch(chosen)):
        raise AuthError(f"${TOKEN_ENV}: a token is {MIN_TOKEN_CHARS}-256 characters: letters, digits and . _ ~ -")
    return chosen, True


def parse_networks(values, what: str = "trusted_proxies") -> tuple:
    """Addresses or networks ("10.0.0.1", "10.0.0.0/8", "::1") as ip_network objects."""
    try:
        return tuple(ipaddress.ip_network(str(v), strict=False) for v in values)
    except ValueError:
        raise AuthError(f"{what}: expected IP addresses or networks such as 10.0.0.1 or 10.0.0.0/8") from None


def _ip(value: str | None):
    try:
        return ipaddress.ip_address(str(value or "").strip().strip("[]"))
    except ValueError:
        return None


def client_address(remote_addr: str | None, forwarded_for: list[str], trusted_proxies: tuple) -> str:
    """The client's address: the peer's; when the peer is a trusted proxy, the last address
    in X-Forwarded-For that is not a trusted proxy (what the outermost trusted proxy saw).
    Anything further left was written by the client and is never believed."""
    peer = remote_addr or ""

    def trusted(value) -> bool:
        ip = _ip(value)
        return ip is not None and any(ip in net for net in trusted_proxies)

    if not trusted_proxies or not trusted(peer):
        return peer
    hops = [h.strip() for line in forwarded_for for h in line.split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            return str(_ip(hop)) if _ip(hop) is not None else peer
    return peer


def _split_host(value: str) -> tuple[str, int | None] | None:
    """("name", port or None) of a Host header or an origin's host[:port]; None when malformed."""
    value = (value or "").strip().lower()
    if not value or any(c in value for c in "/\\@?# \t"):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[: end + 1], value[end + 1:]
    elif value.count(":") == 1:
        name, rest = value[: value.index(":")], value[value.index(":"):]
    elif ":" in value:
        return None  # an IPv6 address without brackets
    else:
        name, rest = value, ""
    if not name:
        return None
    if not rest:
        return name, None
    port = rest[1:]
    if not (rest[0] == ":" and 1 <= len(port) <= 5 and port.isascii() and port.isdigit()):
        return None
    return name, int(port)


class HostCheck:
    """Which Host headers this dashboard answers: the names it serves (`served`, on the
    port it listens on), any IP literal on that port when bound to every address
    (`any_ip`: a DNS rebinding needs a name), and the configured `allowed` names
    (any port; "name:port" for one). Anything else is a DNS-rebinding attempt."""

    def __init__(self, served=LOOPBACK_NAMES, allowed=(), any_ip: bool = False):
        self.served = {str(n).lower() for n in served}
        self.allowed = []
        for entry in allowed:
            parsed = _split_host(str(entry))
            if parsed is None:
                raise AuthError(f"allowed_hosts: {entry!r} is not a host name (name or name:port)")
            self.allowed.append(parsed)
        self.any_ip = any_ip

    def allows(self, host: str | None, server_port: str) -> bool:
        parsed = _split_host(host or "")
        if parsed is None:
            return False
        name, port = parsed
        if any(name == a_name and (a_port is None or a_port == port) for a_name, a_port in self.allowed):
            return True
        if str(port or 80) != str(server_port):
            return False
        return name in self.served or (self.any_ip and _ip(name) is not None)


def same_origin(origin: str, host: str) -> bool:
    """True when `origin` (an Origin header) names the site `host` (the checked Host header)."""
    parts = urllib.parse.urlsplit(origin or "")
    if parts.scheme not in ("http", "https") or parts.path or parts.query or parts.fragment:
        return False
    o, h = _split_host(parts.netloc), _split_host(host)
    if o is None or h is None or o[0] != h[0]:
        return False
    o_port = o[1] or (443 if parts.scheme == "https" else 80)
    return h[1] is None or h[1] == o_port  # no port in Host: the scheme's default, as a TLS proxy passes it


# ---------------------------------------------------------------------------
# The Flask gate


# The login page's words (web.login.* in the workbench's catalogs): Swedish and English side by side,
# since nobody has chosen a language before logging in.
LOGIN_LANGUAGES = ("sv", "en")
MSG_WRONG, MSG_LOCKED, MSG_EXPIRED = "web.login.wrong", "web.login.locked", "web.login.expired"


def login_words(catalogs) -> Callable[..., str]:
    """`words(msgid, **values)`: the message in each of `catalogs` (texts.Catalog), joined by " / ".
    `words(msgid, markup=True, **html)`: the same as HTML, its words escaped and `html` put in as it is."""
    def words(msgid: str, markup: bool = False, **values) -> str:
        if markup:
            return " / ".join(catalog.markup(msgid, html.escape, **values) for catalog in catalogs)
        return " / ".join(catalog(msgid, **values) for catalog in catalogs)
    return words


def login_page(words, *, message: str = "", csrf: str, username: str = "", next_path: str = "/",
               token_hint: bool = False) -> str:
    """The login page's HTML: `words` from login_words, `message` a message id (an error shown)."""
    return _PAGE.format(
        lang=LOGIN_LANGUAGES[0],
        title=html.escape(words("web.login.title")), user_name=html.escape(words("web.login.user_name")),
        password=html.escape(words("web.login.password")), submit=html.escape(words("web.login.submit")),
        message=f'<p class="error" role="alert">{html.escape(words(message))}</p>\n' if message else "",
        csrf=html.escape(csrf, quote=True),
        next=html.escape(next_path, quote=True),
        username=html.escape(username, quote=True),
        # filled once: the catalog's words escaped, the command's markup as it is
        hint=(f'<p class="hint">{words("web.login.token_hint", markup=True, command="<code>insyn dashboard</code>")}'
              '</p>\n' if token_hint else ""),
    )


_LOGIN_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# For every other response unless `install` is given the app's own (serve.dash_csp).
DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>Insyn – {title}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f4f5f7;
         color: #1d2330; margin: 0; display: flex; min-height: 100vh;
         align-items: center; justify-content: center; }}
  main {{ background: #fff; padding: 2rem 2.25rem; border-radius: 8px; width: 100%; max-width: 22rem;
          box-shadow: 0 1px 3px rgba(0,0,0,.12), 0 4px 16px rgba(0,0,0,.06); }}
  h1 {{ font-size: 1.35rem; margin: 0 0 1.25rem; }}
  label {{ display: block; font-size: .9rem; margin: .9rem 0 .3rem; }}
  input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box; padding: .55rem .6rem;
         font-size: 1rem; border: 1px solid #b8bfcc; border-radius: 4px; }}
  button {{ margin-top: 1.4rem; width: 100%; padding: .65rem; font-size: 1rem; border: 0;
            border-radius: 4px; background: #1f4e8c; color: #fff; cursor: pointer; }}
  button:hover, button:focus {{ background: #173b6b; }}
  .error {{ background: #fdecea; color: #8a1c12; padding: .6rem .75rem; border-radius: 4px;
            font-size: .9rem; margin-bottom: .5rem; }}
  .hint {{ font-size: .85rem; color: #4a5263; margin-top: 1.2rem; }}
</style>
</head>
<body>
<main>
<h1>Insyn</h1>
{message}<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="csrf_token" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label for="username">{user_name}</label>
<input type="text" id="username" name="username" value="{username}" maxlength="64"
       autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">{password}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">{submit}</button>
</form>
{hint}</main>
</body>
</html>
"""


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site ("/..." but not "//..."), else "/"."""
    if not target or not isinstance(target, str) or len(target) > 2048:
        return "/"
    if not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers read "\" as "/" and drop tabs and line breaks: "/\\evil", "/\t/evil".
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _wants_html(request) -> bool:
    """True when the client asks for text/html by name (a browser navigating)."""
    return any(value.lower() == "text/html" and quality > 0 for value, quality in request.accept_mimetypes)


def _token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode("utf-8"))


def _header_token(value: str) -> str:
    """The token of an `Authorization: token XYZ` (or `Bearer XYZ`) header; "" otherwise."""
    scheme, _, given = value.strip().partition(" ")
    return given.strip() if scheme.lower() in ("token", "bearer") else ""


def _session_interface(prefix: str):
    """Flask's signed-cookie sessions, the cookie named with the port served, so
    two dashboards on one machine (cookies ignore ports) keep their own."""
    import flask
    from flask.sessions import SecureCookieSessionInterface

    class PortNamedSessions(SecureCookieSessionInterface):
        def get_cookie_name(self, app) -> str:
            port = flask.request.environ.get("SERVER_PORT", "") if flask.has_request_context() else ""
            return f"{prefix}insyn_{port}" if re.fullmatch(r"[0-9]{1,5}", port) else f"{prefix}insyn"

    return PortNamedSessions()


def install(
    server,
    store: UserStore,
    *,
    secret_key: bytes,
    secure_cookies: bool = True,
    same_site: str = "Lax",
    guard: LoginGuard | None = None,
    sessions: SessionRegistry | None = None,
    failure_delay_s: float = 0.25,
    token: str | None = None,
    hosts: HostCheck | None = None,
    trusted_proxies: tuple = (),
    on_login: Callable[[str, str, bool], None] | None = None,
    csp: str | Callable[[], str] | None = None,
    locale: Path | None = None,
) -> None:
    """Put every route of the Flask `server` behind the gate.

    `token`: a loopback dashboard's token (None: login only). `hosts`: the Host
    headers answered (default: the loopback names on the port served).
    `trusted_proxies`: networks whose X-Forwarded-For is believed.
    `on_login(user, address, success)`: told of every password or token
    checked (an unknown name is reported as "(unknown)": it could be a
    password typed in the wrong field). `csp`: the Content-Security-Policy of
    every response but the login page (a string, or a function asked each time).
    `locale`: the workbench's catalogs for the login page's words (None: the reference ones).
    Call it once, before the server handles its first request.
    """
    import flask  # imported here so the CLI does not pay for Flask

    if not isinstance(secret_key, bytes) or len(secret_key) < 16:
        raise ValueError("secret_key must be at least 16 random bytes (see load_secret_key)")
    if server.extensions.get("insyn.auth") is not None:
        raise RuntimeError("insyn.auth is already installed on this server")
    if same_site not in ("Strict", "Lax"):
        raise ValueError("same_site is Strict or Lax")
    guard = guard if guard is not None else LoginGuard()
    sessions = sessions if sessions is not None else SessionRegistry()
    hosts = hosts if hosts is not None else HostCheck()
    server.extensions["insyn.auth"] = {"store": store, "guard": guard, "sessions": sessions, "token": token,
                                       "trusted_proxies": tuple(trusted_proxies)}

    prefix = "__Host-" if secure_cookies else ""
    server.session_interface = _session_interface(prefix)
    server.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME=prefix + "insyn",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE=same_site,
        SESSION_COOKIE_SECURE=bool(secure_cookies),
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The cookie dates from the login: 8 hours at most, not 8 idle hours (the registry agrees).
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        MAX_FORM_MEMORY_SIZE=MAX_CONTENT_LENGTH,
    )
    session = flask.session
    request = flask.request
    g = flask.g

    def report(user: str, address: str, success: bool) -> None:
        if on_login is None:
            return
        try:
            on_login(user, address, success)
        except Exception as exc:  # the record must not take the login down; say so without details
            log.warning("login record failed (%s)", type(exc).__name__)

    def csrf_token() -> str:
        value = session.get("csrf")
        if not isinstance(value, str) or len(value) < 32:
            value = secrets.token_urlsafe(32)
            session["csrf"] = value
        return value

    from . import texts

    words = login_words([texts.cached(locale, lang) for lang in LOGIN_LANGUAGES])   # read now: a bad file stops here

    def page(message: str = "", status: int = 200, username: str = "", next_path: str = "/"):
        body = login_page(words, message=message, csrf=csrf_token(), username=username, next_path=next_path,
                          token_hint=token is not None)
        response = flask.Response(body, status=status, mimetype="text/html")
        response.headers["Content-Security-Policy"] = _LOGIN_CSP
        # Not no-referrer here: under it a browser's form POST carries `Origin: null`, which
        # the Origin check refuses. same-origin still sends nothing to other sites.
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    def start_session(user: str, cred: str) -> None:
        sessions.revoke(session.get("sid"))
        session.clear()  # a fresh session: nothing from before the login survives
        session["sid"] = sessions.create(user, cred)
        session.permanent = True

    def login_form():
        return page(next_path=safe_next(request.args.get("next")))

    def login_submit():
        form = request.form
        next_path = safe_next(form.get("next") or request.args.get("next"))
        username = _nfc(form.get("username", "").strip())[: MAX_NAME_CHARS + 1]
        password = form.get("password", "")
        expected = session.get("csrf")
        given = form.get("csrf_token", "")
        if not (isinstance(expected, str) and expected and hmac.compare_digest(given.encode(), expected.encode())):
            return page(MSG_EXPIRED, 400, username[:MAX_NAME_CHARS], next_path)
        address = g.insyn_address
        try:
            wait = guard.begin(username, address)
        except Throttled as exc:
            log.warning("locked")
            response = page(MSG_LOCKED, 429, "", next_path)
            response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
            return response
        ok = False
        try:
            if wait > 0:
                time.sleep(wait)
            ok = store.verify(username, password)
            cred = store.credential_id(username) if ok else None
            ok = cred is not None
        finally:
            guard.end(username, address, ok)
        report(username if username in store else "(unknown)", address, ok)
        if not ok:
            log.warning("login failed")
            if failure_delay_s > 0:
                time.sleep(failure_delay_s)
            return page(MSG_WRONG, 401, username[:MAX_NAME_CHARS], next_path)
        start_session(username, cred)
        log.info("login succeeded")
        return flask.redirect(next_path, code=302)

    def logout():
        # Another port of 127.0.0.1 is the same *site*: its <img src=/logout> would send our cookie.
        # A browser says where a request comes from; only this origin, or a typed address, logs out.
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return refuse("logout from another site refused", 403)
        sessions.revoke(session.get("sid"))  # the session ends here, not only in this browser
        session.clear()
        return flask.redirect(LOGIN_PATH, code=302)

    server.add_url_rule(LOGIN_PATH, "insyn_auth_login", login_form, methods=["GET"])
    server.add_url_rule(LOGIN_PATH, "insyn_auth_login_submit", login_submit, methods=["POST"])
    server.add_url_rule(LOGOUT_PATH, "insyn_auth_logout", logout, methods=["GET", "POST"])

    def refuse(message: str, status: int):
        return flask.Response(message + "\n", status=status, mimetype="text/plain")

    def session_user() -> tuple[str, str] | None:
        """(user, role) of the session cookie's live session, else None."""
        entry = sessions.get(session.get("sid"))
        if entry is None:
            return None
        if entry["cred"] == "token":
            return (LOCAL_USER, DPO) if token is not None else None
        current = store.credential_id(entry["user"])
        if current is None or not hmac.compare_digest(entry["cred"], current):
            sessions.revoke(session.get("sid"))  # the password changed or the user was removed
            return None
        return entry["user"], store.role(entry["user"]) or DEFAULT_ROLE

    def exchange_token():
        """GET ...?token=: a session cookie for the token holder, then the same page without the token."""
        address = g.insyn_address
        given = request.args.get("token", "")
        if not _token_matches(given, token):
            report(LOCAL_USER, address, False)
            return None
        report(LOCAL_USER, address, True)
        start_session(LOCAL_USER, "token")
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
        target = request.path + ("?" + urllib.parse.urlencode(rest) if rest else "")
        return flask.redirect(safe_next(target), code=302)

    def gate():
        g.insyn_user = g.insyn_role = None
        host = request.environ.get("HTTP_HOST", "")
        if not hosts.allows(host, request.environ.get("SERVER_PORT", "")):
            return refuse("unknown host", 403)  # DNS rebinding: a name this dashboard does not serve
        if request.content_length is not None and request.content_length > MAX_CONTENT_LENGTH:
            return refuse("request too large", 413)
        g.insyn_address = client_address(request.remote_addr, request.headers.getlist("X-Forwarded-For"),
                                          trusted_proxies)
        by_header = False
        credential = request.headers.get("Authorization")
        if credential is not None and token is not None:
            if not _token_matches(_header_token(credential), token):
                report(LOCAL_USER, g.insyn_address, False)
                return flask.jsonify({"error": "wrong token"}), 401
            by_header = True
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("Origin")
            if (origin is None and not by_header) or (origin is not None and not same_origin(origin, host)):
                return refuse("cross-origin request refused", 403)
        if by_header:
            g.insyn_user, g.insyn_role = LOCAL_USER, DPO
            return None
        if request.path in (LOGIN_PATH, LOGOUT_PATH):
            return None
        if token is not None and request.method == "GET" and "token" in request.args:
            response = exchange_token()
            if response is not None:
                return response
        found = session_user()
        if found is not None:
            g.insyn_user, g.insyn_role = found
            return None
        if session.get("sid") is not None:
            session.clear()  # expired or revoked: drop it
        if request.method == "GET" and _wants_html(request):
            # The path only: a query string could carry personal data (or the token).
            target = LOGIN_PATH + "?next=" + urllib.parse.quote(request.path, safe="")
            return flask.redirect(target, code=302)
        return flask.jsonify({"error": "login required"}), 401

    def headers(response):
        response.headers["Cache-Control"] = "no-store"
        if "Content-Security-Policy" not in response.headers:
            # Asked each time: Dash adds inline scripts (Pages' clientside callbacks) at its first request.
            response.headers["Content-Security-Policy"] = csp() if callable(csp) else (csp or DEFAULT_CSP)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    # First in line, so nothing else (Dash's own hooks included) runs for a stranger.
    server.before_request_funcs.setdefault(None, []).insert(0, gate)
    server.after_request(headers)


def current_user() -> str | None:
    """The user of the current request ("local" for a loopback dashboard's token
    holder), or None (no session, no request, or auth not installed). The gate has
    checked the session before any view or callback runs."""
    import flask

    return flask.g.get("insyn_user") if flask.has_request_context() else None


def current_role() -> str | None:
    """"dpo" or "viewer" for the current request's user; None when there is none."""
    import flask

    return flask.g.get("insyn_role") if flask.has_request_context() else None
