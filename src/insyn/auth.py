"""Access control for the dashboard: users, throttling and a login gate.

- `UserStore`: a JSON file of users with scrypt password hashes (owner-only,
  written atomically). Passwords are never stored or logged.
- `load_secret_key`: the 32-byte key that signs session cookies, created once.
- `LoginGuard`: refuses login attempts for a while after repeated failures for
  a user name or from a client address.
- `install`: puts a Flask server (the one under Dash) behind a login: every
  route but /login and /logout needs a session user; pages get
  `Cache-Control: no-store` because they hold personal data.

Logging (logger "insyn.auth") records at most that a login succeeded, failed
or was locked: never a user name, a password, a client address or a query
string.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Callable

from .errors import InsynError

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
    """Write `data` to `path` atomically (temp file + os.replace), mode 0600."""
    _mkdirs_private(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


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
    """Dashboard users in a JSON file: {"users": {name: {"salt", "hash", "n", "r", "p", "created_at"}}}.

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
        return True

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

    def add(self, name: str, password: str) -> None:
        """Add a user, or set a new password for an existing one."""
        if not isinstance(name, str) or not _valid_name(_nfc(name)):
            raise AuthError(
                f"a user name is 1-{MAX_NAME_CHARS} characters: letters, digits and . _ - @"
            )
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
# The session-signing key


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


class LoginGuard:
    """Refuses login attempts for `lockout_s` seconds once `max_failures`
    failures within `window_s` seconds came for one user name or from one
    client address. A success resets that user's count (not the address's).
    Thread-safe; `clock` (seconds, monotonic) can be injected for tests.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 15 * 60,
        lockout_s: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 100_000,
    ):
        if max_failures < 1 or window_s <= 0 or lockout_s <= 0:
            raise ValueError("max_failures, window_s and lockout_s must be positive")
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], collections.deque] = {}
        self._locked_until: dict[tuple[str, str], float] = {}

    @staticmethod
    def _keys(user: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        # Names are kept only as hashes; variants in case count as one name.
        user_key = hashlib.sha256(_nfc(str(user)).casefold().encode("utf-8", "surrogatepass")).hexdigest()
        return ("user", user_key), ("addr", str(address or ""))

    def retry_after(self, user: str, address: str) -> float:
        """Seconds until attempts for this user and address are allowed again (0 = now)."""
        now = self.clock()
        with self._lock:
            waits = [self._locked_until.get(k, 0.0) - now for k in self._keys(user, address)]
        return max(0.0, *waits)

    def is_locked(self, user: str, address: str) -> bool:
        return self.retry_after(user, address) > 0

    def record_failure(self, user: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(user, address):
                if self._locked_until.get(key, 0.0) > now:
                    continue  # already locked: the lockout is not extended
                times = self._failures.setdefault(key, collections.deque())
                while times and times[0] <= now - self.window_s:
                    times.popleft()
                times.append(now)
                if len(times) >= self.max_failures:
                    self._locked_until[key] = now + self.lockout_s
                    del self._failures[key]
            if len(self._failures) + len(self._locked_until) > self.max_entries:
                self._prune(now)

    def record_success(self, user: str, address: str) -> None:
        user_key, _ = self._keys(user, address)
        with self._lock:
            self._failures.pop(user_key, None)
            self._locked_until.pop(user_key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - self.window_s]:
            del self._failures[key]
        excess = len(self._failures) - self.max_entries // 2
        if excess > 0:  # still too many: forget the oldest counts (lockouts stay)
            for key, _ in sorted(self._failures.items(), key=lambda kv: kv[1][-1])[:excess]:
                del self._failures[key]


# ---------------------------------------------------------------------------
# The Flask gate


MSG_WRONG = "Fel användarnamn eller lösenord / Wrong user name or password"
MSG_LOCKED = "För många misslyckade försök. Försök igen senare. / Too many failed attempts. Try again later."
MSG_EXPIRED = "Formuläret har gått ut, försök igen. / The form has expired, please try again."

_LOGIN_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Insyn – Logga in / Log in</title>
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
</style>
</head>
<body>
<main>
<h1>Insyn</h1>
{message}<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="csrf_token" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label for="username">Användarnamn / User name</label>
<input type="text" id="username" name="username" value="{username}" maxlength="64"
       autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Lösenord / Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Logga in / Log in</button>
</form>
</main>
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


def install(
    server,
    store: UserStore,
    *,
    secret_key: bytes,
    secure_cookies: bool = True,
    guard: LoginGuard | None = None,
    failure_delay_s: float = 0.25,
) -> None:
    """Put every route of the Flask `server` behind a login.

    Call it once, before the server handles its first request (before or
    after creating the Dash app on it). /login and /logout are the only
    routes open without a session user.
    """
    import flask  # imported here so the CLI does not pay for Flask

    if not isinstance(secret_key, bytes) or len(secret_key) < 16:
        raise ValueError("secret_key must be at least 16 random bytes (see load_secret_key)")
    if server.extensions.get("insyn.auth") is not None:
        raise RuntimeError("insyn.auth is already installed on this server")
    guard = guard if guard is not None else LoginGuard()
    server.extensions["insyn.auth"] = {"store": store, "guard": guard}

    server.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="__Host-insyn_session" if secure_cookies else "insyn_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(secure_cookies),
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        # The cookie's signature then dates from the login: 8 hours at most, not 8 idle hours.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    session = flask.session
    request = flask.request
    lifetime_s = SESSION_LIFETIME.total_seconds()

    def current_user() -> str | None:
        user = session.get("user")
        if not isinstance(user, str):
            return None
        auth_at = session.get("auth_at")
        if not isinstance(auth_at, (int, float)) or not (0 <= time.time() - auth_at < lifetime_s):
            return None
        cred = session.get("cred")
        current = store.credential_id(user)
        if not isinstance(cred, str) or current is None or not hmac.compare_digest(cred, current):
            return None  # the password changed or the user was removed
        return user

    def csrf_token() -> str:
        token = session.get("csrf")
        if not isinstance(token, str) or len(token) < 32:
            token = secrets.token_urlsafe(32)
            session["csrf"] = token
        return token

    def page(message: str = "", status: int = 200, username: str = "", next_path: str = "/"):
        body = _PAGE.format(
            message=f'<p class="error" role="alert">{html.escape(message)}</p>\n' if message else "",
            csrf=html.escape(csrf_token(), quote=True),
            next=html.escape(next_path, quote=True),
            username=html.escape(username, quote=True),
        )
        response = flask.Response(body, status=status, mimetype="text/html")
        response.headers["Content-Security-Policy"] = _LOGIN_CSP
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

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
        address = request.remote_addr or ""
        wait = guard.retry_after(username, address)
        if wait > 0:
            log.warning("locked")
            response = page(MSG_LOCKED, 429, "", next_path)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        if not store.verify(username, password):
            guard.record_failure(username, address)
            log.warning("login failed")
            if failure_delay_s > 0:
                time.sleep(failure_delay_s)
            return page(MSG_WRONG, 401, username[:MAX_NAME_CHARS], next_path)
        guard.record_success(username, address)
        cred = store.credential_id(username)
        session.clear()  # a fresh session: nothing from before the login survives
        session["user"] = username
        session["auth_at"] = time.time()
        session["cred"] = cred
        session.permanent = True
        log.info("login succeeded")
        return flask.redirect(next_path, code=302)

    def logout():
        session.clear()
        return flask.redirect(LOGIN_PATH, code=302)

    server.add_url_rule(LOGIN_PATH, "insyn_auth_login", login_form, methods=["GET"])
    server.add_url_rule(LOGIN_PATH, "insyn_auth_login_submit", login_submit, methods=["POST"])
    server.add_url_rule(LOGOUT_PATH, "insyn_auth_logout", logout, methods=["GET"])

    def gate():
        if request.path in (LOGIN_PATH, LOGOUT_PATH):
            return None
        if current_user() is not None:
            return None
        if session.get("user") is not None:
            session.clear()  # expired or revoked: drop it
        if request.method == "GET" and _wants_html(request):
            # The path only: a query string could carry personal data.
            target = LOGIN_PATH + "?next=" + urllib.parse.quote(request.path, safe="")
            return flask.redirect(target, code=302)
        return flask.jsonify({"error": "login required"}), 401

    def no_store(response):
        response.headers["Cache-Control"] = "no-store"
        return response

    # First in line, so nothing else (Dash's own hooks included) runs for a stranger.
    server.before_request_funcs.setdefault(None, []).insert(0, gate)
    server.after_request(no_store)


def current_user() -> str | None:
    """The logged-in user of the current request, or None (no login, or auth not installed).

    Call it inside a request; on an installed server the gate has already
    checked the session's age and credential before any view or callback runs.
    """
    import flask

    user = flask.session.get("user")
    return user if isinstance(user, str) else None
