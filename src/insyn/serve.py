"""`insyn dashboard`: the Dash app on a production WSGI server (waitress).

No request gets anything but the login page without a credential, on any
address. Bound to a loopback address the dashboard prints a URL with a random
token (or takes $INSYN_DASHBOARD_TOKEN) that the browser exchanges for a
session cookie, and accepts the login too when users exist; bound to any
other address it requires a login and refuses to start while no user exists
(`insyn user add NAME`). It reads the published snapshot, so a pipeline run
can write meanwhile; waitress logs no requests (no personal data in logs).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys
from pathlib import Path

from .errors import InsynError

def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """Bound to every address of the machine."""
    return host.strip("[]") in ("", "0.0.0.0", "::")


def host_check(host: str, allowed_hosts=()):
    """The Host headers a dashboard bound to `host` answers (see auth.HostCheck)."""
    from .auth import LOOPBACK_NAMES, HostCheck

    name = host.lower()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 address, as a Host header writes it
    if is_wildcard(host):
        served = {*LOOPBACK_NAMES, socket.gethostname().lower(), socket.getfqdn().lower()}
        return HostCheck(served, allowed_hosts, any_ip=True)
    if is_loopback(host):
        return HostCheck({*LOOPBACK_NAMES, name}, allowed_hosts)
    return HostCheck({name}, allowed_hosts)


def dash_csp(app) -> str:
    """The Content-Security-Policy the Dash pages render under: scripts from this server
    and Dash's own inline ones by hash; inline styles (Dash and Plotly set them)."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def create(app, *, host: str, language: str | None = None, allow_http: bool = False,
           auth_options: dict | None = None):
    """The Dash app for the application object `app` (settings.Workbench: its settings and
    warehouse), behind the login gate of insyn.auth."""
    from . import snapshot
    from .auth import AuthError, UserStore, check_owner_only, dashboard_token, install, load_secret_key, \
        parse_networks

    settings, layout = app.settings, app.layout
    try:
        for path in (layout.users, layout.session_key):
            check_owner_only(path)
        store = UserStore(layout.users)
        loopback = is_loopback(host)
        if not loopback and len(store) == 0:
            raise InsynError(f"dashboard: bound to {host}, off loopback, it needs a login: "
                             "add a user first with `insyn user add NAME --role dpo`")
        token = dashboard_token()[0] if loopback else None
        hosts = host_check(host, settings.dashboard.get("allowed_hosts", ()))
        proxies = parse_networks(settings.dashboard.get("trusted_proxies", ()), "dashboard.trusted_proxies")
        secret_key = load_secret_key(layout.session_key)
    except AuthError as exc:
        raise InsynError(f"dashboard: {exc}") from None
    if snapshot.current(layout.published) is None:
        if not layout.warehouse.exists():
            raise InsynError(f"{layout.warehouse}: no warehouse yet (run `insyn run INBOX` or `insyn demo` first)")
        app.publish()
    access_log = app.access_log()
    if str(settings.root) not in sys.path:
        sys.path.insert(0, str(settings.root))
    from dashboards.app import create_app

    from . import texts

    dash_app = create_app(snapshot.SnapshotReader(layout.published), settings.pipelines / "queries",
                          language=language or settings.language, access_report=report_maker(app),
                          access_log=access_log, locale_dir=texts.workbench_locale(settings.root),
                          sources=app.sources)

    def on_login(user: str, address: str, success: bool) -> None:
        access_log.record("login", user=user, address=address, success=success)

    options = {
        # Plain http on loopback (no TLS there); off loopback the cookie is Secure unless --allow-http.
        "secure_cookies": not (loopback or allow_http),
        "same_site": "Strict" if loopback else "Lax",
        "token": token,
        "hosts": hosts,
        "trusted_proxies": proxies,
        "on_login": on_login,
        "csp": lambda: dash_csp(dash_app),
        "locale": texts.workbench_locale(settings.root),
        **(auth_options or {}),
    }
    install(dash_app.server, store, secret_key=secret_key, **options)
    return dash_app


def report_maker(app):
    """The /people page's access report: the same `produce` as `insyn dsar report`, on the
    snapshot, for the as-of it was built for; the file never stays on the server."""
    import tempfile

    from .access_report import FORMATS, default_name, produce
    from .findings import built_as_of

    policy, sources = app.policy, app.sources

    def make(cur, *, email: str, lang: str, fmt: str, vouched_by: str | None,
             recorded_by: str) -> tuple[str, bytes, bool]:
        """(download name, the report, whether identity rested on `vouched_by`)."""
        import datetime as dt

        # The format comes from the browser: checked before anything, never part of a path unchecked.
        if not isinstance(fmt, str) or fmt not in FORMATS:
            raise InsynError(f"report format: expected one of {', '.join(FORMATS)}")
        as_of = built_as_of(cur) or dt.date.today()
        with tempfile.TemporaryDirectory(prefix="insyn-report-") as tmp:
            out = Path(tmp) / f"access-report.{fmt}"  # a fixed name in a folder of its own
            report = produce(cur, email=email, as_of=as_of, lang=lang, fmt=fmt, out=out, workbench=app.settings,
                             policy=policy, sources=sources, ledger=app.layout.ledger, vouched_by=vouched_by,
                             recorded_by=recorded_by, kept=False)   # deleted with its folder: no path to record
            # The request id comes from the register: only [A-Za-z0-9._-] of it reach the name.
            return default_name(report["request_id"], fmt), out.read_bytes(), report["identity"]["how"] == "vouched"

    return make


def make_server(app, host: str, port: int):
    """The waitress server for `app` (behind auth.install); bodies over auth.MAX_CONTENT_LENGTH are
    refused (413) before they are read, so a huge POST costs neither memory nor a temporary file."""
    from waitress.server import create_server

    from .auth import MAX_CONTENT_LENGTH

    # waitress drops X-Forwarded-For itself unless told otherwise; with trusted proxies
    # configured, the gate reads it, and believes it only from those proxies.
    proxies = app.server.extensions["insyn.auth"]["trusted_proxies"]
    try:
        return create_server(app.server, host=host, port=port, threads=8, ident="insyn",
                             max_request_body_size=MAX_CONTENT_LENGTH + 1, clear_untrusted_proxy_headers=not proxies)
    except OSError as exc:   # the port in use, a privileged port, an address this computer does not have
        reason = "in use by another program" if exc.errno == errno.EADDRINUSE else (
            exc.strerror or type(exc).__name__).lower()
        raise InsynError(f"--host {host} --port {port}: cannot listen there ({reason}); "
                         "choose another with --port (or --host)") from None


def run(app, host: str, port: int) -> None:
    from .auth import TOKEN_ENV

    server = make_server(app, host, port)
    token = app.server.extensions["insyn.auth"]["token"]
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{shown}:{server.effective_port}/"
    if token is None:
        note = f"Insyn dashboard on {url} (login required)"
    elif os.environ.get(TOKEN_ENV) == token:
        note = f"Insyn dashboard on {url} (this computer only: the token in ${TOKEN_ENV}, or a login)"
    else:
        note = (f"Insyn dashboard on {url}?token={token}\n"
                "(this computer only: open that address; the token holds until the dashboard stops)")
    print(note, flush=True)
    server.run()
