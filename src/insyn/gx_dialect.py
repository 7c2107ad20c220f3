"""A SQLAlchemy dialect `duckdb+gx` that lets Great Expectations run in DuckDB.

GX 1.x runs each query inside `with engine.connect()` and fetches the rows
after the block; SQLAlchemy 2 rolls back on close, and with duckdb_engine (whose
cursor is the DuckDB connection) that rollback discards the pending result.
This dialect makes begin/commit/rollback no-ops. It is only ever used on a
read-only connection (see gx_runner.py), so nothing can be half-written.
GX also enables regex expectations only for dialects it knows; DuckDB's `~`
is a regex match like PostgreSQL's, so instances present themselves as that.
(../shared/design/toolchain.md, section 4.)
"""

import sqlalchemy.dialects.postgresql as _pg
from duckdb_engine import Dialect as _DuckDBDialect
from sqlalchemy.dialects import registry


class GXDuckDBDialect(_DuckDBDialect):
    supports_statement_cache = False

    def do_begin(self, dbapi_connection):
        pass

    def do_rollback(self, dbapi_connection):
        pass

    def do_commit(self, dbapi_connection):
        pass


class _PostgresForGX:
    """Instance access gives PostgreSQL's dialect class (GX's regex check);
    class access keeps the descriptor, so SQLAlchemy still loads this dialect."""

    def __get__(self, obj, objtype=None):
        return self if obj is None else _pg.dialect


GXDuckDBDialect.dialect = _PostgresForGX()
registry.register("duckdb.gx", __name__, "GXDuckDBDialect")
