"""The dashboard's one door to data: named queries on the published snapshot.

Pages call `q("dsar_timeline", year=...)`; nothing here holds data between
requests, so a newly published snapshot shows on the next callback.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from insyn.queries import query

_state: dict = {}


def configure(reader, queries_dir: Path, access_report=None) -> None:
    _state["reader"] = reader
    _state["queries"] = Path(queries_dir)
    _state["access_report"] = access_report


def can_report() -> bool:
    return _state.get("access_report") is not None


def access_report(**kwargs) -> tuple[str, bytes]:
    """The access report for one person (insyn.access_report.produce, identity first)."""
    cur = _state["reader"].cursor()
    try:
        return _state["access_report"](cur, **kwargs)
    finally:
        cur.close()


def q(name: str, **params) -> pd.DataFrame:
    cur = _state["reader"].cursor()
    try:
        return query(cur, _state["queries"], name, **params)
    finally:
        cur.close()


def to_date(value) -> dt.date:
    """A DATE from DuckDB arrives in pandas as a Timestamp; pages work with dates."""
    return pd.Timestamp(value).date()


def as_of_dates() -> list[dt.date]:
    return [to_date(d) for d in q("as_of_dates")["as_of"]]


def parse_as_of(value) -> dt.date:
    """The as-of chosen in the header, or the date the snapshot was built for."""
    if value:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            pass
    dates = q("as_of_dates")
    built = dates[dates["is_built"]]["as_of"]
    return to_date(built.iloc[0]) if len(built) else dt.date.today()


def snapshot_name() -> str:
    reader = _state.get("reader")
    return reader.path.name if reader is not None and reader.path is not None else ""
