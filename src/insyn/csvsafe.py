"""CSV for spreadsheets: text that Excel would run as a formula is neutralised.

A text cell starting with =, +, -, @, a tab or a carriage return gets a
leading apostrophe; numbers stay numbers (OWASP CSV injection guidance). So
does such a character after a comma or semicolon inside a text: Swedish Excel
opens a CSV by splitting every line on semicolons, quotes or not, so the
address `x;=cmd|...;@evil.se` would start a cell with a formula (quoting
would not help: a quote inside such a piece is no quote to Excel). Every CSV
Insyn writes goes through `line()`.
A bidi control character (U+202E and its kind) is written out as <U+202E>:
in a cell it would show the rest of the text reordered.
"""

from __future__ import annotations

import numbers
import re

import pandas as pd

from .text import show_controls

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


_AFTER_SEPARATOR = re.compile(r"([;,][ \"]*)(?=[=+\-@\t\r])")


def neutralise(value):
    if not isinstance(value, str):
        return value
    value = show_controls(value)   # a spreadsheet would show the text after one reordered
    value = _AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + value if value.startswith(_TRIGGERS) else value


_QUOTE_IF = (",", '"', "\r", "\n", "\t")


def line(cells, end: str = "\r\n") -> str:
    """One CSV line of cells already made text (numbers formatted, text neutralised): a cell holding a
    comma, a quote, a tab or a line break is quoted, its quotes doubled."""
    cells = ["" if c is None else str(c) for c in cells]
    return ",".join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in _QUOTE_IF) else c
                    for c in cells) + end


def to_csv(df: pd.DataFrame) -> str:
    out = [line([neutralise(str(c)) for c in df.columns])]
    for row in df.itertuples(index=False):
        out.append(line(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else
                         (str(v) if isinstance(v, numbers.Number) else neutralise(str(v))) for v in row]))
    return "".join(out)
