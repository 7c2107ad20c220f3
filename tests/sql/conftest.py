"""SQL model tests: seed a few staging rows in a fresh warehouse, build marts and
rules for an as-of date, and read the findings (the dbt unit-test pattern)."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from insyn.build import build
from insyn.config import Policy
from insyn.db import ident
from insyn.findings import rule_id
from insyn.sources import Sources

REPO = Path(__file__).resolve().parents[2]
POLICY = Policy.load(REPO / "policy.toml")
SOURCES = Sources.load(REPO / "pipelines" / "sources.toml")

# staging table -> the source kind whose latest export it is judged on
SOURCE_OF = {
    "stg_salesforce__contacts": "salesforce.contact",
    "stg_salesforce__leads": "salesforce.lead",
    "stg_salesforce__accounts": "salesforce.account",
    "stg_salesforce__tasks": "salesforce.task",
    "stg_salesforce__events": "salesforce.event",
    "stg_salesforce__opportunities": "salesforce.opportunity",
    "stg_salesforce__opportunity_contact_roles": "salesforce.opportunitycontactrole",
    "stg_salesforce__contact_history": "salesforce.contacthistory",
    "stg_salesforce__campaigns": "salesforce.campaign",
    "stg_salesforce__campaign_members": "salesforce.campaignmember",
    "stg_register__requests": "register.requests",
    "stg_register__subprocessors": "register.subprocessors",
}
# staging table -> the event stream it comes from: a rule judges it once any file of it is loaded
# (a rule whose needed kinds were never loaded is not run: insyn.findings.unmet)
STREAM_OF = {"stg_esp__events": "esp.events", "stg_weblog__requests": "weblog.access"}
DEFAULT_EXPORT = dt.datetime(2026, 11, 23)


class Warehouse:
    """A warehouse with empty staging tables, seeded row by row."""

    def __init__(self, con: duckdb.DuckDBPyConnection, policy: Policy = POLICY):
        self.con = con
        self.policy = policy
        self._file_ids = itertools.count(1)
        self._exports: dict[tuple[str, dt.datetime], int] = {}
        self.erasures = None  # insyn.ledger.Erasures: the workbench ledger's erasures, when a test sets them

    def export(self, source: str, exported_at: dt.datetime = DEFAULT_EXPORT) -> int:
        """Record that an export of `source` was taken (audit.files), even if it held no rows."""
        key = (source, exported_at)
        if key not in self._exports:
            file_id = next(self._file_ids)
            self.con.execute(
                "insert into audit.files (file_id, load_id, file, source, exported_at, rows, rejected, status) "
                "values ($id, 1, $file, $source, $at, 0, 0, 'loaded')",
                {"id": file_id, "file": f"{source}-{exported_at:%Y-%m-%d}.csv", "source": source, "at": exported_at})
            self._exports[key] = file_id
        return self._exports[key]

    def seed(self, table: str, *rows: dict, exported_at: dt.datetime = DEFAULT_EXPORT,
             source: str | None = None, file_id: int | None = None) -> None:
        """Insert rows (dicts of column -> value) into staging.<table>; unnamed columns stay NULL.
        Lineage (exported_at, file_id, record_no) is filled in for snapshot sources."""
        source = source or SOURCE_OF.get(table)
        if source is not None and file_id is None:
            file_id = self.export(source, exported_at)
        columns = [r[0] for r in self.con.execute(
            "select column_name from duckdb_columns() where schema_name = 'staging' and table_name = $t "
            "order by column_index", {"t": table}).fetchall()]
        full = []
        for n, row in enumerate(rows, start=1):
            unknown = set(row) - set(columns)
            assert not unknown, f"{table} has no column {unknown}"
            values = {"exported_at": exported_at if source else None, "file_id": file_id, "record_no": n,
                      "line_no": n + 1, "is_deleted": False}
            values.update(row)
            full.append({c: values.get(c) for c in columns if c in values})
        names = sorted({k for r in full for k in r})
        batch = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in full])
        self.con.register("seed_rows", batch)
        try:
            cols = ", ".join(ident(c) for c in names)
            self.con.execute(f"insert into staging.{ident(table)} ({cols}) select {cols} from seed_rows")
        finally:
            self.con.unregister("seed_rows")
        stream = STREAM_OF.get(table)
        if stream and file_id is not None:   # the file the rows came from, as a load records it
            self.con.execute(
                "insert into audit.files (file_id, load_id, file, source, exported_at, rows, rejected, status) "
                "select $id, 1, $file, $source, $at, 0, 0, 'loaded' "
                "where not exists (select 1 from audit.files where file_id = $id)",
                {"id": file_id, "file": f"{stream}-{file_id}.jsonl", "source": stream, "at": exported_at})
        elif stream and not self.con.execute("select count(*) from audit.files where source = $s",
                                             {"s": stream}).fetchone()[0]:
            self.export(stream, exported_at)

    def build(self, as_of: dt.date) -> None:
        # staging is seeded here, not built: no record of the files it covers, so that the incremental
        # marts over it (int_email_deliveries) are computed anew from every file seeded
        self.con.execute("delete from audit.model_builds where table_name like 'staging.%'")
        build(self.con, pipelines=REPO / "pipelines", sources=SOURCES, policy=self.policy, as_of=as_of,
              layers=("marts", "rules"), erasures=self.erasures)

    def findings(self, rule_table: str, as_of: dt.date) -> list[tuple]:
        """(record_id, email, source, count) of rules.<rule_table>, sorted, after a build for `as_of`."""
        self.build(as_of)
        return self.con.execute(
            f"select record_id, email, source, count from rules.{ident(rule_table)} order by record_id").fetchall()

    def details(self, rule_table: str) -> dict[str, str]:
        """record_id -> the English detail (the build renders it from the rule's facts)."""
        return dict(self.con.execute("select record_id, detail from audit.current_findings where rule = $r",
                                     {"r": rule_id(rule_table)}).fetchall())

    def rows(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or {}).fetchall()


@pytest.fixture(scope="session")
def empty_warehouse(tmp_path_factory) -> Path:
    """Built once: a warehouse file with empty raw and staging tables."""
    path = tmp_path_factory.mktemp("template") / "w.duckdb"
    con = duckdb.connect(str(path))
    build(con, pipelines=REPO / "pipelines", sources=SOURCES, policy=POLICY, as_of=dt.date(2026, 11, 24),
          layers=("staging",))
    con.close()
    return path


@pytest.fixture
def wh(tmp_path, empty_warehouse) -> Warehouse:
    import shutil

    path = tmp_path / "w.duckdb"
    shutil.copy(empty_warehouse, path)
    con = duckdb.connect(str(path))
    yield Warehouse(con)
    con.close()
