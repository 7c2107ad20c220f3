"""Run the Great Expectations suites inside DuckDB, in a process of its own.

`insyn check` starts this module as a child process: it opens the warehouse
read-only through the `duckdb+gx` dialect, validates every suite of
expectations/suites.py, writes GX Data Docs, and prints the results as JSON.
A separate process keeps GX's read-only engine apart from the writer that
records the results (DuckDB refuses two configurations of one file in one
process), and keeps GX's import time and logging out of the parent.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
from pathlib import Path


def load_suites_module(path: Path):
    spec = importlib.util.spec_from_file_location("insyn_expectation_suites", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rule_specs(pipelines: Path) -> list[dict]:
    from .build import discover

    specs = []
    for model in discover(pipelines):
        if model.layer == "rules":
            meta = dict(model.meta)
            meta.setdefault("rule", model.name.replace("__", "."))
            specs.append({"table": model.name, **meta})
    return specs


def _result_row(suite: str, result) -> dict:
    config = result.expectation_config
    meta = config.meta or {}
    res = result.result or {}
    unexpected = res.get("unexpected_count")
    if unexpected is None and config.type.endswith("findings") or config.type == "unexpected_rows_expectation":
        unexpected = res.get("observed_value")
    exception = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        exception = str(result.exception_info.get("exception_message", "")).splitlines()[0][:300]
    elif result.exception_info:
        for info in result.exception_info.values():
            if isinstance(info, dict) and info.get("raised_exception"):
                exception = str(info.get("exception_message", "")).splitlines()[0][:300]
                break
    return {
        "suite": suite,
        "expectation_type": config.type,
        "column": config.kwargs.get("column"),
        "check": meta.get("check"),
        "rule": meta.get("rule"),
        "severity": meta.get("severity"),
        "legal_reference": meta.get("legal_reference"),
        "description": config.description,
        "success": bool(result.success),
        "element_count": res.get("element_count"),
        "unexpected_count": unexpected if unexpected is not None else (0 if result.success else None),
        "exception": exception,
    }


def run(db: Path, workbench: Path, suites_file: Path, pipelines: Path, docs: Path | None,
        only: str | None = None, lake: str | None = None) -> list[dict]:
    """Every suite against the DuckDB warehouse, or (with `lake`) against the current
    Spark build of that lake."""
    from . import gx_dialect  # noqa: F401  registers duckdb+gx
    from .config import Workbench

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    policy = Workbench.load(workbench).policy()
    module = load_suites_module(suites_file)
    suites = module.quality_suites(policy) + [module.compliance_suite(rule_specs(pipelines))]
    if only is not None:   # one suite (the benchmark times the compliance suite alone)
        suites = [spec for spec in suites if spec["name"] == only]

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    if docs is not None:
        context.add_data_docs_site("insyn", {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    if lake is not None:
        return _run_on_spark(gx, context, suites, Workbench.load(workbench), lake, pipelines, docs)
    source = context.data_sources.add_sql(
        name="warehouse", connection_string=f"duckdb+gx:///{db}",
        kwargs={"connect_args": {"read_only": True}})
    definitions = []
    for n, spec in enumerate(suites):
        asset = source.add_query_asset(name=f"{spec['name']}", query=spec["query"])
        batch = asset.add_batch_definition_whole_table("all")
        suite = context.suites.add(gx.ExpectationSuite(name=spec["name"]))
        for expectation in spec["expectations"]:
            suite.add_expectation(expectation)
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{n:02d}-{spec['name']}", data=batch, suite=suite)))
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if docs is not None else []
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name="insyn", validation_definitions=definitions, actions=actions,
        result_format={"result_format": "SUMMARY"}))
    return _rows(checkpoint.run())


def _rows(outcome) -> list[dict]:
    rows = []
    for validation in outcome.run_results.values():
        for result in validation.results:
            rows.append(_result_row(validation.suite_name, result))
    return rows


def _run_on_spark(gx, context, suites: list[dict], wb, lake: str, pipelines: Path, docs: Path | None) -> list[dict]:
    """The same suites on Spark data frames: each suite's query, and the SQL inside
    its UnexpectedRowsExpectations, translated as the models are. One suite at a
    time: Spark gives every {batch} the same view name."""
    from .lake import Lake
    from .sources import Sources
    from .spark import open_build, session
    from .transpile import read_macros, to_spark

    spark = session(wb.spark)
    the_lake = Lake(lake)
    open_build(spark, the_lake, pipelines, Sources.load(pipelines / "sources.toml"))
    macros = read_macros(pipelines / "macros.sql")
    source = context.data_sources.add_spark(name="warehouse")
    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs")] if docs is not None else []
    rows = []
    for n, spec in enumerate(suites):
        batch = source.add_dataframe_asset(name=spec["name"]).add_batch_definition_whole_dataframe("all")
        suite = context.suites.add(gx.ExpectationSuite(name=spec["name"]))
        for expectation in spec["expectations"]:
            query = getattr(expectation, "unexpected_rows_query", None)
            if query:
                expectation = expectation.copy(update={"unexpected_rows_query": to_spark(query, macros)})
            suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{n:02d}-{spec['name']}", data=batch, suite=suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"insyn-{n:02d}", validation_definitions=[definition], actions=actions,
            result_format={"result_format": "SUMMARY"}))
        frame = spark.sql(to_spark(spec["query"], macros))
        rows += _rows(checkpoint.run(batch_parameters={"dataframe": frame}))
    spark.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insyn.gx_runner")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--workbench", required=True, type=Path)
    parser.add_argument("--suites", required=True, type=Path)
    parser.add_argument("--pipelines", required=True, type=Path)
    parser.add_argument("--docs", type=Path)
    parser.add_argument("--only", metavar="SUITE", help="run this suite alone")
    parser.add_argument("--lake", metavar="LOCATION", help="validate the lake's Spark build instead")
    args = parser.parse_args(argv)
    rows = run(args.db.resolve(), args.workbench, args.suites, args.pipelines, args.docs, args.only, args.lake)
    json.dump(rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
