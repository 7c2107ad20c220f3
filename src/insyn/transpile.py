"""The models' SQL (DuckDB dialect, the portable subset) for another engine.

One source of SQL: pipelines/ is written for DuckDB. For Spark, SQLGlot
translates each statement, after two rewrites that keep the answers equal:

- the helpers of pipelines/macros.sql are inlined where they are called, so
  the other engine needs no functions of ours (DuckDB macros are expressions;
  Spark's `add_months` is native and has the same month-end clamp);
- `layer.name` becomes `layer__name`: on Spark every table of a run is a view
  of the session (raw and audit over the lake's Parquet, params from the same
  Python rows as DuckDB's, models over the build's Parquet), with no metastore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from .errors import InsynError
from .schema import LAYERS

_MACRO = re.compile(r"create\s+or\s+replace\s+macro\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)\s+as\s+(.*)",
                    re.IGNORECASE | re.DOTALL)
# {batch} in a GX UnexpectedRowsExpectation is GX's to fill in, after translation
_BATCH = "{batch}"
_BATCH_STANDIN = "insyn_gx_batch_standin"


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: exp.Expression


def read_macros(path: Path) -> dict[str, Macro]:
    """The helpers of macros.sql, as expressions over their parameters."""
    from .build import macro_statements

    macros = {}
    for statement in macro_statements(path):
        match = _MACRO.fullmatch(statement)
        if not match:
            raise InsynError(f"{path}: only `create or replace macro name(args) as expression` belongs here")
        name, params, body = match.groups()
        macros[name.lower()] = Macro(name.lower(), tuple(p.strip().lower() for p in params.split(",") if p.strip()),
                                     sqlglot.parse_one(body, read="duckdb"))
    return macros


def _inline(tree: exp.Expression, macros: dict[str, Macro], depth: int = 0) -> exp.Expression:
    if depth > 10:
        raise InsynError("macros.sql: a macro calls itself")

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in macros:
            macro = macros[node.name.lower()]
            args = node.expressions
            if len(args) != len(macro.params):
                raise InsynError(f"{macro.name}() takes {len(macro.params)} argument(s), given {len(args)}")
            bound = dict(zip(macro.params, args))
            body = macro.body.copy().transform(
                lambda n: bound[n.name.lower()].copy()
                if isinstance(n, exp.Column) and not n.table and n.name.lower() in bound else n)
            return exp.Paren(this=_inline(body, macros, depth + 1))
        return node

    return tree.transform(replace)


def _flatten_names(tree: exp.Expression) -> exp.Expression:
    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.db and node.db.lower() in LAYERS and not node.catalog:
            return exp.Table(this=exp.to_identifier(f"{node.db.lower()}__{node.name.lower()}"),
                             alias=node.args.get("alias"))
        return node

    return tree.transform(rename)


def view_name(table: str) -> str:
    """`staging.stg_x` -> `staging__stg_x`, the session view that holds it."""
    layer, name = table.split(".", 1)
    return f"{layer}__{name}"


def to_spark(sql: str, macros: dict[str, Macro]) -> str:
    """One DuckDB SELECT as Spark SQL, with the macros inlined and names flattened."""
    text = sql.replace(_BATCH, _BATCH_STANDIN)
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise InsynError(f"SQL the translator cannot read: {str(exc).splitlines()[0]}") from None
    tree = _flatten_names(_inline(tree, macros))
    return tree.sql(dialect="spark").replace(_BATCH_STANDIN, _BATCH)
