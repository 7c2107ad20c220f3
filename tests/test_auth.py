"""The dashboard's access control: users, roles, throttling, sessions and the login gate (insyn.auth),
in process with Flask's test client. The same attacks over HTTP against a real server: test_web_attacks.py."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import stat
import threading

import flask
import pytest

from insyn import auth
from insyn.auth import (AuthError, HostCheck, LoginGuard, SessionRegistry, Throttled, UserStore, check_owner_only,
                        client_address, current_role, current_user, install, load_secret_key, parse_networks,
                        safe_next, same_origin)

NAME = "dpo.karlsson@example.se"
PASSWORD = "korrekt-häst-batteri-42"
FAST = {"n": 1024, "r": 8, "p": 1}  # a cheaper scrypt for the tests; the default stays 16384


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path) -> UserStore:
    s = UserStore(tmp_path / "state" / "users.json", **FAST)
    s.add(NAME, PASSWORD)
    return s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(store, clock) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/")
    def index():
        return "secret page"

    @app.route("/_dash-update-component", methods=["POST"])
    def update():
        return flask.jsonify({"response": "personal data"})

    @app.route("/whoami")
    def whoami():
        return flask.jsonify({"user": current_user(), "role": current_role()})

    install(app, store, secret_key=b"k" * 32, guard=LoginGuard(clock=clock), failure_delay_s=0)
    return app


def browser(app):
    """A test client that sends what a browser sends on this site: its Origin."""
    client = app.test_client()
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return client


@pytest.fixture
def client(app):
    return browser(app)


def csrf(client, next_path: str | None = None) -> str:
    url = "/login" if next_path is None else "/login?next=" + next_path
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, name=NAME, password=PASSWORD, next_path=None, token=None):
    data = {"username": name, "password": password, "csrf_token": token or csrf(client)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data)


HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


# --- the user store ----------------------------------------------------------


def test_users_are_stored_hashed_in_an_owner_only_file(tmp_path):
    store = UserStore(tmp_path / "new" / "users.json")  # the default cost
    store.add(NAME, PASSWORD)
    text = store.path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert PASSWORD.encode("utf-8").hex() not in text
    record = json.loads(text)["users"][NAME]
    assert set(record) == {"salt", "hash", "n", "r", "p", "role", "created_at"}
    assert record["role"] == "viewer"  # least privilege unless asked
    assert (record["n"], record["r"], record["p"]) == (16384, 8, 1)
    assert mode(store.path) == 0o600
    assert mode(store.path.parent) == 0o700
    assert not [p for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert store.verify(NAME, PASSWORD)
    assert not store.verify(NAME, PASSWORD + "x")


def test_add_validates_names_and_passwords(tmp_path):
    store = UserStore(tmp_path / "users.json", **FAST)
    for bad in ["", "a" * 65, "has space", "semi;colon", "slash/", "new\nline"]:
        with pytest.raises(AuthError, match="user name"):
            store.add(bad, PASSWORD)
    with pytest.raises(AuthError, match="12 characters"):
        store.add("anna", "short-pw")
    assert issubclass(AuthError, ValueError)
    store.add("a" * 64, PASSWORD)
    store.add("åsa.lindström_2@firma-x.se", PASSWORD)
    assert store.names() == sorted(["a" * 64, "åsa.lindström_2@firma-x.se"])
    assert len(store) == 2


def test_replacing_a_password(store):
    created = json.loads(store.path.read_text())["users"][NAME]["created_at"]
    store.add(NAME, "ett-helt-nytt-lösenord")
    assert not store.verify(NAME, PASSWORD)
    assert store.verify(NAME, "ett-helt-nytt-lösenord")
    assert len(store) == 1
    assert json.loads(store.path.read_text())["users"][NAME]["created_at"] == created


def test_a_second_store_on_the_same_file_sees_new_users(store):
    running = UserStore(store.path, **FAST)  # the dashboard's copy
    assert running.names() == [NAME]
    store.add("auditor", "revisorns-lösenord-1")
    assert running.names() == ["auditor", NAME]
    assert running.verify("auditor", "revisorns-lösenord-1")


def test_unknown_users_cost_the_same_scrypt_work(store, monkeypatch):
    calls = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, **kw):
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, **kw)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    assert store.verify(NAME, PASSWORD)
    assert not store.verify(NAME, "wrong-password-x")
    assert not store.verify("nobody", PASSWORD)
    assert not store.verify("not a valid name!", PASSWORD)
    assert not store.verify(NAME, "x" * 5000)
    assert len(calls) == 5
    assert len(set(calls)) == 1  # the same parameters, known or not


def test_a_corrupt_users_file_is_a_clear_error(tmp_path):
    path = tmp_path / "users.json"
    path.write_text("{not json")
    with pytest.raises(AuthError, match="not valid JSON"):
        UserStore(path).names()
    path.write_text(json.dumps({"users": {"x": {"salt": "zz"}}}))
    with pytest.raises(AuthError, match="malformed"):
        len(UserStore(path))


def test_remove_ends_the_user(store):
    assert store.remove(NAME)
    assert not store.verify(NAME, PASSWORD)
    assert not store.remove(NAME)


# --- the secret key ------------------------------------------------------------


def test_secret_key_is_created_once_owner_only(tmp_path):
    path = tmp_path / "keys" / "secret_key"
    key = load_secret_key(path)
    assert len(key) == 32
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert load_secret_key(path) == key
    other = tmp_path / "other_key"
    assert load_secret_key(other) != key
    other.write_bytes(b"short")
    with pytest.raises(AuthError):
        load_secret_key(other)


# --- roles ---------------------------------------------------------------------


def test_roles_default_to_viewer_and_are_kept_on_a_new_password(tmp_path):
    store = UserStore(tmp_path / "users.json", **FAST)
    store.add("anna", PASSWORD)
    store.add("dpo", PASSWORD, role="dpo")
    assert (store.role("anna"), store.role("dpo"), store.role("nobody")) == ("viewer", "dpo", None)
    store.add("dpo", "ett-helt-nytt-lösenord")  # a new password keeps the role
    assert store.role("dpo") == "dpo"
    store.add("anna", PASSWORD, role="dpo")
    assert store.role("anna") == "dpo"
    with pytest.raises(AuthError, match="role"):
        store.add("bertil", PASSWORD, role="admin")
    with pytest.raises(AuthError, match="kept for the loopback"):
        store.add("Local", PASSWORD)
    listing = store.listing()
    assert [(u["name"], u["role"]) for u in listing] == [("anna", "dpo"), ("dpo", "dpo")]
    assert all(set(u) == {"name", "role", "created_at"} for u in listing)  # never a hash


def test_a_record_without_a_role_reads_as_viewer_and_a_bad_role_is_refused(store):
    doc = json.loads(store.path.read_text())
    del doc["users"][NAME]["role"]
    store.path.write_text(json.dumps(doc))
    assert UserStore(store.path).role(NAME) == "viewer"
    doc["users"][NAME]["role"] = "root"
    store.path.write_text(json.dumps(doc))
    with pytest.raises(AuthError, match="malformed"):
        UserStore(store.path).names()


def test_the_session_carries_the_role_of_the_user(client, store):
    login(client)
    assert client.get("/whoami").get_json() == {"user": NAME, "role": "viewer"}
    store.path.write_text(store.path.read_text().replace('"viewer"', '"dpo"'))  # as `user add --role` would
    assert client.get("/whoami").get_json() == {"user": NAME, "role": "dpo"}


def test_outside_a_request_there_is_no_user_and_no_role(store):
    app = flask.Flask(__name__)
    install(app, store, secret_key=b"k" * 32, failure_delay_s=0)
    with app.test_request_context():
        assert current_user() is None and current_role() is None  # no session, no role


# --- secret files ----------------------------------------------------------------


def test_a_secret_file_others_may_read_is_refused_naming_the_chmod(tmp_path):
    path = tmp_path / "users.json"
    check_owner_only(path)  # missing: fine
    path.write_text("{}")
    for bad in (0o640, 0o604, 0o620, 0o666):
        path.chmod(bad)
        with pytest.raises(AuthError) as exc:
            check_owner_only(path)
        assert f"chmod 600 {path}" in str(exc.value)
    path.chmod(0o600)
    check_owner_only(path)


# --- the guard -----------------------------------------------------------------


def fail(guard, user, address, times=1):
    for _ in range(times):
        guard.begin(user, address)
        guard.end(user, address, False)


def test_guard_locks_a_user_from_one_address_only(clock):
    guard = LoginGuard(clock=clock)
    fail(guard, "anna", "10.0.0.1", 4)
    assert not guard.is_locked("anna", "10.0.0.1")
    fail(guard, "anna", "10.0.0.1")
    assert guard.is_locked("anna", "10.0.0.1")
    with pytest.raises(Throttled) as exc:
        guard.begin("anna", "10.0.0.1")
    assert exc.value.retry_after == pytest.approx(15 * 60)
    assert guard.begin("anna", "10.0.0.2") == 0  # the same name from elsewhere: not locked
    guard.end("anna", "10.0.0.2", True)
    assert guard.begin("bertil", "10.0.0.1") == 0  # another name from the same address (a proxy): not locked
    guard.end("bertil", "10.0.0.1", True)
    assert guard.is_locked("ANNA", "10.0.0.1")  # case variants are one name
    clock.now += 15 * 60 + 1
    assert not guard.is_locked("anna", "10.0.0.1")


def test_guard_counts_case_variants_as_one_name(clock):
    guard = LoginGuard(clock=clock)
    for name in ["anna", "Anna", "ANNA", "aNNa", "anNA"]:
        fail(guard, name, "a")
    assert guard.is_locked("anna", "a")


def test_guard_window_and_success_reset(clock):
    guard = LoginGuard(max_failures=3, window_s=60, lockout_s=30, clock=clock)
    fail(guard, "anna", "a", 2)
    clock.now += 61  # those two fall out of the window
    fail(guard, "anna", "a", 2)
    assert not guard.is_locked("anna", "a")
    guard.begin("anna", "a")
    guard.end("anna", "a", True)  # a success clears the pair
    fail(guard, "anna", "a", 2)
    assert not guard.is_locked("anna", "a")
    fail(guard, "anna", "a")
    assert guard.retry_after("anna", "a") == pytest.approx(30)


def test_guard_counts_attempts_in_flight(clock):
    guard = LoginGuard(clock=clock)
    for _ in range(5):
        guard.begin("anna", "a")  # five checks under way
    with pytest.raises(Throttled):
        guard.begin("anna", "a")  # a sixth is refused before its password is checked
    assert guard.begin("anna", "b") == 0  # another address is not
    for _ in range(5):
        guard.end("anna", "a", False)
    assert guard.is_locked("anna", "a")


def test_guard_slows_a_name_failing_from_many_addresses_but_never_locks_it(clock):
    guard = LoginGuard(slow_after=10, slow_s=2.0, max_wait_s=5.0, clock=clock)
    for i in range(10):
        fail(guard, "anna", f"10.0.0.{i}")  # one failure each from ten addresses
    assert not any(guard.is_locked("anna", f"10.0.0.{i}") for i in range(11))
    # the real user from an address that has not failed: let in, after a wait
    assert guard.begin("anna", "192.168.1.7") == 0
    guard.end("anna", "192.168.1.7", True)
    assert guard.begin("anna", "10.0.0.50") == pytest.approx(2.0)  # checks are spaced
    assert guard.begin("anna", "10.0.0.51") == pytest.approx(4.0)
    with pytest.raises(Throttled):
        guard.begin("anna", "10.0.0.52")  # a wait longer than max_wait_s: Retry-After instead
    assert guard.begin("bertil", "10.0.0.1") == 0  # other names are not slowed


def test_guard_is_thread_safe(clock):
    guard = LoginGuard(max_failures=801, slow_after=10_000, clock=clock)

    def worker():
        for _ in range(100):
            guard.begin("anna", "a")
            guard.end("anna", "a", False)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not guard.is_locked("anna", "a")
    fail(guard, "anna", "a")
    assert guard.is_locked("anna", "a")  # exactly the 801st failure: none was lost


def test_client_address_believes_forwarded_for_only_from_a_trusted_proxy():
    proxies = parse_networks(["10.0.0.1", "10.1.0.0/16"])
    assert client_address("203.0.113.9", ["198.51.100.1"], proxies) == "203.0.113.9"  # not a proxy: ignored
    assert client_address("10.0.0.1", ["198.51.100.1"], proxies) == "198.51.100.1"
    # the client wrote the left part itself; the proxies appended what they saw
    assert client_address("10.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], proxies) == "198.51.100.1"
    assert client_address("10.0.0.1", [], proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", ["not-an-ip"], proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", ["198.51.100.1"], ()) == "10.0.0.1"  # no proxies configured
    with pytest.raises(AuthError, match="trusted_proxies"):
        parse_networks(["example.com"])


def test_host_and_origin_checks():
    loopback = HostCheck(allowed=["insyn.example.se"])
    assert loopback.allows("127.0.0.1:8050", "8050")
    assert loopback.allows("LOCALHOST:8050", "8050")
    assert loopback.allows("[::1]:8050", "8050")
    assert loopback.allows("insyn.example.se", "8050")  # behind a TLS proxy: the public name
    for bad in ["evil.example:8050", "127.0.0.1:8051", "localhost.evil.example:8050", "", "127.0.0.1:8050@evil",
                "[::1", "127.0.0.1:80a", "::1:8050", "10.0.0.5:8050"]:
        assert not loopback.allows(bad, "8050"), bad
    everywhere = HostCheck({"localhost"}, any_ip=True)
    assert everywhere.allows("192.168.1.5:8050", "8050") and everywhere.allows("[fe80::1]:8050", "8050")
    assert not everywhere.allows("rebind.evil.example:8050", "8050")
    with pytest.raises(AuthError):
        HostCheck(allowed=["https://insyn.example.se/"])
    assert same_origin("http://127.0.0.1:8050", "127.0.0.1:8050")
    assert same_origin("https://insyn.example.se", "insyn.example.se")
    for bad in ["null", "http://evil.example", "http://127.0.0.1:8051", "http://127.0.0.1:8050/x", "file://",
                "http://127.0.0.1"]:
        assert not same_origin(bad, "127.0.0.1:8050"), bad


# --- sessions held by the server -------------------------------------------------


def test_session_registry_revokes_and_expires():
    now = [1000.0]
    registry = SessionRegistry(lifetime_s=60, clock=lambda: now[0], max_sessions=3)
    sid = registry.create("anna", "cred")
    assert registry.get(sid)["user"] == "anna"
    registry.revoke(sid)
    assert registry.get(sid) is None
    sid = registry.create("anna", "cred")
    now[0] += 61
    assert registry.get(sid) is None
    sids = [registry.create(f"u{i}", "c") for i in range(5)]
    assert len(registry) == 3 and registry.get(sids[0]) is None and registry.get(sids[-1]) is not None
    assert registry.get(None) is None and registry.get(["list"]) is None


# --- the gate ------------------------------------------------------------------


def test_every_route_is_refused_without_login(client):
    page = client.get("/", headers=HTML)
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=%2F"

    deep = client.get("/requests/overdue?email=a@b.se", headers=HTML)
    assert deep.headers["Location"] == "/login?next=%2Frequests%2Foverdue"  # never the query

    for method, path in [
        ("POST", "/_dash-update-component"),
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("GET", "/assets/x.css"),
        ("GET", "/_favicon.ico"),
        ("GET", "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"),
    ]:
        response = client.open(path, method=method, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.get_json() == {"error": "login required"}
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/assets/x.css", headers={"Accept": "text/css,*/*;q=0.1"}).status_code == 401
    assert client.get("/").status_code == 401  # no Accept: not a browser navigating


def test_wrong_password_then_right_password(client):
    wrong = login(client, password="fel-lösenord-123")
    assert wrong.status_code == 401
    assert "Fel användarnamn eller lösenord / Wrong user name or password" in wrong.get_data(as_text=True)
    assert client.get("/", headers=HTML).status_code == 302

    right = login(client)
    assert right.status_code == 302
    assert right.headers["Location"] == "/"
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert page.get_data(as_text=True) == "secret page"
    assert page.headers["Cache-Control"] == "no-store"
    assert client.post("/_dash-update-component", json={}).status_code == 200


def test_unknown_user_gets_the_same_answer(client):
    unknown = login(client, name="nobody")
    wrong = login(client, password="fel-lösenord-123")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(unknown) == strip(wrong)


def test_every_response_sends_the_security_headers(client):
    for response in [client.get("/login"), client.get("/", headers=HTML), client.post("/_dash-update-component")]:
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
    login(client)
    page = client.get("/", headers=HTML)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_login_page_is_self_contained_and_bilingual(client):
    response = client.get("/login")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for label in ["Användarnamn / User name", "Lösenord / Password", "Logga in / Log in"]:
        assert label in body
    assert "<script" not in body
    assert not re.search(r'(src|href)="(https?:)?//', body)
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_lockout_refuses_even_the_right_password_until_it_ends(client, clock):
    for _ in range(5):
        assert login(client, password="fel-lösenord-123").status_code == 401
    locked = login(client)
    assert locked.status_code == 429
    assert "Fel användarnamn" not in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    assert client.get("/", headers=HTML).status_code == 302

    clock.now += 15 * 60 + 1
    assert login(client).status_code == 302
    assert client.get("/", headers=HTML).status_code == 200


def test_a_locked_login_does_not_check_the_password(client, store, monkeypatch):  # a spy, not a mock
    for _ in range(5):
        login(client, password="fel-lösenord-123")
    checked = []
    monkeypatch.setattr(store, "verify", lambda *a: checked.append(a) or True)
    assert login(client).status_code == 429
    assert checked == []


def test_csrf_token_is_required(client):
    csrf(client)  # a session with a token exists
    for token in ["", "forged-token-value-forged-token-value"]:
        response = client.post("/login", data={"username": NAME, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 400
    assert client.get("/", headers=HTML).status_code == 302

    fresh = flask.Flask(__name__)  # no session at all
    install(fresh, UserStore(client.application.extensions["insyn.auth"]["store"].path, **FAST),
            secret_key=b"k" * 32, failure_delay_s=0)
    response = browser(fresh).post(
        "/login", data={"username": NAME, "password": PASSWORD, "csrf_token": "x" * 43})
    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(app):
    token = csrf(browser(app))
    response = login(browser(app), token=token)  # the token belongs to another browser
    assert response.status_code == 400


@pytest.mark.parametrize("target, expected", [
    ("//evil.example", "/"),
    ("https://evil.example", "/"),
    ("/\\evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("evil.example/x", "/"),
    ("", "/"),
    ("/requests/overdue", "/requests/overdue"),
])
def test_next_only_goes_to_local_paths(client, target, expected):
    response = login(client, next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_travels_from_the_redirect_through_the_form(client):
    assert client.get("/requests", headers=HTML).headers["Location"] == "/login?next=%2Frequests"
    page = client.get("/login?next=%2Frequests").get_data(as_text=True)
    assert 'name="next" value="/requests"' in page
    assert safe_next("/requests") == "/requests"


def test_cookies_are_httponly_secure_lax(client):
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-insyn_80=")  # named with the port: two dashboards keep their own
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Expires=" in cookie  # a lifetime of 8 hours
    assert client.application.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_insecure_cookies_only_when_asked(store):
    app = flask.Flask(__name__)
    install(app, store, secret_key=b"k" * 32, secure_cookies=False, same_site="Strict", failure_delay_s=0)
    cookie = login(browser(app)).headers["Set-Cookie"]
    assert cookie.startswith("insyn_80=")
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_the_session_is_regenerated_at_login(client):
    csrf(client)
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
        before = dict(s)
    login(client, token=before["csrf"])
    with client.session_transaction() as s:
        assert set(s) == {"sid", "_permanent"}  # only the id of a session the server holds
    sessions = client.application.extensions["insyn.auth"]["sessions"]
    assert sessions.get(s["sid"])["user"] == NAME


def test_logout_ends_the_session_on_the_server(app, client):
    login(client)
    assert client.get("/", headers=HTML).status_code == 200
    cookie = client.get_cookie("__Host-insyn_80").value
    response = client.get("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/", headers=HTML).status_code == 302
    assert client.post("/_dash-update-component", json={}).status_code == 401
    copy = browser(app)
    copy.set_cookie("__Host-insyn_80", cookie)  # the cookie as it was before the logout
    assert copy.get("/", headers=HTML).status_code == 302


def test_a_page_on_another_port_cannot_log_the_dpo_out(app, client):
    """127.0.0.1:other-port is the same site: its <img src=/logout> would carry the cookie. The browser
    says so (Sec-Fetch-Site); only this origin, or an address typed in, logs out."""
    login(client)
    for site in ("same-site", "cross-site"):
        assert client.get("/logout", headers={"Sec-Fetch-Site": site}).status_code == 403
        assert client.get("/", headers=HTML).status_code == 200   # still logged in
    assert client.get("/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 302
    assert client.get("/", headers=HTML).status_code == 302


def test_sessions_end_after_8_hours(store):
    now = [1000.0]
    app = flask.Flask(__name__)
    app.add_url_rule("/", "index", lambda: "secret page")
    install(app, store, secret_key=b"k" * 32, failure_delay_s=0,
            sessions=SessionRegistry(clock=lambda: now[0]))
    client = browser(app)
    login(client)
    now[0] += 8 * 3600 - 1
    assert client.get("/", headers=HTML).status_code == 200
    now[0] += 2
    assert client.get("/", headers=HTML).status_code == 302


def test_a_new_password_or_removal_ends_old_sessions(app, client, store):
    login(client)
    assert client.get("/", headers=HTML).status_code == 200
    store.add(NAME, "ett-helt-nytt-lösenord")
    assert client.get("/", headers=HTML).status_code == 302
    other = browser(app)
    login(other, password="ett-helt-nytt-lösenord")
    assert other.get("/", headers=HTML).status_code == 200
    store.remove(NAME)
    assert other.get("/", headers=HTML).status_code == 302


def test_a_forged_session_is_refused(app):
    other = flask.Flask(__name__)
    other.secret_key = b"another key, not ours!!!!!!!!!!!"
    with other.test_request_context():
        forged = other.session_interface.get_signing_serializer(other).dumps({"user": NAME, "sid": "x"})
    client = browser(app)
    client.set_cookie("__Host-insyn_80", forged)
    assert client.get("/", headers=HTML).status_code == 302
    # signed with our key, but naming no session the server holds
    ours = app.session_interface.get_signing_serializer(app).dumps({"sid": "guessed-session-id"})
    client.set_cookie("__Host-insyn_80", ours)
    assert client.get("/", headers=HTML).status_code == 302


def test_nothing_identifying_is_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, password="fel-lösenord-123", next_path="/x?email=a@b.se")
    login(client, name="nobody-in-particular", password="ett-annat-lösenord")
    login(client, next_path="/x?email=a@b.se")
    for _ in range(6):
        login(client, name="locked.person", password="ett-annat-lösenord")
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in [NAME, PASSWORD, "fel-lösenord-123", "nobody-in-particular", "locked.person",
                   "ett-annat-lösenord", "127.0.0.1", "a@b.se", "email="]:
        assert secret not in text
    messages = {r.getMessage() for r in caplog.records if r.name == "insyn.auth"}
    assert messages == {"login succeeded", "login failed", "locked"}


def test_install_twice_or_with_a_weak_key_is_refused(app, store):
    with pytest.raises(RuntimeError):
        install(app, store, secret_key=b"k" * 32)
    with pytest.raises(ValueError):
        install(flask.Flask(__name__), store, secret_key=b"short")


def test_gate_runs_before_other_hooks(store):
    app = flask.Flask(__name__)
    ran = []
    app.before_request(lambda: ran.append("dash hook"))  # as Dash registers its own
    app.add_url_rule("/", "index", lambda: "secret page")
    install(app, store, secret_key=b"k" * 32, failure_delay_s=0)
    assert browser(app).get("/").status_code == 401
    assert ran == []


def test_default_cost_is_not_lowered():
    assert (auth.SCRYPT_N, auth.SCRYPT_R, auth.SCRYPT_P) == (16384, 8, 1)
    assert UserStore.__init__.__kwdefaults__ == {"n": 16384, "r": 8, "p": 1}


def test_a_body_over_1_mb_is_refused_before_the_login_reads_it(client, store, monkeypatch):
    checked = []
    monkeypatch.setattr(store, "verify", lambda *a: checked.append(a) or True)  # a spy: was it reached?
    token = csrf(client)
    data = {"username": NAME, "password": "x" * (2 << 20), "csrf_token": token}
    assert client.post("/login", data=data).status_code == 413
    assert checked == []


def test_the_gate_checks_host_and_origin(client):
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 403
    token = csrf(client)
    data = {"username": NAME, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/login", data=data, headers={"Origin": "http://localhost"}).status_code == 302
