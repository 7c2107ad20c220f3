"""Erasure leaves no trace of the person (issue 15, item 6), checked from outside.

On a copy of the demo workbench, with the temporary folder of every insyn
process pointed at a private one: the demo person's access report is made
(HTML in the reports folder, PDF elsewhere with --out, one more from the
dashboard), then she is erased in another process. Every file of the
workbench (the input exports and the audit packs already issued excepted, as
the README says) and the private temporary folder are searched for her
address, names (NFC, NFD, as JSON and HTML escape them) and phone: only the
register's row (in the warehouse), the deletion task and the salted hash are
left. And a running dashboard lets go of the erased snapshot by itself.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.request
import zipfile
from pathlib import Path

import duckdb
import pytest

from insyn.db import ident
from sample import DEMO_PERSON_EMAIL, DEMO_PERSON_NAME

from helpers import REPO, callback_body, free_port, held_open, layout

AS_OF = "2026-11-24"
REQUEST = "DSAR-2026-025"
PHONE = "+46 70 318 42 95"       # her Contact's phone in the sample's CRM exports
EXCEPTED = ("data/sample", "data/demo/audit-packs")   # input exports, and packs already issued (README)
REGISTER_DERIVED = {"raw.register__requests", "staging.stg_register__requests", "marts.fct_dsar_requests",
                    "marts.dim_people", "marts.fct_erasure_presence"}

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")


def _needles() -> list[bytes]:
    """Her address, names and phone, as files may hold them."""
    local = DEMO_PERSON_EMAIL.split("@")[0]
    texts = {DEMO_PERSON_EMAIL, DEMO_PERSON_EMAIL.replace("@", "%40"), local, PHONE, PHONE[4:], "3184295"}
    for name in (DEMO_PERSON_NAME, *DEMO_PERSON_NAME.split()):
        for form in ("NFC", "NFD"):
            text = unicodedata.normalize(form, name)
            texts |= {text, json.dumps(text)[1:-1], json.dumps(text)[1:-1].replace("\\u", "\\\\u")}
        texts |= {name.encode("ascii", "xmlcharrefreplace").decode(),          # &#197;sa
                  "".join(f"&#x{ord(c):x};" if ord(c) > 127 else c for c in name)}
    found = set()
    for text in texts:
        found |= {text.encode("utf-8"), text.encode("utf-16-le")}
    return sorted(found)


NEEDLES = _needles()


def _contents(path: Path) -> list[bytes]:
    """The bytes to search: a PDF's text, a compressed file's content, else the file."""
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        text = subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True, check=True).stdout
        return [data, text]
    if data.startswith(b"\x1f\x8b"):
        return [data, gzip.decompress(data)]
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(path) as archive:
            return [data, *(archive.read(n) for n in archive.namelist())]
    return [data]


def _tables_holding(db: Path, texts: list[str]) -> set[str]:
    """Tables of a DuckDB file with a text cell holding any of `texts` (case-insensitively)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = set()
        for schema, table, columns in con.execute(
                "select c.schema_name, c.table_name, list(c.column_name) from duckdb_columns() c "
                "join duckdb_tables() t on t.schema_name = c.schema_name and t.table_name = c.table_name "
                "where c.data_type = 'VARCHAR' and not c.internal group by all").fetchall():
            for text in texts:
                condition = " or ".join(f"strpos(lower({ident(c)}), $x) > 0" for c in columns)
                if con.execute(f"select count(*) from {ident(schema)}.{ident(table)} where {condition}",
                               {"x": text.lower()}).fetchone()[0]:
                    found.add(f"{schema}.{table}")
        return found
    finally:
        con.close()


def traces(*roots: Path, workbench: Path) -> dict[str, str]:
    """Every file under `roots` that holds her (path -> why), but what erasure keeps on purpose."""
    found = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            where = path.relative_to(workbench).as_posix() if path.is_relative_to(workbench) else str(path)
            if where.startswith(EXCEPTED):
                continue
            if where.startswith("data/demo/insyn.duckdb.d/deletion-tasks/"):   # the tasks for the source systems name her address
                continue
            if path.suffix == ".duckdb":               # the warehouse and snapshots keep her request record only
                extra = _tables_holding(path, [DEMO_PERSON_EMAIL, DEMO_PERSON_NAME.split()[1], PHONE]) - REGISTER_DERIVED
                if extra:
                    found[where] = f"tables {sorted(extra)}"
                continue
            for data in _contents(path):
                hits = [n for n in NEEDLES if n in data or n.lower() in data.lower()]
                if hits:
                    found[where] = f"holds {hits[0]!r}"
                    break
    return found


# ---------------------------------------------------------------- the workbench and its processes


@pytest.fixture
def private_tmp():
    """A private temporary folder with a short path: Chromium puts a Unix socket in it, and a socket's
    path may not be longer than 107 bytes (under pytest's tmp_path it would be)."""
    folder = Path(tempfile.mkdtemp(prefix="insyn-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def bench(demo, tmp_path, private_tmp):
    """A copy of the demo workbench, a private temporary folder, and run(*args) for `insyn` in a subprocess."""
    wb, _ = demo
    root = tmp_path / "wb"
    shutil.copytree(wb, root, symlinks=True)
    shutil.copytree(REPO / "dashboards", root / "dashboards", ignore=shutil.ignore_patterns("__pycache__"))
    private = private_tmp
    db = root / "data" / "demo" / "insyn.duckdb"
    token = secrets.token_urlsafe(32)
    env = {**os.environ, "TMPDIR": str(private), "INSYN_DASHBOARD_TOKEN": token}
    exe = str(Path(sys.executable).with_name("insyn"))

    def run(*args):
        return subprocess.run([exe, "-q", "--workbench", str(root), "--db", str(db), *map(str, args)],
                              capture_output=True, text=True, env=env, timeout=300)

    run.root, run.db, run.tmp, run.env, run.exe, run.token = root, db, private, env, exe, token
    return run


@contextlib.contextmanager
def dashboard(bench):
    """`insyn dashboard` on a free port, in its own process; yields (process, base URL)."""
    port = free_port()
    proc = subprocess.Popen([bench.exe, "-q", "--workbench", str(bench.root), "--db", str(bench.db), "dashboard",
                             "--port", str(port)], env=bench.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.2)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def callback(bench, base: str, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, object]],
             state: list[tuple[str, str, object]] = ()) -> dict:
    """One Dash callback over HTTP, with the token as any client sends it."""
    spec = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",   # Dash's id of several outputs
            "inputs": [{"id": i, "property": p} for i, p, _ in inputs],
            "state": [{"id": i, "property": p} for i, p, _ in state]}
    body = callback_body(spec, {(i, p): v for i, p, v in [*inputs, *state]})
    request = urllib.request.Request(f"{base}/_dash-update-component", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"token {bench.token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return json.loads(response.read())


def open_as_of(bench, base: str) -> dict:
    """The header's as-of choices: a callback that reads the published snapshot."""
    return callback(bench, base, [("as-of", "options"), ("as-of", "value"), ("footer", "children")],
                    [("url", "pathname", "/"), ("lang", "value", "sv")],
                    [("as-of", "value", None), ("as-of-chosen", "data", None)])


# ---------------------------------------------------------------- the tests


def test_after_erasure_only_the_register_row_the_deletion_task_and_the_salted_hash_are_left(bench, tmp_path):
    other = tmp_path / "sent"                                   # --out can point anywhere
    r = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--format", "html")
    assert r.returncode == 0, r.stderr
    r = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--format", "pdf", "--out",
              other / f"{REQUEST}.pdf")
    assert r.returncode == 0, r.stderr
    with dashboard(bench) as (proc, base):                      # one more, from the dashboard's /people page
        made = callback(bench, base, [("report-download", "data"), ("report-status", "children")],
                        [("report-produce", "n_clicks", 1)],
                        [("people-email", "value", DEMO_PERSON_EMAIL), ("report-vouched-by", "value", None),
                         ("report-format", "value", "html"), ("lang", "value", "sv")])
        download = made["response"]["report-download"]["data"]
        assert DEMO_PERSON_NAME in base64.b64decode(download["content"]).decode("utf-8")
    before = traces(bench.root, bench.tmp, other, workbench=bench.root)   # the search finds her where she is
    assert str(other / f"{REQUEST}.pdf") in before
    assert {p.suffix for p in layout(bench.db).reports.iterdir()
            if f"data/demo/insyn.duckdb.d/reports/{p.name}" in before} \
        == {".html", ".pdf"}                                     # this report, and the one `insyn demo` made
    assert "data/demo/insyn.duckdb.d/dsar-ledger.jsonl" not in before
    assert "data/demo/insyn.duckdb.d/access-log.jsonl" not in before

    r = bench("dsar", "erase", DEMO_PERSON_EMAIL, "--request", REQUEST, "--on", AS_OF)
    assert r.returncode == 0, r.stdout + r.stderr
    assert str(other / f"{REQUEST}.pdf") in r.stdout and "NOT removed" not in r.stdout
    assert "a report was downloaded from the dashboard by local" in r.stdout   # its copy: the DPO's to delete

    assert traces(bench.root, bench.tmp, other, workbench=bench.root) == {}
    # what is left, on purpose: the register's row, the deletion tasks, the salted hash
    assert REGISTER_DERIVED & _tables_holding(bench.db, [DEMO_PERSON_EMAIL])
    tasks = list(layout(bench.db).deletion_tasks.glob("*.csv"))
    assert len(tasks) == 1 and DEMO_PERSON_EMAIL in tasks[0].read_text(encoding="utf-8-sig")
    salt = (bench.root / "data" / "secrets" / "suppression.salt").read_text().strip()
    from insyn.ledger import salted

    hashed = salted(salt, DEMO_PERSON_EMAIL)
    assert hashed in layout(bench.db).ledger.read_text()
    log = [json.loads(line) for line in layout(bench.db).access_log.read_text().splitlines()]
    assert {(e["event"], e["subject"]) for e in log} >= {("report", hashed), ("erase", hashed)}


def test_a_running_dashboard_lets_go_of_the_erased_snapshot_without_a_request(bench):
    published = layout(bench.db).published
    with dashboard(bench) as (proc, base):
        open_as_of(bench, base)                                  # the dashboard now reads the snapshot
        before = held_open(published, proc.pid, or_deleted=True)
        assert any(p.endswith(".duckdb") for p in before), before
        r = bench("dsar", "erase", DEMO_PERSON_EMAIL, "--request", REQUEST, "--on", AS_OF)   # another process
        assert r.returncode == 0, r.stdout + r.stderr
        assert not any(Path(p).exists() for p in before)        # the erasure removed the snapshot it read
        time.sleep(4)                                            # some seconds; no request in between
        after = held_open(published, proc.pid, or_deleted=True)
        assert not [p for p in after if p.endswith("(deleted)")], after
        assert proc.poll() is None
