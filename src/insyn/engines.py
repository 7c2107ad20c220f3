"""Where the models run: one seam, two engines, chosen once (workbench.Workbench.open).

DuckDB (the default) loads, builds and checks in the warehouse file itself.
Spark loads the raw layer as Parquet into a lake, builds there, and serves the
result into the warehouse, which the dashboard and notebooks read as before.
Everything else asks the engine what it can do; nothing tests its name.

An engine's methods take the application object (`app`: workbench.Workbench,
passed in, never imported) for its settings, sources, policy and warehouse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

from .errors import InsynError


class Engine(Protocol):
    name: str            # as --engine and [engine] name spell it
    label: str           # as progress messages name it
    lake: str | None     # the raw layer's location (Spark's lake), None when it is the warehouse

    def load(self, app, paths: list[Path], *, source: str | None, exported_at: dt.datetime | None,
             progress=None):
        """Load export files; the load.LoadReport."""

    def build(self, app, as_of: dt.date, progress=None, full: bool = False) -> list:
        """Build the models for `as_of` (`full`: every model anew, else incremental ones extended
        with the files loaded since); the warehouse holds them after (not yet published)."""

    def serves_current(self, app, con) -> bool:
        """The warehouse (open on `con`) holds what the engine's latest load would build."""

    def loads(self, app) -> list[dict]:
        """What has been loaded (the `insyn loads` contract)."""

    def require_raw_layer(self, command: str) -> None:
        """Refuse `command` when a person's raw rows are not in the warehouse."""


class DuckDB:
    """The warehouse file is the raw layer, the models and the serving copy."""

    name = "duckdb"
    label = "DuckDB"
    lake = None

    def load(self, app, paths, *, source=None, exported_at=None, progress=None):
        from .load import load

        layout = app.layout
        created = not layout.warehouse.exists()
        con = app.connect()
        try:
            report = load(con, paths, **app.load_options(source=source, exported_at=exported_at, progress=progress))
        except BaseException:
            con.close()
            if created:  # a refused first load leaves no warehouse behind
                for path in (layout.warehouse, layout.wal):
                    path.unlink(missing_ok=True)
            raise
        con.close()
        if report.loaded:
            app.publish()
        return report

    def build(self, app, as_of, progress=None, full=False) -> list:
        from .build import build

        con = app.connect()
        try:
            return build(con, pipelines=app.settings.pipelines, sources=app.sources, policy=app.policy,
                         as_of=as_of, erasures=app.erasures(), progress=progress, full=full)
        finally:
            con.close()

    def serves_current(self, app, con) -> bool:
        return True

    def loads(self, app) -> list[dict]:
        from .load import loads_listing

        if not app.layout.warehouse.exists():
            return []
        con = app.connect(read_only=True)
        try:
            return loads_listing(con)
        finally:
            con.close()

    def require_raw_layer(self, command: str) -> None:
        return None


class Spark:
    """The raw layer is Parquet in a lake; the models are built by Spark and served into the warehouse."""

    name = "spark"
    label = "Spark"

    def __init__(self, lake: str | None, settings: dict):
        if not lake:
            raise InsynError("the Spark engine needs a lake: --lake DIR or URL, "
                             "or lake = … under [engine] in insyn.toml")
        self.lake = lake
        self.settings = settings   # [spark] in insyn.toml

    def _lake(self):
        from .lake import Lake

        return Lake(self.lake)

    def load(self, app, paths, *, source=None, exported_at=None, progress=None):
        """The same readers and checks, in a DuckDB in memory; the rows go to the lake."""
        from .build import create_macros
        from .lake import catalog, publish_load
        from .load import load

        lake = self._lake()
        con = catalog(lake, app.sources)
        try:
            create_macros(con, app.settings.pipelines)   # the erasure purge uses them
            report = load(con, paths, **app.load_options(source=source, exported_at=exported_at, progress=progress))
            publish_load(con, lake, report)
        finally:
            con.close()
        return report

    def build(self, app, as_of, progress=None, full=False) -> list:
        """Always a full build, whatever `full` says: Spark computes every model over the lake
        (params.increment is 0 there); its rows are then served into the warehouse in full."""
        from . import spark as on_spark

        lake = self._lake()
        session = on_spark.session(self.settings)
        try:
            stamp, _ = on_spark.build(session, lake, pipelines=app.settings.pipelines, sources=app.sources,
                                      policy=app.policy, as_of=as_of, erasures=app.erasures(), progress=progress)
        finally:
            session.stop()
        con = app.connect()   # the warehouse is opened (and locked) only to serve the result
        try:
            return on_spark.serve(con, lake, stamp, pipelines=app.settings.pipelines, sources=app.sources,
                                  policy=app.policy, as_of=as_of, erasures=app.erasures())
        finally:
            con.close()

    def serves_current(self, app, con) -> bool:
        """The warehouse was served from the lake's latest committed load."""
        served = con.execute("select max(load_id) from audit.loads").fetchone()[0]
        committed = self._lake().committed_loads()
        return (max(committed) if committed else None) == served

    def loads(self, app) -> list[dict]:
        from .lake import catalog
        from .load import loads_listing

        con = catalog(self._lake(), app.sources)
        try:
            return loads_listing(con)
        finally:
            con.close()

    def require_raw_layer(self, command: str) -> None:
        raise InsynError(f"{command}: not available with --engine spark yet (it reads the raw layer, which "
                         "stays in the lake); run it on a DuckDB warehouse loaded with the same exports")


ENGINES = {"duckdb": lambda lake, settings: DuckDB(), "spark": Spark}


def choose(settings, engine: str | None = None, lake: str | None = None) -> Engine:
    """--engine/--lake, else $INSYN_ENGINE/$INSYN_LAKE, else [engine] in insyn.toml (config.Settings)."""
    name, where = settings.choose_engine(engine, lake)
    return ENGINES[name](where, settings.spark)
