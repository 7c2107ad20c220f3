"""Docs that cannot rot: every table and column described, every command in the README."""

import re

import duckdb
import pytest

from insyn.build import build, discover
from insyn.cli import build_parser
from insyn.config import Policy
from insyn.sources import Sources

from helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def empty_build(tmp_path_factory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("docs") / "w.duckdb"))
    models = build(con, pipelines=REPO / "pipelines", sources=Sources.load(REPO / "pipelines" / "sources.toml"),
                   policy=Policy.load(REPO / "policy.toml"), as_of=__import__("datetime").date(2026, 11, 24))
    yield con, models
    con.close()


def test_every_model_has_a_description(empty_build):
    _, models = empty_build
    assert models, "no models found"
    assert [m.table for m in models if len(m.description) < 20] == []


def test_every_column_of_every_model_is_described(empty_build):
    con, _ = empty_build
    undocumented = con.execute(
        "select table_schema || '.' || table_name || '.' || column_name from audit.column_docs "
        "where coalesce(description, '') = '' order by 1").fetchall()
    assert undocumented == []
    # and the catalog carries them, for any DuckDB client
    assert con.execute("select count(*) from duckdb_columns() where schema_name = 'staging' "
                       "and comment is null").fetchone()[0] == 0


def test_documented_columns_exist(empty_build):
    con, models = empty_build
    for m in models:
        actual = [r[0] for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = $s and table_name = $t",
            {"s": m.layer, "t": m.name}).fetchall()]
        assert set(m.columns) <= set(actual), m.table


def test_model_files_follow_the_layer_naming():
    for m in discover(REPO / "pipelines"):
        if m.layer == "staging":
            assert re.fullmatch(r"stg_[a-z]+__[a-z_]+", m.name), m.name
        assert m.sql.rstrip().endswith("select * from final"), f"{m.path.name} does not end with select * from final"


def test_readme_names_every_command():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for command in sub.choices:
        assert f"insyn {command}" in README or f"`{command}`" in README, command


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    assert "make demo" in README and "make test" in README
    assert "make test" in (REPO / ".ci" / "run").read_text()
