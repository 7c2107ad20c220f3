"""Helpers shared by the tests: paths, small export builders, and the dashboard's plumbing
(free ports, files a process holds open, callback bodies, a served copy of the demo workbench)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
EXPECTED = json.loads((SAMPLE / "expected_findings.json").read_text(encoding="utf-8"))


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def sf_csv(header: list[str], rows: list[list[str]], *, newline: str = "\r\n", encoding: str = "utf-8",
           bom: bool = False, upper: bool = False) -> bytes:
    """A Salesforce-style CSV: every value quoted, quotes doubled."""

    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    head = [h.upper() if upper else h for h in header]
    text = newline.join(",".join(q(c) for c in row) for row in [head, *rows]) + newline
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


CONTACT_HEADER = ["Id", "IsDeleted", "AccountId", "FirstName", "LastName", "Email", "LeadSource",
                  "HasOptedOutOfEmail", "CreatedDate", "LastActivityDate", "Description", "Lawful_Basis__c"]


def contact_row(id_: str, email: str = "anna.ek@example.se", lead_source: str = "Web Research",
                created: str = "2024-03-01T12:00:00.000Z", **kw) -> list[str]:
    values = {"Id": id_, "IsDeleted": "false", "AccountId": "0015g00000XyZaBAAV", "FirstName": "Anna",
              "LastName": "Ek", "Email": email, "LeadSource": lead_source, "HasOptedOutOfEmail": "false",
              "CreatedDate": created, "LastActivityDate": "", "Description": "", "Lawful_Basis__c": ""}
    values.update(kw)
    return [values[h] for h in CONTACT_HEADER]


def layout(db: Path):
    """The warehouse `db`'s own paths as the application lays them out (insyn.workbench.Layout:
    its state folder beside it)."""
    from insyn.workbench import Layout

    return Layout(db)


def published(db: Path) -> Path:
    """The published-snapshot folder of the warehouse `db`."""
    return layout(db).published


def copy_workbench(root: Path, *, folders: tuple[str, ...] = ("pipelines", "expectations"),
                   warehouse: Path | None = None) -> tuple[Path, Path]:
    """A private workbench at `root`: the repository's config files and `folders`,
    and, when given, a copy of `warehouse` as its warehouse. Returns (root, warehouse path)."""
    import shutil

    root.mkdir(parents=True, exist_ok=True)
    for name in ("insyn.toml", "policy.toml"):
        shutil.copy(REPO / name, root / name)
    for folder in folders:
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    db = root / "data" / "warehouse" / "insyn.duckdb"
    if warehouse is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(warehouse, db)
    return root, db


# ---------------------------------------------------------------- the dashboard's plumbing


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def held_open(under: Path | str, pid: int | str = "self", *, or_deleted: bool = False) -> list[str]:
    """Files under `under` the process `pid` (this one by default) holds open, as /proc/PID/fd links
    name them ("PATH (deleted)" once unlinked); with `or_deleted`, unlinked ones anywhere too."""
    held = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:   # closed meanwhile
            continue
        if target.startswith(str(under)) or (or_deleted and target.endswith("(deleted)")):
            held.append(target)
    return held


def callback_body(callback: Mapping, values: Mapping[tuple[str, str], object]) -> dict:
    """The JSON body of a POST to /_dash-update-component, as the page sends it: `callback` is an
    entry of /_dash-dependencies (its "output" key, "a.b" or "..a.b...c.d.." for several outputs, its
    "inputs" and "state"); `values` maps each of its (id, property) inputs and states to the value
    sent. The first input is the one that changed."""
    output = callback["output"]
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    targets = [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in parts]

    def valued(entries):
        return [{"id": e["id"], "property": e["property"], "value": values[(e["id"], e["property"])]}
                for e in entries]

    inputs = valued(callback["inputs"])
    return {"output": output, "outputs": targets if output.startswith("..") else targets[0],
            "inputs": inputs, "state": valued(callback.get("state") or []),
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs][:1]}


@contextlib.contextmanager
def served_copy(demo_root: Path, root: Path, *, request_id: str, replacing: str, params: dict | None = None,
                users: Mapping[str, tuple[str, str]] | None = None,
                token: str | None = None) -> Iterator[SimpleNamespace]:
    """The dashboard's app on waitress (serve.make_server, in a thread) at 127.0.0.1, on a free port,
    on a copy at `root` of the demo workbench `demo_root` (the folders the dashboard needs and the
    demo warehouse). In it the request that the SQL query `replacing` (with `params`) selects gets
    the id `request_id`, and `users` (name -> (password, role)) can log in; `token` is the loopback
    token (None: one of its own). Yields url, token, root, db, workbench (its settings), application
    (the insyn.workbench.Workbench) and app (the Dash app)."""
    import threading

    import duckdb

    from insyn import serve
    from insyn.auth import UserStore
    from insyn.workbench import Workbench

    root, db = copy_workbench(root, folders=("pipelines", "expectations", "dashboards", "templates"),
                              warehouse=demo_root / "data" / "demo" / "insyn.duckdb")
    con = duckdb.connect(str(db))
    try:
        con.execute(f"update marts.fct_dsar_requests set request_id = $request_id where request_id = ({replacing})",
                    {**(params or {}), "request_id": request_id})
        assert con.execute("select count(*) from marts.fct_dsar_requests where request_id = $r",
                           {"r": request_id}).fetchone()[0] == 1
    finally:
        con.close()
    application = Workbench.open(root, db=db)
    store = UserStore(application.layout.users, n=2**10)   # quick hashes: these are test accounts
    for name, (password, role) in (users or {}).items():
        store.add(name, password, role=role)
    app = serve.create(application, host="127.0.0.1", auth_options={"token": token} if token else None)
    server = serve.make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.effective_port}", root=root, db=db,
                              workbench=application.settings, application=application,
                              app=app, token=app.server.extensions["insyn.auth"]["token"])
    finally:
        server.close()


def component_text(component) -> str:
    """All text in a Dash component tree (a page's layout or a callback's answer)."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(component_text(c) for c in component)
    return component_text(getattr(component, "children", None))


def find_component(component, component_id):
    """The component with `component_id` in a Dash component tree, else None."""
    if isinstance(component, (list, tuple)):
        for c in component:
            found = find_component(c, component_id)
            if found is not None:
                return found
        return None
    if getattr(component, "id", None) == component_id:
        return component
    return find_component(getattr(component, "children", None), component_id) if hasattr(component, "children") else None
