"""The dashboard's access control: users, throttling and the login gate (insyn.auth)."""

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
from insyn.auth import AuthError, LoginGuard, UserStore, install, load_secret_key, safe_next

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

    install(app, store, secret_key=b"k" * 32, guard=LoginGuard(clock=clock), failure_delay_s=0)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


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
    assert set(record) == {"salt", "hash", "n", "r", "p", "created_at"}
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


# --- the guard -----------------------------------------------------------------


def test_guard_locks_a_user_name_and_a_client_address(clock):
    guard = LoginGuard(clock=clock)
    for _ in range(4):
        guard.record_failure("anna", "10.0.0.1")
    assert not guard.is_locked("anna", "10.0.0.1")
    guard.record_failure("anna", "10.0.0.2")
    assert guard.is_locked("anna", "10.0.0.9")  # the name, from anywhere
    assert not guard.is_locked("bertil", "10.0.0.9")

    for i in range(5):
        guard.record_failure(f"user{i}", "10.0.0.3")  # one address, many names
    assert guard.is_locked("cecilia", "10.0.0.3")
    assert not guard.is_locked("cecilia", "10.0.0.4")

    clock.now += 15 * 60 + 1
    assert not guard.is_locked("anna", "10.0.0.1")
    assert not guard.is_locked("cecilia", "10.0.0.3")


def test_guard_window_and_success_reset(clock):
    guard = LoginGuard(max_failures=3, window_s=60, lockout_s=30, clock=clock)
    guard.record_failure("anna", "a")
    guard.record_failure("anna", "b")
    clock.now += 61  # those two fall out of the window
    guard.record_failure("anna", "c")
    assert not guard.is_locked("anna", "d")
    guard.record_failure("anna", "e")
    guard.record_success("anna", "f")
    guard.record_failure("anna", "g")
    guard.record_failure("anna", "h")
    assert not guard.is_locked("anna", "i")
    guard.record_failure("anna", "j")
    assert guard.is_locked("anna", "k")
    assert guard.retry_after("anna", "k") == pytest.approx(30)


def test_guard_is_thread_safe(clock):
    guard = LoginGuard(max_failures=801, clock=clock)
    threads = [threading.Thread(target=lambda: [guard.record_failure("anna", "a") for _ in range(100)])
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not guard.is_locked("anna", "x")
    guard.record_failure("anna", "x")
    assert guard.is_locked("anna", "y")  # exactly the 801st failure: none was lost


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


def test_a_locked_login_does_not_check_the_password(client, store, monkeypatch):
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
    response = fresh.test_client().post(
        "/login", data={"username": NAME, "password": PASSWORD, "csrf_token": "x" * 43})
    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(app):
    token = csrf(app.test_client())
    response = login(app.test_client(), token=token)  # the token belongs to another browser
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
    assert cookie.startswith("__Host-")
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Expires=" in cookie  # a lifetime of 8 hours
    assert client.application.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_insecure_cookies_only_when_asked(store):
    app = flask.Flask(__name__)
    install(app, store, secret_key=b"k" * 32, secure_cookies=False, failure_delay_s=0)
    cookie = login(app.test_client()).headers["Set-Cookie"]
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie


def test_the_session_is_regenerated_at_login(client):
    csrf(client)
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
        before = dict(s)
    login(client, token=before["csrf"])
    with client.session_transaction() as s:
        assert s["user"] == NAME
        assert "planted" not in s
        assert "csrf" not in s


def test_logout(client):
    login(client)
    assert client.get("/", headers=HTML).status_code == 200
    response = client.get("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/", headers=HTML).status_code == 302
    assert client.post("/_dash-update-component", json={}).status_code == 401


def test_sessions_end_after_8_hours(client):
    login(client)
    with client.session_transaction() as s:
        s["auth_at"] -= 8 * 3600 + 1
    assert client.get("/", headers=HTML).status_code == 302


def test_a_new_password_ends_old_sessions(client, store):
    login(client)
    assert client.get("/", headers=HTML).status_code == 200
    store.add(NAME, "ett-helt-nytt-lösenord")
    assert client.get("/", headers=HTML).status_code == 302


def test_a_forged_session_is_refused(app):
    other = flask.Flask(__name__)
    other.secret_key = b"another key, not ours!!!!!!!!!!!"
    with other.test_request_context():
        forged = other.session_interface.get_signing_serializer(other).dumps({"user": NAME})
    client = app.test_client()
    client.set_cookie("__Host-insyn_session", forged)
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
    assert app.test_client().get("/").status_code == 401
    assert ran == []


def test_default_cost_is_not_lowered():
    assert (auth.SCRYPT_N, auth.SCRYPT_R, auth.SCRYPT_P) == (16384, 8, 1)
    assert UserStore.__init__.__kwdefaults__ == {"n": 16384, "r": 8, "p": 1}
