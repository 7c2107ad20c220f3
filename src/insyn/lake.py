"""The lake: the raw layer as Parquet, for engines that read files (Spark).

With `--engine spark`, `insyn load` reads and checks every export exactly as
for DuckDB (load.py, in a DuckDB of its own in memory that knows what the lake
already holds), then writes what it loaded here:

    raw/<raw table>/source=<kind>/exported_on=<YYYY-MM-DD>/load-<L>-file-<F>.parquet
    audit/files/load-<L>.parquet, audit/rejected_lines/load-<L>.parquet
    audit/loads/load-<L>.parquet            written last: the load's commit
    models/<build>/<layer>/<model>/         what `insyn build` made on Spark
    models/CURRENT                          the build readers use, written last

Readers take only rows of committed loads, so a load that dies half-way
leaves nothing anyone reads, and the next load (which takes the same number)
first clears what it left. The location is a folder or an object-store URL
(pyarrow's file systems: s3://, gs://, abfs://, hdfs://).
"""

from __future__ import annotations

import datetime as dt
import posixpath
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute  # pa.compute.is_in
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from .db import ident, insert_arrow
from .errors import InsynError
from .schema import ensure_schema
from .sources import Sources

AUDIT_TABLES = ("loads", "files", "rejected_lines")
CURRENT = "models/CURRENT"


@dataclass
class Lake:
    location: str

    def __post_init__(self):
        uri = self.location.replace("s3a://", "s3://", 1)   # Spark's name for S3, pyarrow's
        try:
            self.fs, self.base = pafs.FileSystem.from_uri(uri if "://" in uri else str(Path(uri).resolve()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise InsynError(f"{self.location}: not a lake Insyn can open ({exc})") from None

    # paths ------------------------------------------------------------

    def path(self, *parts: str) -> str:
        return posixpath.join(self.base, *parts)

    def url(self, *parts: str) -> str:
        """The same place as Spark names it."""
        return posixpath.join(self.location.rstrip("/"), *parts)

    def exists(self, *parts: str) -> bool:
        return self.fs.get_file_info(self.path(*parts)).type != pafs.FileType.NotFound

    def files(self, *parts: str) -> list[str]:
        if not self.exists(*parts):
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(self.path(*parts), recursive=True))
        return sorted(i.path for i in infos if i.type == pafs.FileType.File and i.path.endswith(".parquet"))

    def write(self, table: pa.Table, *parts: str) -> None:
        path = self.path(*parts)
        self.fs.create_dir(posixpath.dirname(path), recursive=True)
        pq.write_table(table, path, filesystem=self.fs)

    def read_text(self, *parts: str) -> str | None:
        if not self.exists(*parts):
            return None
        with self.fs.open_input_stream(self.path(*parts)) as f:
            return f.read().decode("utf-8").strip()

    def write_text(self, text: str, *parts: str) -> None:
        """Whole or not at all: written aside, then moved into place (a pointer like CURRENT)."""
        path = self.path(*parts)
        self.fs.create_dir(posixpath.dirname(path), recursive=True)
        aside = path + ".writing"
        with self.fs.open_output_stream(aside) as f:
            f.write(text.encode("utf-8"))
        self.fs.move(aside, path)

    # the audit tables -------------------------------------------------

    def audit(self, table: str) -> pa.Table | None:
        """Rows of committed loads only (None when there are none)."""
        parts = [pq.read_table(p, filesystem=self.fs) for p in self.files("audit", table)]
        if not parts:
            return None
        rows = pa.concat_tables(parts, promote_options="default")
        if table == "loads":
            return rows
        committed = self.committed_loads()
        if table == "rejected_lines":
            files = self.audit("files")
            keep = set(files.column("file_id").to_pylist()) if files is not None else set()
            return rows.filter(pa.compute.is_in(rows.column("file_id"), pa.array(sorted(keep), pa.int64())))
        return rows.filter(pa.compute.is_in(rows.column("load_id"), pa.array(sorted(committed), pa.int64())))

    def committed_loads(self) -> set[int]:
        loads = self.audit("loads")
        return set(loads.column("load_id").to_pylist()) if loads is not None else set()

    def clear_uncommitted(self, load_id: int) -> None:
        """What a load of this number left when it died before its commit."""
        marker = f"load-{load_id}"
        for folder in ("raw", "audit"):
            for path in self.files(folder):
                name = posixpath.basename(path)
                if name == f"{marker}.parquet" or name.startswith(f"{marker}-"):
                    self.fs.delete_file(path)


def catalog(lake: Lake, sources: Sources) -> duckdb.DuckDBPyConnection:
    """A DuckDB in memory with the raw and audit tables declared and what the
    lake's audit tables hold: the state a load (or `insyn loads`) starts from."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    ensure_schema(con, sources)
    for table in AUDIT_TABLES:
        rows = lake.audit(table)
        if rows is not None and rows.num_rows:
            insert_arrow(con, f"audit.{ident(table)}", rows)
    return con


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'raw' order by table_name").fetchall()]


def table_schema(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pa.Schema:
    """A table's columns as Arrow types (what Spark is given for an empty table)."""
    return con.execute(f"select * from {ident(schema)}.{ident(table)} limit 0").to_arrow_table().schema


def publish_load(con: duckdb.DuckDBPyConnection, lake: Lake, report) -> None:
    """Write what `load` put in the in-memory catalog to the lake, the commit last."""
    if not report.loaded:
        return
    load_id = report.load_id
    lake.clear_uncommitted(load_id)
    tables = raw_tables(con)
    for entry in report.loaded:
        partition = (f"source={entry['source']}", f"exported_on={entry['exported_at'].date().isoformat()}",
                     f"load-{load_id}-file-{entry['file_id']}.parquet")
        for table in tables:
            rows = con.execute(f"select * from raw.{ident(table)} where _file_id = $f",
                               {"f": entry["file_id"]}).to_arrow_table()
            if rows.num_rows or table == entry["raw_table"].split(".", 1)[1]:
                lake.write(rows, "raw", table, *partition)
    for table in ("files", "rejected_lines", "loads"):   # loads last: the commit
        key = "load_id" if table != "rejected_lines" else "file_id"
        ids = [load_id] if key == "load_id" else [e["file_id"] for e in report.loaded]
        rows = con.execute(f"select * from audit.{ident(table)} where {ident(key)} in (select unnest($ids))",
                           {"ids": ids}).to_arrow_table()
        lake.write(rows, "audit", table, f"load-{load_id}.parquet")


def build_stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
