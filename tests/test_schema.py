"""One home per contract: the audit tables in schema.py, one transaction, one TOML reader."""

from __future__ import annotations

import re

import duckdb
import pytest

from insyn.config import read_toml
from insyn.db import transaction
from insyn.errors import ConfigError
from insyn.schema import AUDIT_DDL, ensure_audit

from helpers import REPO

AUDIT_TABLE = re.compile(r"create\s+table\s+if\s+not\s+exists\s+audit\.(\w+)", re.IGNORECASE)


def test_every_audit_table_is_declared_in_schema_py_only():
    declared = {m.group(1) for ddl in AUDIT_DDL for m in [AUDIT_TABLE.search(ddl)] if m}
    assert {"loads", "files", "rejected_lines", "runs", "check_runs", "check_results", "findings_history",
            "purges", "schedule_runs"} <= declared
    elsewhere = [f"{path.relative_to(REPO)}: audit.{m.group(1)}"
                 for path in sorted((REPO / "src" / "insyn").glob("*.py")) if path.name != "schema.py"
                 for m in AUDIT_TABLE.finditer(path.read_text(encoding="utf-8"))]
    assert elsewhere == []


def test_ensure_audit_makes_every_table_once_and_keeps_what_it_holds():
    con = duckdb.connect()
    ensure_audit(con)
    con.execute("insert into audit.purges (purge_id) values (7)")
    ensure_audit(con)   # an existing warehouse: nothing replaced
    tables = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'audit'").fetchall()}
    assert tables == {m.group(1) for ddl in AUDIT_DDL for m in [AUDIT_TABLE.search(ddl)] if m}
    assert con.execute("select purge_id from audit.purges").fetchall() == [(7,)]
    assert "detail_id" in {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where table_name = 'findings_history'").fetchall()}


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create table t (x integer)")
    yield c
    c.close()


def test_a_transaction_commits_when_its_block_ends(con):
    with transaction(con):
        con.execute("insert into t values (1)")
    assert con.execute("select x from t").fetchall() == [(1,)]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_transaction_rolls_back_on_any_exception_and_raises_it_again(con, error):
    with pytest.raises(error):
        with transaction(con):
            con.execute("insert into t values (1)")
            raise error()
    assert con.execute("select count(*) from t").fetchone()[0] == 0
    con.execute("begin transaction")   # no transaction left open
    con.execute("rollback")


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('[a]\nb = 1\nc = = 2\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_toml(path)
    assert str(path) in caught.value.message and "line 3" in caught.value.message
    assert caught.value.exit_code == 2


def test_a_toml_file_not_in_utf8_is_named_not_a_traceback(tmp_path):
    path = tmp_path / "x.toml"
    path.write_bytes('name = "Åsa"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        read_toml(path)
    assert str(path) in caught.value.message and "UTF-8" in caught.value.message
