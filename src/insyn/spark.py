"""The models on Spark: the same SQL files, translated, over the lake.

`insyn --engine spark --lake LOCATION build` opens a Spark session (in-process
`local[N]` by default, a cluster's master, or a Spark Connect URL), makes every
table a model reads a view of the session, runs each model translated by
transpile.py, and writes its rows as Parquet under the lake's models/<build>/.
The build becomes current only when all of it is written (models/CURRENT).

The serving copy: the DuckDB warehouse (--db) then receives the built tables
(not the raw layer), so `findings`, the dashboard and the audit packs read them
exactly as after a DuckDB build.

Views: `layer.name` is the view `layer__name` (transpile.py): raw and audit
over the lake's Parquet (committed loads only), params from the same Python
rows as DuckDB's (build.param_tables), models over their Parquet.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
from pyarrow.fs import FileSelector, FileType

from .build import Model, ParamTable, discover, param_tables
from .errors import InsynError
from .lake import AUDIT_TABLES, CURRENT, Lake, build_stamp, catalog, raw_tables, table_schema
from .transpile import read_macros, to_spark, view_name

# Settings that make Spark answer as DuckDB does (../shared/design/portability.md):
# UTC, ANSI errors instead of silent NULLs, timestamps without a zone like DuckDB's.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",   # not INT96: DuckDB's microseconds
}
# In-process defaults: small shuffles and no web UI (a laptop or a CI machine).
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.driver.memory": "1g",
    # what Spark writes may hold personal data: owner only, like every file Insyn writes
    # (Hadoop's file system ignores the process umask and defaults to 022)
    "spark.hadoop.fs.permissions.umask-mode": "077",
}
KEEP_BUILDS = 2

_SPARK_TYPES = {"VARCHAR": "string", "DATE": "date", "TIMESTAMP": "timestamp_ntz", "BOOLEAN": "boolean",
                "INTEGER": "int", "BIGINT": "bigint"}


def session(settings: dict | None = None):
    """A Spark session from [spark] in insyn.toml: `remote` (sc://host:port, or $INSYN_SPARK_REMOTE)
    for Spark Connect, else `master` (default local[2]); `conf` is passed through. A remote
    of `local[N]` starts a Connect server from the pyspark package on this machine."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InsynError("the Spark engine needs pyspark: pip install 'insyn[spark]'") from None
    settings = settings or {}
    builder = SparkSession.builder.appName("insyn")
    remote = settings.get("remote") or os.environ.get("INSYN_SPARK_REMOTE")
    conf = dict(SESSION_CONF)
    if remote:
        builder = builder.remote(remote)
    else:
        builder = builder.master(settings.get("master", "local[2]"))
        conf = {**LOCAL_CONF, **conf}
    conf.update({k: str(v) for k, v in (settings.get("conf") or {}).items()})
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001  (Java missing, a cluster away: say which)
        raise InsynError(f"cannot start Spark ({str(exc).splitlines()[0][:300]})") from None
    if not remote:
        spark.sparkContext.setLogLevel("ERROR")
    for key, value in SESSION_CONF.items():   # a Connect server keeps its own defaults
        spark.conf.set(key, value)
    return spark


def _schema(arrow: pa.Schema):
    """Spark's schema for an Arrow one (DuckDB's types, as Parquet would carry them)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow)


def engine_label(spark) -> str:
    return "Spark Connect" if type(spark).__module__.startswith("pyspark.sql.connect") else "Spark"


def _naive_times(df):
    """Time stamps as DuckDB's TIMESTAMP: without a zone (Parquet from DuckDB reads as zoned)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    zoned = {f.name for f in df.schema.fields if isinstance(f.dataType, TimestampType)}
    if not zoned:
        return df
    return df.select([F.col(f"`{c}`").cast("timestamp_ntz").alias(c) if c in zoned else F.col(f"`{c}`")
                      for c in df.columns])


def _typed_frame(spark, table: ParamTable):
    schema = ", ".join(f"`{c}` {_SPARK_TYPES[t]}" for c, t in table.columns)
    return spark.createDataFrame(table.rows, schema)


def _lake_frame(spark, lake: Lake, folder: tuple[str, ...], schema: pa.Schema, committed: set[int]):
    """A lake table as Spark reads it: committed loads only, every declared column."""
    from pyspark.sql import functions as F

    empty = spark.createDataFrame([], _schema(schema))
    if not lake.files(*folder):
        return empty
    df = spark.read.option("mergeSchema", "true").parquet(lake.url(*folder))
    df = df.drop("source", "exported_on")   # the partition columns: the rows carry their own
    key = "_load_id" if "_load_id" in df.columns else "load_id" if "load_id" in df.columns else None
    if key is not None:
        df = df.where(F.col(key).isin(sorted(committed)) if committed else F.lit(False))
    return _naive_times(empty.unionByName(df, allowMissingColumns=True))


def register_lake(spark, lake: Lake, sources) -> None:
    """raw__* and audit__* views of the lake's committed loads."""
    con = catalog(lake, sources)
    try:
        committed = lake.committed_loads()
        for table in raw_tables(con):
            _lake_frame(spark, lake, ("raw", table), table_schema(con, "raw", table), committed) \
                .createOrReplaceTempView(f"raw__{table}")
        for table in AUDIT_TABLES:
            # small: the catalog already holds the committed rows with their types
            rows = con.execute(f"select * from audit.{table}").to_arrow_table()
            _naive_times(spark.createDataFrame(rows.to_pylist(), _schema(rows.schema))) \
                .createOrReplaceTempView(f"audit__{table}")
    finally:
        con.close()


def register_inputs(spark, lake: Lake, sources, policy, as_of: dt.date, erasures=None) -> list[ParamTable]:
    """The lake's views, params__* and the salt (a view of this session only)."""
    from pyspark.sql import functions as F

    register_lake(spark, lake, sources)
    tables = param_tables(policy, as_of, erasures)
    for table in tables:
        _typed_frame(spark, table).createOrReplaceTempView(f"params__{table.name}")
    salt = erasures.salt if erasures is not None else None
    spark.range(1).select(F.lit(salt).cast("string").alias("salt")).createOrReplaceTempView("erasure_salt")
    return tables


def build(spark, lake: Lake, *, pipelines: Path, sources, policy, as_of: dt.date, erasures=None,
          progress=None) -> tuple[str, list[Model]]:
    """Run every model on Spark; the new build's name once it is current."""
    say = progress or (lambda msg: None)
    tables = register_inputs(spark, lake, sources, policy, as_of, erasures)
    macros = read_macros(pipelines / "macros.sql")
    models = discover(pipelines)
    stamp = build_stamp()
    for table in tables:   # the build keeps the parameters it was made with
        spark.table(f"params__{table.name}").write.mode("overwrite").parquet(
            lake.url("models", stamp, "params", table.name))
    for n, model in enumerate(models, start=1):
        say(f"[{n}/{len(models)}] {model.table} ({engine_label(spark)})")
        where = lake.url("models", stamp, model.layer, model.name)
        try:
            spark.sql(to_spark(model.sql, macros)).write.mode("overwrite").parquet(where)
        except InsynError as exc:
            raise InsynError(f"{model.path}: {exc}") from None
        except Exception as exc:  # noqa: BLE001  (Spark's analysis errors: the model and the first line)
            raise InsynError(f"{model.path}: on Spark: {_first_line(exc)}") from None
        spark.read.parquet(where).createOrReplaceTempView(view_name(model.table))
    lake.write_text(stamp, CURRENT)   # the commit
    _drop_old_builds(lake, stamp)
    return stamp, models


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _drop_old_builds(lake: Lake, current: str) -> None:
    if not lake.exists("models"):
        return
    builds = sorted(i.base_name for i in lake.fs.get_file_info(FileSelector(lake.path("models")))
                    if i.type == FileType.Directory)
    for old in builds[:-KEEP_BUILDS]:
        if old != current:
            lake.fs.delete_dir(lake.path("models", old))


def current_build(lake: Lake) -> str:
    stamp = lake.read_text(CURRENT)
    if not stamp:
        raise InsynError(f"{lake.location}: nothing built on Spark yet (run `insyn --engine spark build`)")
    return stamp


def open_build(spark, lake: Lake, pipelines: Path, sources) -> list[Model]:
    """The current build's tables (and its parameters) as views of this session."""
    stamp = current_build(lake)
    models = discover(pipelines)
    params = {i.base_name for i in lake.fs.get_file_info(FileSelector(lake.path("models", stamp, "params")))}
    for name in sorted(params):
        spark.read.parquet(lake.url("models", stamp, "params", name)).createOrReplaceTempView(f"params__{name}")
    for model in models:
        spark.read.parquet(lake.url("models", stamp, model.layer, model.name)) \
            .createOrReplaceTempView(view_name(model.table))
    register_lake(spark, lake, sources)
    return models


def model_rows(lake: Lake, stamp: str):
    """results(model) for build.build: a model's Parquet as an Arrow dataset."""
    def rows(model: Model):
        return pads.dataset(lake.path("models", stamp, model.layer, model.name), filesystem=lake.fs,
                            format="parquet", ignore_prefixes=[".", "_"])
    return rows


def serve(con, lake: Lake, stamp: str, *, pipelines: Path, sources, policy, as_of: dt.date, erasures=None,
          progress=None) -> list[Model]:
    """Copy the Spark build and the lake's audit tables into the DuckDB warehouse
    (one transaction), so every reader of the warehouse reads them as usual."""
    from .build import build as duckdb_build
    from .db import insert_arrow

    def audit_from_lake(con) -> None:
        for table in AUDIT_TABLES:
            rows = lake.audit(table)
            con.execute(f"delete from audit.{table}")
            if rows is not None and rows.num_rows:
                insert_arrow(con, f"audit.{table}", rows)

    return duckdb_build(con, pipelines=pipelines, sources=sources, policy=policy, as_of=as_of, erasures=erasures,
                        progress=progress, results=model_rows(lake, stamp), prepare=audit_from_lake)
