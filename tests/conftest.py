"""Shared test helpers: the repository is the workbench; each test gets its own warehouse."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from insyn.cli import main

from helpers import REPO, SAMPLE  # noqa: F401


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "warehouse" / "insyn.duckdb"


@pytest.fixture
def insyn(db):
    """Run the CLI in-process against this test's warehouse."""

    def run(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--workbench", str(REPO), "--db", str(db), *map(str, args)])
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def insyn_process(db):
    """Run the installed `insyn` console script in a subprocess."""

    def run(*args: str, env: dict | None = None) -> Result:
        exe = Path(sys.executable).with_name("insyn")
        proc = subprocess.run(
            [str(exe), "--workbench", str(REPO), "--db", str(db), *map(str, args)],
            capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def query(db):
    """Read rows from the test's warehouse."""

    def run(sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute(sql, params or {}).fetchall()
        finally:
            con.close()

    return run


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """`insyn demo` in a copy of the workbench whose demo warehouse is private to this test."""
    import contextlib
    import io
    import shutil

    from insyn.cli import main

    from helpers import copy_workbench

    wb, _ = copy_workbench(tmp_path_factory.mktemp("wb"), folders=("pipelines", "expectations", "notebooks", "templates"))
    shutil.copytree(SAMPLE, wb / "data" / "sample")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(wb), "demo"])
    assert code == 0, err.getvalue()
    return wb, out.getvalue()
