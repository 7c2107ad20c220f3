"""`insyn lab`: JupyterLab on the workbench's notebooks, for an analyst.

On loopback only, with a random token printed once to the console (Jupyter's own
log says nothing at info level, so no file or terminal scroll-back gets a URL with
it from Jupyter). Offline: no news feed, no update check, an extension manager
that never asks PyPI. The kernel never sees the warehouse the pipeline writes: it
gets a copy of the published snapshot in a private folder of its own (owner-only,
the file read-only), named by $INSYN_WAREHOUSE (and $INSYN_DB, so `insyn` run
from a notebook reads it too); the folder goes when the server stops. The kernel
runs as the same user, so the copy is what protects the warehouse, not a sandbox.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import secrets
import shutil
import socket
import stat
import tempfile
from pathlib import Path

from .config import DB_ENV, WORKBENCH_ENV, WORKBENCH_FILE
from .errors import InsynError
from .serve import is_loopback

WAREHOUSE_ENV = "INSYN_WAREHOUSE"   # the read-only copy a notebook opens
INSTALL = "pip install 'insyn[lab]'   (in a clone: .venv/bin/pip install -r requirements.txt)"
COPY_NAME = "insyn.duckdb"
# the front end's plugin that asks whether to fetch Jupyter's news and checks for updates
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
MAX_IPC_FOLDER = 60   # + "/kernel-<uuid>-ipc-<n>" must stay within a socket path's ~107 characters


def require_jupyterlab() -> None:
    if importlib.util.find_spec("jupyterlab") is None:
        raise InsynError(f"lab: JupyterLab is not installed; install it with: {INSTALL}")


def check_address(host: str, port: int) -> None:
    """Loopback only: a kernel runs any code as this user, and a token is no login (there is no
    TLS either); from another computer, tunnel to it (ssh -L 8888:127.0.0.1:8888 ...). A port
    taken or not ours is refused here, as `insyn dashboard` does, before Jupyter would move on."""
    if not is_loopback(host):
        raise InsynError(f"--host {host}: JupyterLab listens on this computer only (127.0.0.1, ::1 or "
                         "localhost); reach it from elsewhere through an SSH tunnel")
    if port == 0:
        return   # the system picks a free one
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host.strip("[]"), port))
    except OSError as exc:
        reason = "in use by another program" if exc.errno == errno.EADDRINUSE else (
            exc.strerror or type(exc).__name__).lower()
        raise InsynError(f"--host {host} --port {port}: cannot listen there ({reason}); "
                         "choose another with --port") from None
    finally:
        probe.close()


def private_copy(snapshot: Path, folder: Path) -> Path:
    """A read-only copy of the published snapshot in `folder` (owner-only)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    copy = folder / COPY_NAME
    shutil.copyfile(snapshot, copy)
    os.chmod(copy, stat.S_IRUSR)
    return copy


def server_options(*, root: Path, runtime: Path, host: str, port: int, token: str) -> list[str]:
    """Jupyter Server and JupyterLab settings, given on its command line (which overrides any
    jupyter_*_config file of the user's)."""
    options = {
        "ServerApp.ip": host.strip("[]"),
        "ServerApp.port": port,
        "ServerApp.port_retries": 0,              # never another port than the one asked for
        "ServerApp.allow_remote_access": False,   # Host headers other than this computer's refused
        "ServerApp.root_dir": root,
        "ServerApp.open_browser": False,          # a browser would get the token on its command line
        "ServerApp.terminals_enabled": False,     # a shell would reach the warehouse itself
        "ServerApp.answer_yes": True,             # Control-C stops it, no question
        "ServerApp.allow_root": True,             # the kernel has the rights of whoever started insyn
        "ServerApp.log_level": "WARN",            # its info lines carry URLs
        "LabApp.log_level": "WARN",
        "IdentityProvider.token": token,
        "LabApp.news_url": None,
        "LabApp.check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "LabApp.extension_manager": "readonly",
    }
    if len(str(runtime)) <= MAX_IPC_FOLDER:
        # Unix sockets in the private folder, not TCP ports other local accounts can reach
        options["KernelManager.transport"] = "ipc"
    return [f"--{key}={value}" for key, value in options.items()]


def private_environment(folder: Path, snapshot: Path, workbench: Path) -> Path:
    """Set up `folder` for the server and its kernels, and this process's environment (which the
    kernels inherit) to use it; the Jupyter runtime folder in it."""
    copy = private_copy(snapshot, folder / "warehouse")
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    labconfig = folder / "config" / "labconfig"
    labconfig.mkdir(mode=0o700, parents=True)
    (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": {ANNOUNCEMENTS: True}}),
                                               encoding="utf-8")
    # the server-info file (it holds the token), the cookie secret and the kernels' sockets go
    # with the folder; its config folder is searched too (the page config above)
    config_path = os.pathsep.join(filter(None, [str(folder / "config"), os.environ.get("JUPYTER_CONFIG_PATH")]))
    os.environ.update({WAREHOUSE_ENV: str(copy), DB_ENV: str(copy), WORKBENCH_ENV: str(workbench),
                       "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_PATH": config_path})
    return runtime


def run(snapshot: Path, *, workbench: Path, host: str, port: int, announce=print) -> None:
    """Serve JupyterLab on `workbench`'s notebooks over a copy of `snapshot` until stopped."""
    from jupyterlab.labapp import LabApp

    notebooks = workbench / "notebooks"
    folder = Path(tempfile.mkdtemp(prefix="insyn-lab-"))   # mode 0700
    try:
        runtime = private_environment(folder, snapshot, workbench)
        token = secrets.token_urlsafe(32)
        server = LabApp.initialize_server(argv=server_options(
            root=notebooks if notebooks.is_dir() else workbench, runtime=runtime, host=host, port=port,
            token=token))
        server.no_browser_open_file = True   # no HTML file with the token either (not a config option)
        shown = f"[{host.strip('[]')}]" if ":" in host else host
        announce(f"JupyterLab on http://{shown}:{server.port}/lab?token={token}\n"
                 f"(this computer only: open that address; the token holds until it stops)\n"
                 f"notebooks read a copy of the warehouse, not the warehouse: ${WAREHOUSE_ENV}")
        server.start()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def find_workbench(start: Path) -> Path:
    """A notebook's workbench: $INSYN_WORKBENCH (`insyn lab` sets it), else the nearest folder from
    `start` (the notebook's folder, where Jupyter starts its kernel) upwards that holds insyn.toml."""
    if os.environ.get(WORKBENCH_ENV):
        return Path(os.environ[WORKBENCH_ENV])
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / WORKBENCH_FILE).is_file():
            return folder
    raise InsynError(f"{start}: no {WORKBENCH_FILE} here or in a folder above; set ${WAREHOUSE_ENV} to a "
                     "warehouse file, or run `insyn lab`")
