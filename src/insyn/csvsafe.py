"""CSV for spreadsheets: text that Excel would run as a formula is neutralised.

A text cell starting with =, +, -, @, a tab or a carriage return gets a
leading apostrophe; numbers stay numbers (OWASP CSV injection guidance).
"""

from __future__ import annotations

import csv
import io
import numbers

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def to_csv(df: pd.DataFrame) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(str(c)) for c in df.columns])
    for row in df.itertuples(index=False):
        writer.writerow(["" if v is None or (not isinstance(v, str) and pd.isna(v)) else
                         (v if isinstance(v, numbers.Number) else neutralise(str(v))) for v in row])
    return out.getvalue()
