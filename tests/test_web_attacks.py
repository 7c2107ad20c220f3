"""Attacks on the dashboard's access control, performed from outside: HTTP requests to a real
`insyn dashboard` (waitress, its own process, on 127.0.0.1, a copy of the demo warehouse) and the
command line. Each test asserts the attack is refused (issue 15, items 1, 2, 7 and 8, the roles
and the weaker spots), so the tests hold whatever the dashboard looks like."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import callback_body, copy_workbench, free_port
from insyn.accesslog import AccessLog
from insyn.auth import UserStore
from sample import DEMO_PERSON_EMAIL

pytestmark = pytest.mark.cli
INSYN = str(Path(sys.executable).with_name("insyn"))
PASSWORD = "korrekt-häst-batteri-42"
WRONG = "fel-gissning-1234567"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
# Users of the module's dashboard: each test takes its own, so their locks and sessions do not meet.
USERS = {"dpo": "dpo", "anna": "viewer", "target": "viewer", "spray": "viewer", "karin": "dpo", "lars": "viewer"}


def _insyn(root: Path, *args: str, input: bytes | None = None, env: dict | None = None):
    return subprocess.run([INSYN, "--workbench", str(root), *args], input=input, capture_output=True,
                          timeout=120, env={**os.environ, **(env or {})})


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def cookie(self) -> str | None:
        """The "name=value" of the session cookie this response sets, if any."""
        for header in self.headers.get_all("Set-Cookie") or []:
            if header.startswith("insyn"):
                return header.split(";")[0]
        return None


class Dashboard:
    """A running `insyn dashboard` and an HTTP client for it that sends exactly what it is told."""

    def __init__(self, root: Path, db: Path, token: str | None):
        self.root, self.db, self.token = root, db, token
        self.port = free_port()
        env = {**os.environ, "INSYN_DASHBOARD_TOKEN": token or ""}
        self.out = open(root.parent / f"dashboard-{self.port}.out", "w+")
        self.err = open(root.parent / f"dashboard-{self.port}.err", "w+")
        self.process = subprocess.Popen([INSYN, "--workbench", str(root), "dashboard", "--port", str(self.port)],
                                        stdout=self.out, stderr=self.err, env=env)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, Path(self.err.name).read_text()
            try:
                if self.request("GET", "/login").status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError("the dashboard did not start")

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict:
        return {"Authorization": f"token {self.token}"}

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **headers) -> Response:
        return self.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})

    def callback(self, output: str, values: dict, headers: dict) -> Response:
        """POST the app's callback whose output names `output` ("people-result.children"), with
        these input and state values by component id, as the page would."""
        dep = next(d for d in self.dependencies() if output in d["output"].strip(".").split("..."))
        body = callback_body(dep, {(e["id"], e["property"]): values.get(e["id"])
                                   for e in dep["inputs"] + dep.get("state", [])})
        return self.request("POST", "/_dash-update-component", body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json", **headers})

    def dependencies(self) -> list[dict]:
        if not hasattr(self, "_dependencies"):
            self._dependencies = json.loads(self.request("GET", "/_dash-dependencies", headers=self.auth).body)
        return self._dependencies

    def login(self, user: str, password: str, address: str | None = None, origin: str | None = "") -> Response:
        """The login form as a browser fills it in (from `address` via the trusted proxy, when given)."""
        form = self.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        headers = {"Cookie": form.cookie(), "Content-Type": "application/x-www-form-urlencoded"}
        if origin is not None:
            headers["Origin"] = origin or self.origin
        if address:
            headers["X-Forwarded-For"] = address
        data = urllib.parse.urlencode({"username": user, "password": password, "csrf_token": csrf, "next": "/"})
        return self.request("POST", "/login", headers=headers, body=data.encode())

    def session(self, user: str = "dpo") -> str:
        response = self.login(user, PASSWORD)
        assert response.status == 302, response.text
        return response.cookie()

    def logins(self, user: str) -> list[dict]:
        from insyn.workbench import Workbench

        log = Workbench.open(self.root, db=self.db).layout.access_log
        return [e for e in AccessLog(log, self.root / "data" / "secrets").entries()
                if e["event"] == "login" and e["user"] == user]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.out.close()
        self.err.close()


@pytest.fixture(scope="module")
def workbench(demo, tmp_path_factory):
    wb, _ = demo
    root, db = copy_workbench(tmp_path_factory.mktemp("attacked") / "wb",
                              folders=("pipelines", "expectations", "dashboards", "templates"),
                              warehouse=wb / "data" / "demo" / "insyn.duckdb")
    config = root / "insyn.toml"
    text = config.read_text(encoding="utf-8")
    assert "allowed_hosts = []" in text and "trusted_proxies = []" in text
    # behind a TLS proxy on this machine: its public name, and its X-Forwarded-For believed
    config.write_text(text.replace("allowed_hosts = []", 'allowed_hosts = ["insyn.example.se"]')
                      .replace("trusted_proxies = []", 'trusted_proxies = ["127.0.0.1"]'), encoding="utf-8")
    store = UserStore(root / "data" / "secrets" / "users.json")
    for name, role in USERS.items():
        store.add(name, PASSWORD, role=role)
    return root, db


@pytest.fixture(scope="module")
def site(workbench):
    dashboard = Dashboard(*workbench, token=secrets.token_urlsafe(32))
    yield dashboard
    dashboard.stop()
    logged = Path(dashboard.err.name).read_text() + Path(dashboard.out.name).read_text()
    for secret in [PASSWORD, WRONG, dashboard.token, DEMO_PERSON_EMAIL, "127.0.0.1:", *USERS]:
        assert secret not in logged.replace(f"http://127.0.0.1:{dashboard.port}/", "")


def lookup_values(email: str) -> dict:
    return {"people-search": 1, "people-email": email, "lang": "sv"}


# --- item 2: nothing without a token or a login, on loopback too --------------------------


def test_nothing_without_a_token_or_a_login_even_on_loopback(site):
    for path in ["/", "/people", "/requests?email=" + DEMO_PERSON_EMAIL]:
        response = site.get(path, **HTML)
        assert response.status == 302
        assert response.headers["Location"].startswith("/login?next=")
        assert "email" not in response.headers["Location"]
    renderer = "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"
    for path in ["/_dash-layout", "/_dash-dependencies", "/assets/style.css", renderer, "/_favicon.ico", "/people"]:
        assert site.get(path, Accept="*/*").status == 401, path
    refused = site.callback("people-result.children", lookup_values(DEMO_PERSON_EMAIL), {"Origin": site.origin})
    assert refused.status == 401
    assert "register" not in refused.text and "ohrstrom" not in refused.text.lower()
    # the same look-up with the token answers: the refusal above is the gate's
    answered = site.callback("people-result.children", lookup_values(DEMO_PERSON_EMAIL), site.auth)
    assert answered.status == 200 and "DSAR-" in answered.text   # the person's requests, by their ids


def test_the_token_link_is_exchanged_for_a_strict_cookie_named_with_the_port(site):
    response = site.get(f"/requests?token={site.token}&lang=sv", **HTML)
    assert response.status == 302
    assert response.headers["Location"] == "/requests?lang=sv"  # the token leaves the address bar
    header = next(h for h in response.headers.get_all("Set-Cookie") if h.startswith("insyn"))
    assert header.startswith(f"insyn_{site.port}=")
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header
    assert "Secure" not in header  # plain http on loopback: a Secure cookie would never come back
    page = site.get("/requests", Cookie=response.cookie(), **HTML)
    assert page.status == 200 and "_dash-config" in page.text
    assert site.logins("local")[-1]["success"] is True
    assert site.logins("local")[-1]["address"] == "127.0.0.1"

    wrong = site.get(f"/requests?token=x{site.token}", **HTML)
    assert wrong.status == 302 and wrong.headers["Location"] == "/login?next=%2Frequests"
    assert wrong.cookie() is None or site.get("/requests", Cookie=wrong.cookie(), **HTML).status == 302
    assert site.logins("local")[-1]["success"] is False
    login_page = site.get("/login")
    assert "?token=" in login_page.text  # how to get in on this computer


def test_programmatic_clients_send_the_token_in_the_authorization_header(site):
    def post(headers: dict) -> Response:
        return site.callback("nav.children", {"lang": "en", "url": "/"}, headers)

    assert post(site.auth).status == 200  # no Origin: a program, not a browser
    assert post({"Authorization": f"Bearer {site.token}"}).status == 200
    for wrong in [f"token x{site.token}", f"Basic {site.token}", "token ", site.token]:
        assert post({"Authorization": wrong}).status == 401, wrong
    assert post({}).status == 403  # no credential and no Origin
    assert post({"Origin": site.origin}).status == 401


# --- item 2: DNS rebinding and cross-origin requests ---------------------------------------


def test_a_file_dash_does_not_have_is_a_404_with_no_traceback(site):
    for path in ["/_dash-component-suites/dash/../../etc/passwd", "/_dash-component-suites/insyn/auth.py",
                 "/_dash-component-suites/os/os.py"]:
        assert site.get(path, Accept="*/*", **site.auth).status == 404, path
    assert "Traceback" not in Path(site.err.name).read_text()


def test_a_host_the_dashboard_does_not_serve_is_refused(site):
    for host in [f"evil.example:{site.port}", "rebind.attacker.example", f"127.0.0.1:{site.port + 1}",
                 f"localhost.attacker.example:{site.port}", f"127.0.0.1:{site.port}@evil.example", ""]:
        assert site.get("/", Host=host, **site.auth).status == 403, host
        assert site.get(f"/?token={site.token}", Host=host, **HTML).status == 403, host
        login = site.request("POST", "/login", headers={"Host": host, "Origin": f"http://{host}"}, body=b"")
        assert login.status == 403, host
    for host in [f"127.0.0.1:{site.port}", f"localhost:{site.port}", f"[::1]:{site.port}", "insyn.example.se"]:
        assert site.get("/", Host=host, **site.auth).status == 200, host


def test_a_post_from_another_origin_is_refused(site):
    cookie = site.get(f"/?token={site.token}", **HTML).cookie()
    values = lookup_values(DEMO_PERSON_EMAIL)
    for origin in ["http://evil.example", "null", f"http://127.0.0.1:{site.port + 1}", f"http://localhost:{site.port}",
                   f"https://127.0.0.1:{site.port}.evil.example"]:
        response = site.callback("people-result.children", values, {"Cookie": cookie, "Origin": origin})
        assert response.status == 403, origin
        assert "register" not in response.text
    assert site.callback("people-result.children", values, {"Cookie": cookie}).status == 403  # a cookie, no Origin
    assert site.callback("people-result.children", values, {"Cookie": cookie, "Origin": site.origin}).status == 200
    # login CSRF: the form posted from another site, or with no Origin at all
    assert site.login("anna", PASSWORD, origin="http://evil.example").status == 403
    assert site.login("anna", PASSWORD, origin=None).status == 403


# --- item 7: logout ends the session on the server -------------------------------------------


def test_logout_ends_the_session_and_a_copied_cookie_no_longer_works(site):
    for cookie in [site.session("karin"), site.get(f"/?token={site.token}", **HTML).cookie()]:
        copy = cookie
        assert site.get("/", Cookie=cookie, **HTML).status == 200
        out = site.get("/logout", Cookie=cookie)
        assert out.status == 302 and out.headers["Location"] == "/login"
        assert site.get("/", Cookie=copy, **HTML).status == 302
        response = site.callback("people-result.children", lookup_values(DEMO_PERSON_EMAIL),
                                 {"Cookie": copy, "Origin": site.origin})
        assert response.status == 401


def test_a_new_password_or_removing_the_user_ends_their_sessions(site):
    cookie = site.session("lars")
    changed = _insyn(site.root, "user", "add", "lars", "--password-stdin", input=b"ett-helt-nytt-l\xc3\xb6senord\n")
    assert changed.returncode == 0, changed.stderr
    assert site.get("/", Cookie=cookie, **HTML).status == 302
    cookie = site.login("lars", "ett-helt-nytt-lösenord").cookie()
    assert site.get("/", Cookie=cookie, **HTML).status == 200
    assert _insyn(site.root, "user", "remove", "lars").returncode == 0
    assert site.get("/", Cookie=cookie, **HTML).status == 302
    again = _insyn(site.root, "user", "remove", "lars")
    assert again.returncode == 2 and b"no dashboard user" in again.stderr


# --- item 8: a lockout that cannot lock everyone out ------------------------------------------


def test_twenty_parallel_guesses_check_at_most_five_passwords_and_lock_no_one_else(site):
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda _: site.login("target", WRONG).status, range(20)))
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) == 5  # five passwords checked, fifteen refused before any check
    checked = [e for e in site.logins("target") if e["success"] is False]
    assert len(checked) == 5
    assert site.login("target", PASSWORD).status == 429  # this name from this address: locked
    assert site.login("anna", PASSWORD).status == 302  # another user from the same address (a proxy): let in
    # the real user from another address, named by the trusted proxy: let in
    assert site.login("target", PASSWORD, address="198.51.100.7").status == 302
    assert site.logins("target")[-1] == {**site.logins("target")[-1], "address": "198.51.100.7", "success": True}


def test_a_name_guessed_from_many_addresses_is_slowed_never_locked(site):
    def four_failures(address: str) -> list[int]:
        return [site.login("spray", WRONG, address=address).status for _ in range(4)]

    with ThreadPoolExecutor(5) as pool:
        statuses = [s for batch in pool.map(four_failures, [f"203.0.113.{i}" for i in range(1, 6)]) for s in batch]
    assert statuses == [401] * 20  # 20 failures: the user-wide slow-down begins, no lock
    assert site.login("spray", PASSWORD, address="203.0.113.99").status == 302  # from an address that never failed
    assert site.login("spray", PASSWORD, address="203.0.113.1").status == 302   # four failures there: not locked


# --- weaker spots ---------------------------------------------------------------------------------


def _status_of_a_big_post(site, path: str, length: int, headers: dict) -> bytes:
    """The status line the server answers to a POST announcing `length` bytes, read on the headers
    alone before any of the body is sent (data sent to a socket the server has closed makes it reset
    the connection, which can discard the answer); then some of the body, which is never read."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", site.port), timeout=30) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{site.port}\r\n{head}"
                   f"Content-Length: {length}\r\n\r\n").encode())
        status = s.recv(200).split(b"\r\n")[0]
        try:
            for _ in range(64):
                s.sendall(b"a" * 65536)
        except OSError:
            pass
    return status


def test_a_50_mb_post_is_refused_before_it_is_read(site):
    before = len(site.logins("dpo"))
    status = _status_of_a_big_post(site, "/login", 50 << 20, {
        "Origin": site.origin, "Content-Type": "application/x-www-form-urlencoded"})
    assert b" 413 " in status + b" "
    assert len(site.logins("dpo")) == before  # nothing was processed
    two_mb = _status_of_a_big_post(site, "/_dash-update-component", 2 << 20, {
        **site.auth, "Content-Type": "application/json"})
    assert b" 413 " in two_mb + b" "


def test_every_response_sends_no_store_and_the_security_headers(site):
    renderer = next(re.finditer(r'src="(/_dash-component-suites/[^"]+\.js)"', site.get("/", **site.auth).text)).group(1)
    responses = {
        "login page": site.get("/login"),
        "redirect to login": site.get("/", **HTML),
        "refusal": site.get("/_dash-layout"),
        "page": site.get("/", **site.auth),
        "script": site.get(renderer, **site.auth),
        "callback": site.callback("people-result.children", lookup_values("nobody@example.se"), site.auth),
        "unknown host": site.get("/", Host="evil.example"),
    }
    for what, response in responses.items():
        assert response.headers["Cache-Control"] == "no-store", what
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], what
        assert response.headers["X-Content-Type-Options"] == "nosniff", what
        expected = "same-origin" if what == "login page" else "no-referrer"  # see auth.install: page()
        assert response.headers["Referrer-Policy"] == expected, what
    policy = responses["page"].headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "*" not in script_src


def test_secret_files_others_may_read_stop_the_dashboard_naming_the_chmod(tmp_path):
    root, _ = copy_workbench(tmp_path / "wb", folders=())
    secrets_dir = root / "data" / "secrets"
    UserStore(secrets_dir / "users.json", n=1024).add("dpo", PASSWORD, role="dpo")
    for name, mode in [("users.json", 0o644), ("session.key", 0o640)]:
        path = secrets_dir / name
        if not path.exists():
            path.write_bytes(os.urandom(32))
        path.chmod(mode)
        result = _insyn(root, "dashboard", "--port", str(free_port()))
        stderr = result.stderr.decode()
        assert result.returncode == 2, stderr
        assert f"chmod 600 {path}" in stderr and "Traceback" not in stderr
        path.chmod(0o600)


@pytest.mark.parametrize("port", ["0", "65536", "-1", "80a", "99999999"])
def test_a_port_out_of_range_is_a_usage_error(port, tmp_path):
    result = _insyn(tmp_path, "dashboard", "--port", port)
    assert result.returncode == 2
    assert b"--port" in result.stderr and b"Traceback" not in result.stderr


def test_password_stdin_strips_one_line_end_exactly(tmp_path):
    root, _ = copy_workbench(tmp_path / "wb", folders=())
    store = UserStore(root / "data" / "secrets" / "users.json")
    cases = {"crlf": (b"l\xc3\xb6senord-med-crlf\r\n", "lösenord-med-crlf"),
             "lf": (b"  mellanslag kvar  \n", "  mellanslag kvar  "),
             "cr": (b"slutar-med-bara-cr\r", "slutar-med-bara-cr\r"),
             "two": (b"tv\xc3\xa5-radslut-i-slutet\n\n", "två-radslut-i-slutet")}
    for name, (given, password) in cases.items():
        result = _insyn(root, "user", "add", name, "--password-stdin", input=given)
        assert result.returncode == 0, result.stderr
        assert store.verify(name, password), name
        assert not store.verify(name, password + "\r") and not store.verify(name, password.rstrip("\r") + "\n")


def test_user_roles_list_and_remove_on_the_command_line(tmp_path):
    root, _ = copy_workbench(tmp_path / "wb", folders=())
    add = lambda *args: _insyn(root, "user", "add", *args, "--password-stdin", input=PASSWORD.encode() + b"\n")  # noqa
    assert add("dpo.anna", "--role", "dpo").returncode == 0
    made = add("viewer.bo")
    assert made.returncode == 0 and b"role viewer" in made.stdout  # least privilege by default
    assert add("x", "--role", "admin").returncode == 2
    assert add("local").returncode == 2  # the token holder's name
    listed = _insyn(root, "user", "list")
    assert listed.returncode == 0
    rows = [line.split() for line in listed.stdout.decode().splitlines()[2:-1]]
    assert [row[:2] for row in rows] == [["dpo.anna", "dpo"], ["viewer.bo", "viewer"]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+\+00:00", row[2]) for row in rows)
    assert b"salt" not in listed.stdout and not re.search(rb"[0-9a-f]{32}", listed.stdout)
    gone = _insyn(root, "user", "remove", "nobody")
    assert gone.returncode == 2 and b"no dashboard user" in gone.stderr
    assert _insyn(root, "user", "remove", "viewer.bo").returncode == 0
    assert b"viewer.bo" not in _insyn(root, "user", "list").stdout


# --- roles -------------------------------------------------------------------------------------


def test_a_viewer_gets_no_person_look_up(site):
    viewer = site.session("anna")
    dpo = site.session("dpo")
    values = lookup_values(DEMO_PERSON_EMAIL)
    refused = site.callback("people-result.children", values, {"Cookie": viewer, "Origin": site.origin})
    assert refused.status == 403 and "register" not in refused.text
    answered = site.callback("people-result.children", values, {"Cookie": dpo, "Origin": site.origin})
    assert answered.status == 200 and "DSAR-" in answered.text   # the person's requests, by their ids


# --- item 1's file half: the report format never becomes a path -------------------------------


def test_the_report_format_never_reaches_a_path(site, tmp_path):
    from insyn import serve
    from insyn.errors import InsynError
    from insyn.workbench import Workbench

    make = serve.report_maker(Workbench.open(site.root, db=site.db))
    for fmt in ["x/../../evil.txt", "../pdf", "pdf/../../x", "", None, ["pdf"], "PDF", "pdf\x00"]:
        with pytest.raises(InsynError, match="report format"):
            # no cursor at all: the format is refused before anything is opened
            make(None, email=DEMO_PERSON_EMAIL, lang="sv", fmt=fmt, vouched_by=None, recorded_by="test")
    target = tmp_path / "where.txt"
    attack = "x/" + "../" * 12 + str(target).lstrip("/")
    values = {"report-produce": 1, "people-email": DEMO_PERSON_EMAIL, "report-vouched-by": None,
              "report-format": attack, "lang": "sv"}
    response = site.callback("report-download.data", values, site.auth)
    assert response.status == 400, response.text[:300]   # the input hook refuses it: the callback never runs
    assert json.loads(response.body) == {"error": "report-format.value: not one of the values offered"}
    assert not target.exists()


def test_the_download_name_keeps_only_safe_characters(site):
    values = {"report-produce": 1, "people-email": DEMO_PERSON_EMAIL, "report-vouched-by": None,
              "report-format": "json", "lang": "sv"}
    response = site.callback("report-download.data", values, site.auth)
    assert response.status == 200, response.text[:300]
    name = json.loads(response.body)["response"]["report-download"]["data"]["filename"]
    assert re.fullmatch(r"access-report-[A-Za-z0-9._-]+\.json", name)


# --- two dashboards on one machine; the printed address ------------------------------------------


def test_the_printed_address_carries_a_random_token_and_two_dashboards_keep_apart(site):
    other = Dashboard(site.root, site.db, token=None)
    try:
        printed = Path(other.out.name).read_text()
        found = re.search(rf"http://127\.0\.0\.1:{other.port}/\?token=([A-Za-z0-9_-]{{43}})\n", printed)
        assert found, printed
        token = found.group(1)
        assert token != site.token
        mine = other.get(f"/?token={token}", **HTML).cookie()
        theirs = site.get(f"/?token={site.token}", **HTML).cookie()
        assert mine.startswith(f"insyn_{other.port}=") and theirs.startswith(f"insyn_{site.port}=")
        # each dashboard's cookie opens that dashboard only (the browser sends both: cookies ignore ports)
        assert other.get("/", Cookie=theirs, **HTML).status == 302
        assert other.get("/", Cookie=f"insyn_{other.port}={theirs.split('=', 1)[1]}", **HTML).status == 302
        assert other.get("/", Cookie=f"{theirs}; {mine}", **HTML).status == 200
        assert other.get("/", Authorization=f"token {site.token}").status == 401
    finally:
        other.stop()
