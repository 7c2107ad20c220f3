"""Named read queries (pipelines/queries/*.sql) with `$name` parameters.

The dashboard, the notebooks and the CLI ask questions through here; a value
always travels as a bound parameter.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from .errors import InsynError

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@lru_cache(maxsize=None)
def _load(folder: str, name: str) -> tuple[str, frozenset[str]]:
    path = Path(folder) / f"{name}.sql"
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or not path.exists():
        raise InsynError(f"no named query {name!r} in {folder}")
    sql = path.read_text(encoding="utf-8")
    return sql, frozenset(_PARAM.findall(_COMMENT.sub("", sql)))


def names(folder: Path) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.sql"))


def _prepared(folder: Path, name: str, params: dict) -> str:
    sql, wanted = _load(str(folder), name)
    if wanted != params.keys():
        raise InsynError(f"query {name}: parameters {sorted(wanted)} expected, got {sorted(params)}")
    return sql


def query(con: duckdb.DuckDBPyConnection, folder: Path, name: str, **params) -> pd.DataFrame:
    """Run pipelines/queries/<name>.sql with its parameters; every $name it uses must be given."""
    return con.execute(_prepared(folder, name, params), params).df()


def rows(con: duckdb.DuckDBPyConnection, folder: Path, name: str, **params) -> tuple[list[str], list[tuple]]:
    """The same, as column names and plain Python rows (for the CLI)."""
    cur = con.execute(_prepared(folder, name, params), params)
    return [d[0] for d in cur.description], cur.fetchall()
