"""Printing rows as an aligned table, CSV or JSON."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from typing import Any, Iterable, TextIO

MAX_CELL = 60


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def json_default(value: Any):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def print_table(columns: list[str], rows: Iterable[Iterable[Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    cells = [[_text(v).replace("\r", " ").replace("\n", " ") for v in row] for row in rows]
    cells = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in cells]
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()
    print(line, file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)
    print(f"({len(cells)} row{'s' if len(cells) != 1 else ''})", file=out)


def print_csv(columns: list[str], rows: Iterable[Iterable[Any]], out: TextIO | None = None) -> None:
    """CSV for spreadsheets too: text that a spreadsheet would run as a formula is neutralised
    (csvsafe.py); numbers, negative ones included, stay numbers."""
    from .csvsafe import line, neutralise

    out = out or sys.stdout
    out.write(line([neutralise(c) for c in columns], end="\n"))
    for row in rows:
        out.write(line([_text(v) if isinstance(v, (int, float, decimal.Decimal)) else neutralise(_text(v))
                        for v in row], end="\n"))


def print_json(value: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    json.dump(value, out, ensure_ascii=False, indent=2, default=json_default)
    out.write("\n")


def emit(columns: list[str], rows: list[tuple], fmt: str, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        print_json([dict(zip(columns, r)) for r in rows], out)
    elif fmt == "csv":
        print_csv(columns, rows, out)
    else:
        print_table(columns, rows, out)


def print_check(report, out: TextIO | None = None) -> None:
    """A check.CheckReport: per suite, what failed, and where the Data Docs are."""
    out = out or sys.stdout
    if report.check_run_id is None:
        print(f"nothing is loaded yet: no suite was run as of {report.as_of.isoformat()}", file=out)
        return
    print_table(["suite", "expectations", "passed", "failed", "not evaluated", "unexpected"], report.by_suite(), out)
    failed = report.failed()
    if failed:
        print("\nfailed:", file=out)
        print_table(["suite", "check", "severity", "unexpected", "description"],
                    [[r["suite"], r["rule"] or r["check"] or r["expectation_type"], r["severity"],
                      r["unexpected_count"], r["exception"] or r["description"] or r["column"]] for r in failed], out)
    skipped = report.not_evaluated()
    suites = sorted({(r["suite"], " ".join(r["not_evaluated"])) for r in skipped if not r["rule"]})
    if suites:   # the rules not evaluated are listed with their reasons by the caller
        print("\nsuites not evaluated (the sources they look at were never loaded):", file=out)
        print_table(["suite", "missing_sources"], suites, out)
    outcome = (f"{len(failed)} expectation(s) failed" if failed else
               "all expectations met" if report.complete and not skipped else "no expectation failed")
    if skipped or report.unable:
        outcome += (f", {len(skipped)} expectation(s) and {len(report.unable)} rule(s) not evaluated"
                    if report.unable else f", {len(skipped)} expectation(s) not evaluated")
    print(f"check run {report.check_run_id} as of {report.as_of.isoformat()}: {outcome}; "
          f"Data Docs in {report.data_docs}", file=out)
