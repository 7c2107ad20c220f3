"""The models' SQL for Spark: helpers inlined, names flattened, GX's {batch} kept; the engine options."""

from __future__ import annotations

import sqlglot

from insyn.transpile import read_macros, to_spark, view_name

from helpers import REPO

MACROS = read_macros(REPO / "pipelines" / "macros.sql")


def test_every_helper_of_macros_sql_is_known_with_its_parameters():
    assert {"trim_ws", "squish_ws", "blank_to_null", "email_key", "sfid15", "to_bool", "to_date",
            "to_amount", "add_months"} <= set(MACROS)
    assert MACROS["add_months"].params == ("d", "n")


def test_helpers_are_inlined_recursively_and_tables_become_session_views():
    sql = to_spark("select email_key(c.email) as k, squish_ws(c.lead_source) as s from staging.stg_x c "
                   "join params.run r on true", MACROS)
    assert "email_key" not in sql.lower() and "squish_ws" not in sql.lower() and "trim_ws" not in sql.lower()
    assert "staging__stg_x" in sql and "params__run" in sql and "staging.stg_x" not in sql
    # the inlined helper is the DuckDB macro's body: lower(trim …), NULL when blank
    assert sql.startswith("SELECT (NULLIF(LOWER((REGEXP_REPLACE(c.email, '^[")
    assert sqlglot.parse_one(sql, read="spark") is not None


def test_a_helpers_argument_replaces_its_parameter_only():
    sql = to_spark("select sfid15(d) from t", MACROS)   # the argument is named like add_months' parameter
    assert "sfid15" not in sql.lower() and ", 15)" in sql
    # sfid15's parameter (s) and trim_ws's, inlined inside it, are both replaced by the argument
    assert {c.name for c in sqlglot.parse_one(sql, read="spark").find_all(sqlglot.exp.Column)} == {"d"}
    nested = to_spark("select sfid15(upper(x.s)) from t x", MACROS)
    assert {c.sql() for c in sqlglot.parse_one(nested, read="spark").find_all(sqlglot.exp.Column)} == {"x.s"}


def test_spark_keeps_add_months_native_and_gx_batch_placeholders_survive():
    sql = to_spark("select * from {batch} where add_months(created_on, 12) <= (select as_of from params.run)",
                   MACROS)
    assert "{batch}" in sql and "ADD_MONTHS(" in sql.upper() and "params__run" in sql


def test_view_names():
    assert view_name("rules.optout__not_synced") == "rules__optout__not_synced"


def test_an_unknown_engine_or_spark_without_a_lake_is_refused_with_exit_2(insyn, monkeypatch):
    monkeypatch.delenv("INSYN_LAKE", raising=False)
    monkeypatch.setenv("INSYN_ENGINE", "oracle")
    r = insyn("loads")
    assert r.code == 2 and "$INSYN_ENGINE: expected one of duckdb, spark, not 'oracle'" in r.err
    monkeypatch.delenv("INSYN_ENGINE")
    r = insyn("--engine", "spark", "loads")
    assert r.code == 2 and "the Spark engine needs a lake" in r.err and "Traceback" not in r.err


def test_loads_under_spark_lists_an_empty_lake_without_starting_spark(insyn, tmp_path):
    r = insyn("--engine", "spark", "--lake", str(tmp_path / "lake"), "loads", "--format", "json")
    assert r.code == 0 and r.json() == []


def test_person_commands_refuse_the_spark_engine_rather_than_answer_from_a_partial_warehouse(insyn, tmp_path):
    for args in (["dsar", "report", "anna@example.se"], ["dsar", "erase", "anna@example.se"]):
        r = insyn("--engine", "spark", "--lake", str(tmp_path / "lake"), *args)
        assert r.code == 2 and "not available with --engine spark yet" in r.err
