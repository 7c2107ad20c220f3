"""`insyn dashboard`: the Dash app on a production WSGI server (waitress).

Bound to a loopback address the dashboard is open to the local user only;
bound to any other address it requires a login and refuses to start while no
user exists (`insyn user add NAME`). It reads the published snapshot, so a
pipeline run can write meanwhile; waitress logs no requests (no personal data
in logs).
"""

from __future__ import annotations

import ipaddress
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


def users_path(workbench) -> Path:
    return workbench.secrets / "users.json"


def create(workbench, db_path: Path, *, host: str, language: str | None = None, auth_options: dict | None = None):
    """The Dash app for this workbench and warehouse, with a login unless `host` is loopback."""
    from . import snapshot

    if snapshot.current(db_path) is None:
        if not db_path.exists():
            raise InsynError(f"{db_path}: no warehouse yet (run `insyn run INBOX` or `insyn demo` first)")
        snapshot.publish(db_path)
    store = None
    if not is_loopback(host):
        from .auth import UserStore

        store = UserStore(users_path(workbench))
        if len(store) == 0:
            raise InsynError(f"dashboard: bound to {host}, off loopback, it needs a login: "
                             "add a user first with `insyn user add NAME`")
    if str(workbench.root) not in sys.path:
        sys.path.insert(0, str(workbench.root))
    from dashboards.app import create_app

    app = create_app(snapshot.SnapshotReader(db_path), workbench.pipelines / "queries",
                     language=language or workbench.language, access_report=report_maker(workbench, db_path))
    if store is not None:
        from .auth import install, load_secret_key

        install(app.server, store, secret_key=load_secret_key(workbench.secrets / "session.key"),
                **(auth_options or {}))
    return app


def report_maker(workbench, db_path: Path):
    """The /people page's access report: the same `produce` as `insyn dsar report`, on the
    snapshot, for the as-of it was built for; the file never stays on the server."""
    import tempfile

    from .access_report import produce
    from .findings import built_as_of
    from .sources import Sources

    policy = workbench.policy()
    sources = Sources.load(workbench.pipelines / "sources.toml")

    def make(cur, *, email: str, lang: str, fmt: str, vouched_by: str | None, recorded_by: str) -> tuple[str, bytes]:
        import datetime as dt

        as_of = built_as_of(cur) or dt.date.today()
        with tempfile.TemporaryDirectory(prefix="insyn-report-") as tmp:
            out = Path(tmp) / f"access-report.{fmt}"
            report = produce(cur, email=email, as_of=as_of, lang=lang, fmt=fmt, out=out, workbench=workbench,
                             policy=policy, sources=sources, db_path=db_path, vouched_by=vouched_by,
                             recorded_by=recorded_by)
            name = f"access-report-{report['request_id'] or 'vouched'}-{as_of.isoformat()}.{fmt}"
            return name, out.read_bytes()

    return make


def run(app, host: str, port: int) -> None:
    import waitress

    print(f"Insyn dashboard on http://{host}:{port}/ ({'local only' if is_loopback(host) else 'login required'})",
          flush=True)
    waitress.serve(app.server, host=host, port=port, threads=8, ident="insyn")
