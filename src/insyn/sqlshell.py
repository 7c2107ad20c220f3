"""`insyn sql`: SQL that reads the warehouse and nothing else.

Two locks, each enough for what the other misses:
- the connection: the warehouse opened read-only, then DuckDB's access to files,
  extensions and settings switched off and the configuration locked;
- the statements: parsed by DuckDB itself, and run only when every statement
  of the text reads (SELECT, which DESCRIBE, SHOW, SUMMARIZE and PIVOT ... IN
  parse to, or EXPLAIN of a SELECT); otherwise none of them runs.
"""

from __future__ import annotations

import sys

import duckdb

from .errors import InsynError

# Set in this order after the installation's own settings (temp_directory and the like):
# lock_configuration last, or the ones before it could be set back.
LOCKDOWN = (
    ("python_enable_replacements", False),    # no Python variable read as a table
    ("enable_external_access", False),        # no file but the warehouse and its temp files: no COPY,
                                              # EXPORT, ATTACH, read_*, glob, replacement scans, INSTALL, LOAD
    ("autoinstall_known_extensions", False),
    ("autoload_known_extensions", False),
    ("allow_community_extensions", False),
    ("lock_configuration", True),             # no SET, RESET, PRAGMA or table function changes a setting
)

READS = (duckdb.StatementType.SELECT,)
ALLOWED = "SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN of a SELECT"
QUIT = (".quit", ".exit", "\\q")


def connect(app) -> duckdb.DuckDBPyConnection:
    """The warehouse of `app` (workbench.Workbench), read-only, with no way out to files,
    extensions or settings."""
    con = app.connect(read_only=True)
    try:
        for name, value in LOCKDOWN:     # names are constants of this module
            con.execute(f"set {name} = $value", {"value": value})
    except duckdb.Error:
        con.close()
        raise
    return con


def parse(con, text: str) -> list:
    """The statements of `text`, as DuckDB's parser sees them (quotes, comments, $$ included)."""
    try:
        return con.extract_statements(text)
    except duckdb.Error as exc:
        raise InsynError(f"sql: {_first_line(exc)}; nothing was run") from None


def statement_kind(con, statement) -> str | None:
    """What a refused statement is (`COPY`, `EXPLAIN of DELETE`), or None when it reads."""
    kind = _type(statement)
    if kind in READS:
        return None
    if kind == duckdb.StatementType.EXPLAIN:
        inner = _explained(con, statement.query)
        return None if inner in READS else f"EXPLAIN of {inner.name if inner else 'an unknown statement'}"
    return kind.name if kind else "of an unknown type"


def check(con, statements: list) -> None:
    """Refuse the whole text when any statement of it does more than read."""
    for number, statement in enumerate(statements, 1):
        kind = statement_kind(con, statement)
        if kind is not None:
            hint = " (a PIVOT without IN (...) creates a type first: list its values)" if kind == "MULTI" else ""
            raise InsynError(f"sql: statement {number} is {kind}{hint}; insyn sql is read-only ({ALLOWED}); "
                             "nothing was run")


def run(con, text: str, fmt: str) -> None:
    """Check every statement of `text`, then run them in order, printing each result."""
    from .output import emit

    statements = parse(con, text)
    check(con, statements)
    for statement in statements:
        try:
            cur = con.execute(statement)
            if cur.description is not None:
                emit([d[0] for d in cur.description], cur.fetchall(), fmt)
        except duckdb.PermissionException as exc:
            raise InsynError(f"sql: insyn sql reads the warehouse and no other file ({_first_line(exc)})") from None
        except duckdb.Error as exc:
            raise InsynError(f"sql: {_first_line(exc)}") from None


def is_complete(text: str) -> bool:
    """The text ends with a `;` outside quotes and comments (a `--` comment may follow it)."""
    tokens = duckdb.tokenize(text)
    ends = [pos for pos, _ in tokens[1:]] + [len(text)]
    words = [(text[pos:end].strip(), kind) for (pos, kind), end in zip(tokens, ends)]
    while words and words[-1][1] == duckdb.token_type.comment and words[-1][0].startswith("--"):
        words.pop()
    return bool(words) and words[-1] == (";", duckdb.token_type.operator)


def shell(app, query: str | None, fmt: str) -> int:
    """`insyn sql [QUERY]`: the argument, else a script on standard input, else a prompt."""
    con = connect(app)
    try:
        if query is not None:
            if not parse(con, query):
                raise InsynError("sql: QUERY holds no statement")
            run(con, query, fmt)
        elif not sys.stdin.isatty():
            run(con, sys.stdin.read(), fmt)
        else:
            _prompt(con, app.layout.warehouse, fmt)
        return 0
    finally:
        con.close()


def _prompt(con, db_path, fmt: str) -> None:
    print(f"insyn sql (read-only) on {db_path}; end statements with ';', .quit to leave")
    buffer = ""
    while True:
        try:
            line = input("insyn> " if not buffer else "  ...> ")
        except EOFError:
            print()
            return
        if not buffer and line.strip() in QUIT:
            return
        buffer += line + "\n"
        if is_complete(buffer):
            try:
                run(con, buffer, fmt)
            except InsynError as exc:   # at the prompt a refusal ends the statement, not the session
                print(f"insyn: {exc.message}", file=sys.stderr)
            buffer = ""


def _explained(con, query: str):
    """The type of the statement an EXPLAIN wraps (EXPLAIN ANALYZE runs it), or None.

    DuckDB's tokenizer finds where the wrapped statement starts, after `EXPLAIN`,
    an optional `ANALYZE` and an optional `(options)`; DuckDB's parser then types it."""
    tokens = duckdb.tokenize(query)
    ends = [pos for pos, _ in tokens[1:]] + [len(query)]
    kept = [(pos, query[pos:end].strip().lower()) for (pos, kind), end in zip(tokens, ends)
            if kind != duckdb.token_type.comment]
    starts, words = [pos for pos, _ in kept], [word for _, word in kept]
    i = 1
    if i < len(words) and words[i] in ("analyze", "analyse"):
        i += 1
    elif i < len(words) and words[i].startswith("("):
        depth = 0
        while i < len(words):
            depth += words[i].count("(") - words[i].count(")")
            i += 1
            if depth <= 0:
                break
    if not words or words[0] != "explain" or i >= len(words):
        return None
    try:
        inner = con.extract_statements(query[starts[i]:])
    except duckdb.Error:
        return None
    return _type(inner[0]) if len(inner) == 1 else None


def _type(statement):
    """The statement's type; None for one DuckDB's Python API has no name for (UPDATE EXTENSIONS)."""
    try:
        return statement.type
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
