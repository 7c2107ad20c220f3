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

REPO = Path(__file__).resolve().parents[1]


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
