"""Run the Great Expectations suites inside DuckDB, in a process of its own.

`insyn check` starts this module as a child process: it opens the warehouse
read-only through the `duckdb+gx` dialect, validates every suite of
expectations/suites.py, writes GX Data Docs, and prints the results as JSON.
A separate process keeps GX's read-only engine apart from the writer that
records the results (DuckDB refuses two configurations of one file in one
process), and keeps GX's import time and logging out of the parent.

Data Docs leave the company in every audit pack, and a person whose data is
loaded chooses its values: they are built from a copy of the results whose
values are abbreviated and hold no markup (`for_docs`), never by a checkpoint
action from the results themselves. The JSON printed for check.py is taken
from the results as they are. No GX site is kept anywhere else (GX gives an
ephemeral context a site in the temporary folder by default).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import importlib.util
import json
import logging
import numbers
import os
import shutil
import sys
import tempfile
from pathlib import Path


def load_suites_module(path: Path):
    spec = importlib.util.spec_from_file_location("insyn_expectation_suites", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rule_specs(pipelines: Path) -> list[dict]:
    """Each rule's spec (findings.rule_specs) with its English title (the suite's description)."""
    from .build import discover
    from .findings import rule_specs as specs_of
    from .texts import cached, workbench_locale

    english = cached(workbench_locale(pipelines.parent), "en")
    return [{**spec, "title_en": english(spec["title_id"])} for spec in specs_of(discover(pipelines))]


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


def _missing(needs, available: set[str]) -> list[str]:
    """The kinds of `needs` (each a kind, or a list of which any one will do) none of `available` meets."""
    groups = [tuple(n) if isinstance(n, (list, tuple)) else (n,) for n in needs or ()]
    return [k for group in groups if not set(group) & available for k in group]


def _not_run(suite: str, expectation, missing: list[str]) -> dict:
    """The result row of an expectation not run: what it would have checked, and the missing sources."""
    meta = expectation.meta or {}
    return {"suite": suite, "expectation_type": expectation.expectation_type,
            "column": getattr(expectation, "column", None), "check": meta.get("check"), "rule": meta.get("rule"),
            "severity": meta.get("severity"), "legal_reference": meta.get("legal_reference"),
            "description": expectation.description, "success": None, "element_count": None,
            "unexpected_count": None, "exception": None, "not_evaluated": missing}


def set_aside(suites: list[dict], not_evaluated: dict | None) -> tuple[list[dict], list[dict]]:
    """The suites to run, and the rows of what is not run: a suite whose `needs` were never loaded
    (`not_evaluated["available"]`: the kinds that were), and the compliance expectation of each
    rule in `not_evaluated["rules"]` (rule -> missing kinds)."""
    if not not_evaluated:
        return suites, []
    available, rules = set(not_evaluated["available"]), not_evaluated["rules"]
    run, rows = [], []
    for spec in suites:
        missing = _missing(spec.get("needs"), available)
        if missing:
            rows += [_not_run(spec["name"], e, missing) for e in spec["expectations"]]
            continue
        kept = []
        for e in spec["expectations"]:
            rule = (e.meta or {}).get("rule")
            (rows.append(_not_run(spec["name"], e, rules[rule])) if rule in rules else kept.append(e))
        if kept:
            run.append({**spec, "expectations": kept})
    return run, rows


def _without_unused_modules(spark: bool) -> None:
    """Modules GX imports that this process never uses, marked absent before GX is imported:
    - jsonschema builds rfc3987_syntax's IRI grammars at import when that package is installed
      (JupyterLab's extra brings it): about 0.9 s for a JSON Schema format ("iri") nothing here validates;
      marked absent, jsonschema leaves that format out;
    - GX imports pyspark when it is installed (`.[spark]`): 0.3-0.4 s of every DuckDB check;
      marked absent, GX's compatibility layer leaves Spark out. Not when the check runs on Spark."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)
    if not spark and "pyspark" not in sys.modules:
        sys.modules.setdefault("pyspark", None)


def run(db: Path, workbench: Path, suites_file: Path, pipelines: Path, docs: Path | None,
        only: str | None = None, lake: str | None = None, not_evaluated: dict | None = None) -> list[dict]:
    """Every suite against the DuckDB warehouse, or (with `lake`) against the current
    Spark build of that lake; those `not_evaluated` sets aside (set_aside) only reported."""
    from . import gx_dialect  # noqa: F401  registers duckdb+gx
    from .config import Settings

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    policy = Settings.load(workbench).policy()
    module = load_suites_module(suites_file)
    suites = module.quality_suites(policy) + [module.compliance_suite(rule_specs(pipelines))]
    if only is not None:   # one suite (the benchmark times the compliance suite alone)
        suites = [spec for spec in suites if spec["name"] == only]
    suites, not_run = set_aside(suites, not_evaluated)

    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    # No default Data Docs site: GX's would be a full copy in /tmp/tmpXXXXXXXX that nothing removes.
    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False)))
    context.variables.progress_bars = {"globally": False}
    shown_in_full = frozenset(module.SHOWN_IN_FULL)
    if not suites:
        rows, outcomes = [], []
    elif lake is not None:
        rows, outcomes = _run_on_spark(gx, context, suites, Settings.load(workbench), lake, pipelines)
    else:
        rows, outcomes = _run_on_duckdb(gx, context, suites, db)
    if docs is not None:
        write_docs(context, outcomes, docs, shown_in_full)
    return rows + not_run


def _run_on_duckdb(gx, context, suites: list[dict], db: Path) -> tuple[list[dict], list]:
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
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name="insyn", validation_definitions=definitions, actions=[],
        result_format={"result_format": "SUMMARY"}))
    outcome = checkpoint.run()
    return _rows(outcome), [outcome]


def _rows(outcome) -> list[dict]:
    rows = []
    for validation in outcome.run_results.values():
        for result in validation.results:
            rows.append(_result_row(validation.suite_name, result))
    return rows


def _run_on_spark(gx, context, suites: list[dict], wb, lake: str, pipelines: Path) -> tuple[list[dict], list]:
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
    rows, outcomes = [], []
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
            name=f"insyn-{n:02d}", validation_definitions=[definition], actions=[],
            result_format={"result_format": "SUMMARY"}))
        frame = spark.sql(to_spark(spec["query"], macros))
        outcomes.append(checkpoint.run(batch_parameters={"dataframe": frame}))
        rows += _rows(outcomes[-1])
    spark.stop()
    return rows, outcomes


# ---------------------------------------------------------------- Data Docs without personal values or markup


def _shown(value, in_full: bool):
    """One value of a result as Data Docs may show it: numbers, booleans and dates as they are; text
    abbreviated (or, for an id or code, in full with any address in it abbreviated); never markup."""
    import numpy as np

    from .masking import abbreviate, mask_in_text, plain

    if value is None or isinstance(value, (numbers.Number, np.bool_, dt.date)):
        return value
    if isinstance(value, dict):
        return {key: _shown(item, in_full) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(item, in_full) for item in value]
    return plain(mask_in_text(value)) if in_full else abbreviate(value)


def for_docs(validation, shown_in_full: frozenset = frozenset()):
    """A copy of a suite's validation result fit for Data Docs: every value a result carries
    (partial_unexpected_list and _counts, index lists, observed values, details) shown by `_shown`,
    in full only for the columns of suites.SHOWN_IN_FULL; exception messages without addresses or
    markup, and no traceback. Counts and success are kept."""
    safe = copy.deepcopy(validation)
    for result in safe.results:
        column = (result.expectation_config.kwargs or {}).get("column")
        result.result = _shown(result.result or {}, column in shown_in_full)
        result.exception_info = _exception_for_docs(result.exception_info or {})
    return safe


def _exception_for_docs(info: dict) -> dict:
    """GX's exception info (flat, or one per metric): the first line of each message, no traceback."""
    from .masking import mask_in_text, plain

    out = {}
    for key, value in info.items():
        if isinstance(value, dict):
            out[key] = _exception_for_docs(value)
        elif key == "exception_traceback":
            out[key] = ""
        elif isinstance(value, str):
            out[key] = plain(mask_in_text(value.splitlines()[0] if value else value))
        else:
            out[key] = value
    return out


def write_docs(context, outcomes: list, docs: Path, shown_in_full: frozenset) -> None:
    """Data Docs of this run alone, from sanitised copies of its results: built in a folder beside
    `docs`, then put in its place (pages of an earlier run, which may hold values in full, go)."""
    store = context.validation_results_store
    for key in store.list_keys():          # the raw results validation stored: not for the docs
        store.remove_key(key)
    for outcome in outcomes:
        for key, validation in outcome.run_results.items():
            store.set(key, for_docs(validation, shown_in_full))
    docs.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{docs.name}-", dir=docs.parent))
    old = fresh.with_name(fresh.name + "-old")
    try:
        context.add_data_docs_site("insyn", {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(fresh)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        context.build_data_docs(site_names=["insyn"])
        if docs.exists():
            os.replace(docs, old)
        os.replace(fresh, docs)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m insyn.gx_runner")
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--workbench", required=True, type=Path)
    parser.add_argument("--suites", required=True, type=Path)
    parser.add_argument("--pipelines", required=True, type=Path)
    parser.add_argument("--docs", type=Path)
    parser.add_argument("--only", metavar="SUITE", help="run this suite alone")
    parser.add_argument("--lake", metavar="LOCATION", help="validate the lake's Spark build instead")
    parser.add_argument("--not-evaluated", metavar="JSON", type=json.loads,
                        help='{"available": [kinds loaded], "rules": {rule: [missing kinds]}}: not run')
    args = parser.parse_args(argv)
    _without_unused_modules(spark=args.lake is not None)   # this process only: main() starts it
    rows = run(args.db.resolve(), args.workbench, args.suites, args.pipelines, args.docs, args.only, args.lake,
               args.not_evaluated)
    json.dump(rows, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
