"""`insyn lab`: JupyterLab on this computer only, behind its token, offline, and on a copy of the
warehouse that the kernel cannot change the real one through."""

import asyncio
import contextlib
import hashlib
import http.client
import io
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import duckdb
import pytest

from insyn.cli import main

from helpers import copy_workbench, free_port

pytestmark = pytest.mark.cli

INSYN = Path(sys.executable).with_name("insyn")
KERNEL_CODE = """
import json, os, stat, duckdb
path = os.environ["INSYN_WAREHOUSE"]
ro = duckdb.connect(path, read_only=True)
rows = ro.execute("select count(*) from main.lab_probe").fetchone()[0]
ro.close()
try:
    rw = duckdb.connect(path)
    rw.execute("create table written_by_a_notebook (x int)")
    rw.close()
    wrote = "wrote"
except Exception as exc:
    wrote = type(exc).__name__
print(json.dumps({"path": path, "db": os.environ.get("INSYN_DB"), "rows": rows, "wrote": wrote,
                  "mode": stat.S_IMODE(os.stat(path).st_mode),
                  "folder_mode": stat.S_IMODE(os.stat(os.path.dirname(os.path.dirname(path))).st_mode)}))
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def workbench(tmp_path) -> tuple[Path, Path]:
    """A workbench with its notebooks and a small warehouse (one table), not yet published."""
    root, db = copy_workbench(tmp_path / "wb", folders=("notebooks",))
    db.parent.mkdir(parents=True)
    con = duckdb.connect(str(db))
    con.execute("create table lab_probe as select * from range(3)")
    con.close()
    return root, db


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("INSYN_", "JUPYTER_"))}


def _get(port: int, path: str, *, token: str | None = None, host: str | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"token {token}"} if token else {}
    if host:
        headers["Host"] = host
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    result = response.status, dict(response.getheaders()), response.read()
    conn.close()
    return result


def _post(port: int, path: str, token: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=json.dumps(body), headers={"Authorization": f"token {token}",
                                                              "Content-Type": "application/json"})
    response = conn.getresponse()
    result = response.status, json.loads(response.read() or b"{}")
    conn.close()
    return result


def _listening(port: int) -> list[str]:
    """The local addresses (hex, as /proc/net/tcp* writes them) of sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":   # 0A: LISTEN
                found.append(address)
    return found


def _read_banner(process: subprocess.Popen, deadline: float) -> str:
    """Standard output up to the line naming $INSYN_WAREHOUSE (the three lines the command prints)."""
    out = b""
    while b"INSYN_WAREHOUSE" not in out:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, f"insyn lab printed no address: {out!r}"
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            out += os.read(process.stdout.fileno(), 4096)
    return out.decode()


def _execute(port: int, token: str, kernel_id: str, code: str) -> str:
    """Run `code` in the kernel over Jupyter's websocket; its standard output."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    async def run() -> str:
        request = HTTPRequest(f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels",
                              headers={"Authorization": f"token {token}"})
        ws = await websocket_connect(request)
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        out = []
        while True:
            raw = await asyncio.wait_for(ws.read_message(), timeout=60)
            assert raw is not None, "the kernel's websocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise AssertionError(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                ws.close()
                return "".join(out)

    return _in_own_thread(lambda: asyncio.run(run()))


def _in_own_thread(work):
    """Run `work` in a thread of its own: a browser test run earlier in this worker leaves
    pytest-playwright's event loop running in the main thread, where asyncio.run and
    Playwright's sync API refuse to start."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


@contextlib.contextmanager
def _lab(root: Path):
    """`insyn lab --port 0` in a subprocess until the block ends: its port, token, banner, and
    once stopped, the rest of its output."""
    process = subprocess.Popen([INSYN, "--workbench", root, "lab", "--port", "0"], cwd=root, env=_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lab = SimpleNamespace(process=process)
    try:
        lab.banner = _read_banner(process, time.monotonic() + 60)
        port, lab.token = re.search(r"http://127\.0\.0\.1:(\d+)/lab\?token=([\w-]+)", lab.banner).groups()
        lab.port = int(port)
        deadline = time.monotonic() + 30
        while True:   # the address is printed as the server starts listening
            try:
                _get(lab.port, "/api/status")
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "JupyterLab did not start"
                time.sleep(0.2)
        yield lab
    finally:
        process.terminate()
        lab.out, lab.err = (stream.decode() for stream in process.communicate(timeout=60))


def test_lab_serves_loopback_only_behind_its_token_offline_on_a_copy_of_the_warehouse(workbench):
    root, db = workbench
    with _lab(root) as lab:
        port, token = lab.port, lab.token
        status = _get(port, "/api/status")[0]
        # this computer only: listening on 127.0.0.1, on no other address
        assert _listening(port) == ["0100007F"]
        # nothing without the token; everything with it; no other Host (DNS rebinding)
        assert status == 403
        assert _get(port, "/api/contents")[0] == 403
        status, headers, _ = _get(port, "/lab")
        assert status == 302 and "/login" in headers["Location"]
        assert _get(port, "/api/contents", token=token)[0] == 200
        assert _get(port, "/api/contents", token=token, host=f"attacker.example:{port}")[0] == 403
        status, _, page = _get(port, "/lab", token=token)
        assert status == 200
        # offline: no news feed, no update check, an extension manager that never asks PyPI
        config = json.loads(re.search(rb'id="jupyter-config-data"[^>]*>\s*(\{.*?\})\s*</script>', page, re.S)[1])
        assert config["news"] == {"disabled": True}
        assert config["extensionManager"]["name"] == "read-only"
        assert config["terminalsAvailable"] is False
        assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
        assert json.loads(_get(port, "/lab/api/news", token=token)[2])["news"] == []
        assert json.loads(_get(port, "/lab/api/update", token=token)[2])["notification"] is None

        # the kernel sees a private read-only copy of the published snapshot, never the warehouse
        published = db.with_name(db.name + ".d") / "published"
        snapshot = published / (published / "CURRENT").read_text().strip()
        before = {db: _sha256(db), snapshot: _sha256(snapshot)}
        status, kernel = _post(port, "/api/kernels", token, {"name": "python3"})
        assert status == 201, kernel
        seen = json.loads(_execute(port, token, kernel["id"], KERNEL_CODE))
        copy = Path(seen["path"])
        assert seen["rows"] == 3 and seen["db"] == seen["path"]
        assert not copy.is_relative_to(root) and copy.name == "insyn.duckdb"
        assert seen["mode"] == 0o400 and seen["folder_mode"] == 0o700
        if os.geteuid() != 0:   # root writes through any file mode: then the copy is what protects
            assert seen["wrote"] != "wrote"
        assert {path: _sha256(path) for path in before} == before
        assert not duckdb.connect(str(db), read_only=True).execute(
            "select * from duckdb_tables() where table_name = 'written_by_a_notebook'").fetchall()
    # the token once, on the console; never in Jupyter's own messages; the copy goes with the server
    assert (lab.banner + lab.out).count(token) == 1 and token not in lab.err
    assert "Traceback" not in lab.err
    assert "running over TCP" not in lab.err   # the kernel talks over Unix sockets in the private folder
    assert not copy.parent.parent.exists()


@pytest.mark.browser
def test_jupyterlab_loads_in_a_browser_asking_nothing_of_any_other_host(workbench):
    from playwright.sync_api import sync_playwright

    from insyn.audit import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    elsewhere = []

    def only_here(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:   # recorded and refused: the test itself never reaches the network
            elsewhere.append(route.request.url)
            route.abort()

    def visit(lab) -> int:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.route("**/*", only_here)
                page.goto(f"http://127.0.0.1:{lab.port}/lab?token={lab.token}")
                # the launcher offers the kernel, the file browser lists the notebooks' folders
                page.locator(".jp-LauncherCard").first.wait_for(timeout=60_000)
                page.locator(".jp-DirListing-item", has_text="analyst").wait_for(timeout=30_000)
                page.wait_for_timeout(3000)   # what JupyterLab asks for after it starts (news, updates)
                # no question about fetching news (the news feed is off)
                return page.get_by_text("official Jupyter news").count()
            finally:
                browser.close()

    with _lab(workbench[0]) as lab:
        assert _in_own_thread(lambda: visit(lab)) == 0
    assert elsewhere == []


def _insyn(root: Path, *args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--workbench", str(root), "lab", *args])
    return code, err.getvalue()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_lab_refuses_any_address_but_loopback(workbench, host):
    code, err = _insyn(workbench[0], "--host", host, "--port", "0")
    assert code == 2 and f"--host {host}: JupyterLab listens on this computer only" in err
    assert "Traceback" not in err


def test_lab_refuses_a_port_in_use_or_out_of_range(workbench):
    root, _ = workbench
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _insyn(root, "--port", str(port))
    assert code == 2 and f"--port {port}: cannot listen there (in use by another program)" in err
    with pytest.raises(SystemExit) as exited, contextlib.redirect_stderr(io.StringIO()) as usage:
        main(["--workbench", str(root), "lab", "--port", "99999"])
    assert exited.value.code == 2 and "not a port" in usage.getvalue()


def test_lab_without_jupyterlab_names_the_install_command(workbench, monkeypatch):
    monkeypatch.setitem(sys.modules, "jupyterlab", None)   # as if not installed
    code, err = _insyn(workbench[0], "--port", str(free_port()))
    assert code == 2 and "JupyterLab is not installed" in err and "pip install 'insyn[lab]'" in err


def test_lab_without_a_warehouse_says_so(tmp_path):
    root, db = copy_workbench(tmp_path / "empty", folders=("notebooks",))
    code, err = _insyn(root, "--port", "0")
    assert code == 2 and f"{db}: no warehouse yet" in err
    assert not db.exists()
