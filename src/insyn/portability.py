"""The portable subset of SQL that every model and rule is written in.

The models run on DuckDB today and must give the same answers on Spark
(../shared/design/portability.md). Some DuckDB constructs transpile to Spark
SQL but answer differently there without an error; this lint refuses them,
file by file, naming the line and what to write instead. It reads the SQL
with SQLGlot's DuckDB dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

MODEL_FOLDERS = ("staging", "marts", "rules")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    construct: str
    instead: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.construct} is outside the portable subset; {self.instead}"


_DAY_UNITS = {"DAY", "DAYS", "D"}
_DOW_PARTS = {"DOW", "DAYOFWEEK", "ISODOW", "WEEKDAY"}


def _unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "DAY").upper()


def _node_problems(tree: exp.Expression) -> list[tuple[exp.Expression, str, str]]:
    """(node, construct, instead) for every construct outside the subset."""
    found = []
    for node in tree.walk():
        if isinstance(node, (exp.DateDiff, exp.DateSub, exp.DateAdd)) and _unit(node) not in _DAY_UNITS:
            found.append((node, f"date arithmetic in {_unit(node).lower()}s",
                          "count days, or compare with add_months()"))
        elif isinstance(node, (exp.DayOfWeek, exp.DayOfWeekIso)) or (
                isinstance(node, exp.Extract) and node.name.upper() in _DOW_PARTS):
            found.append((node, "a day-of-week number", "join the calendar table (params.calendar)"))
        elif isinstance(node, exp.Anonymous) and node.name.lower() in ("date_part", "datepart") and \
                node.expressions and node.expressions[0].name.upper() in _DOW_PARTS:
            found.append((node, "a day-of-week number", "join the calendar table (params.calendar)"))
        elif isinstance(node, exp.RegexpReplace) and not (node.args.get("modifiers") and "g" in node.args["modifiers"].name):
            found.append((node, "regexp_replace without the 'g' flag", "pass 'g' (Spark replaces every match)"))
        elif isinstance(node, exp.CountIf):
            found.append((node, "count_if", "write sum(case when … then 1 else 0 end)"))
        elif isinstance(node, exp.StrToTime) or (isinstance(node, exp.Anonymous)
                                                  and node.name.lower() in ("strptime", "try_strptime")):
            found.append((node, "strptime", "parse in the loader, or try_cast an ISO string"))
        elif isinstance(node, exp.GenerateSeries) or (isinstance(node, exp.Anonymous)
                                                       and node.name.lower() in ("generate_series", "range")):
            found.append((node, "generate_series", "join a table of values (params.calendar)"))
        elif isinstance(node, exp.Join) and (node.args.get("method") or "").upper() == "ASOF":
            found.append((node, "an ASOF join", "a join with an inequality and an aggregate"))
        elif isinstance(node, (exp.Pivot,)) or type(node).__name__ == "Unpivot":
            found.append((node, "PIVOT", "conditional aggregates"))
        elif isinstance(node, exp.Star) and (node.args.get("except_") or node.args.get("except")
                                             or node.args.get("replace") or node.args.get("rename")):
            found.append((node, "select * exclude/replace", "name the columns"))
        elif isinstance(node, (exp.Add, exp.Sub)) and isinstance(node.expression, exp.Interval) and \
                _unit(node.expression) not in _DAY_UNITS:
            found.append((node, f"date ± interval in {_unit(node.expression).lower()}s",
                          "add_months(d, n) cast to date"))
        elif isinstance(node, exp.Select) and node.args.get("qualify") is not None and \
                any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
                    for e in node.expressions):
            found.append((node, "QUALIFY beside select *",
                          "number the rows in a CTE of named columns and join it (Spark gains a column)"))
        elif isinstance(node, exp.Select) and _ordered_distinct_list_beside_distinct(node):
            found.append((node, "an ordered string_agg(distinct …) beside another distinct aggregate",
                          "aggregate distinct rows of a CTE (Spark fails on the pair)"))
        elif isinstance(node, (exp.Placeholder, exp.Parameter)):
            found.append((node, "a $parameter", "join the one-row params.run table"))
    return found


def _ordered_distinct_list_beside_distinct(select: exp.Select) -> bool:
    distinct = []
    for column in select.expressions:
        for agg in column.find_all(exp.AggFunc):
            if agg.find(exp.Distinct) is not None:
                distinct.append(agg)
    return len(distinct) > 1 and any(isinstance(a, exp.GroupConcat) and isinstance(a.this, exp.Order)
                                     for a in distinct)


# Written spellings the parse does not keep apart (len(list) parses as length()).
_TEXT_PATTERNS = [
    (re.compile(r"\blen\s*\(", re.I), "len()", "length() of text; no list functions"),
    (re.compile(r"\barray_length\s*\(", re.I), "array_length()", "no list functions"),
]


def _line_of(sql: str, node: exp.Expression) -> int:
    """The line a node starts on (SQLGlot keeps token positions on identifiers and literals)."""
    for sub in node.walk():
        meta = getattr(sub, "meta", None) or {}
        if "line" in meta:
            return meta["line"]
    text = node.sql(dialect="duckdb").split("(")[0].strip()
    index = sql.lower().find(text.lower()) if text else -1
    return sql.count("\n", 0, index) + 1 if index >= 0 else 1


def lint_sql(sql: str, file: str = "<sql>") -> list[Problem]:
    """Every construct in this SQL that is outside the portable subset."""
    body = re.sub(r"--[^\n]*", lambda m: " " * len(m.group()), sql)   # comments may say anything
    problems = []
    for pattern, construct, instead in _TEXT_PATTERNS:
        for match in pattern.finditer(body):
            problems.append(Problem(file, body.count("\n", 0, match.start()) + 1, construct, instead))
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        line = (exc.errors[0].get("line") if exc.errors else None) or 1
        return [Problem(file, line, "SQL SQLGlot cannot read", "write plain SELECT SQL")]
    for tree in trees:
        if tree is None:
            continue
        for node, construct, instead in _node_problems(tree):
            problems.append(Problem(file, _line_of(sql, node), construct, instead))
    return sorted(set(problems), key=lambda p: (p.line, p.construct))


def model_files(pipelines: Path) -> list[Path]:
    return sorted(p for folder in MODEL_FOLDERS for p in (pipelines / folder).glob("*.sql"))


def lint_models(pipelines: Path) -> list[Problem]:
    """Every model and rule file of a workbench's pipelines."""
    problems = []
    for path in model_files(pipelines):
        problems += lint_sql(path.read_text(encoding="utf-8"), str(path.relative_to(pipelines)))
    return problems
