"""The dashboard's one door to data: named queries on the published snapshot.

Pages call `q("dsar_timeline", year=...)`. A published snapshot never
changes, so a query's answer is kept for that snapshot (a few dozen answers)
and dropped when a newer snapshot is published: the next callback shows it.
benchmarks/run.py measures the callbacks both ways. A person's look-up
(`person`) is asked once and never kept: insyn.people, per source kind of
the workbench's sources.toml.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd

from insyn.db import ident
from insyn.queries import query

EXTENSION = "insyn.dashboard"             # the app's own state on its Flask server
_state: dict = {}                         # the last configured: for pages called outside a request
_answers: OrderedDict = OrderedDict()     # (snapshot, query, params) -> frame, for the current snapshot
_answers_lock = threading.Lock()
KEPT_ANSWERS = 64


def configure(reader, queries_dir: Path, access_report=None, access_log=None, sources=None) -> dict:
    """Set what the pages read; returns the state for the app (create_app keeps it on its server).
    `sources` (insyn.sources.Sources; None: the sources.toml beside `queries_dir`, read when a
    person is first looked up) says which source kinds name a person."""
    _answers.clear()
    state = {"reader": reader, "queries": Path(queries_dir), "access_report": access_report,
             "access_log": access_log, "sources": sources}
    _state.clear()
    _state.update(state)
    return state


def _current() -> dict:
    """The state of the app serving this request, else the last configured."""
    import flask

    if flask.has_app_context():
        return flask.current_app.extensions.get(EXTENSION, _state)
    return _state


def can_report() -> bool:
    return _current().get("access_report") is not None


def access_log():
    """The record of look-ups and reports (insyn.accesslog.AccessLog), or None when none is kept."""
    return _current().get("access_log")


def access_report(**kwargs) -> tuple[str, bytes, bool]:
    """The access report for one person (insyn.access_report.produce, identity first): its file
    name, its bytes, and whether identity rested on the DPO's vouching."""
    state = _current()
    cur = state["reader"].cursor()
    try:
        return state["access_report"](cur, **kwargs)
    finally:
        cur.close()


def person(email: str, words):
    """Everything held about one address (insyn.people.held: per source kind, with the person's
    requests and findings), in the language of `words` (an insyn.texts.Catalog); never kept."""
    from insyn import people
    from insyn.sources import Sources

    state = _current()
    if state.get("sources") is None:
        state["sources"] = Sources.load(state["queries"].parent / "sources.toml")
    cur = state["reader"].cursor()
    try:
        return people.held(cur, state["sources"], email, words)
    finally:
        cur.close()


def q(name: str, **params) -> pd.DataFrame:
    state = _current()
    cur = state["reader"].cursor()
    try:
        key = (str(state["reader"].path), name, tuple(sorted((k, repr(v)) for k, v in params.items())))
        with _answers_lock:
            if _answers and next(iter(_answers))[0] != key[0]:
                _answers.clear()   # a newer snapshot: nothing kept is current
            if key in _answers:
                _answers.move_to_end(key)
                return _answers[key].copy()
        frame = query(cur, state["queries"], name, **params)
    finally:
        cur.close()
    with _answers_lock:
        _answers[key] = frame.copy()
        while len(_answers) > KEPT_ANSWERS:
            _answers.popitem(last=False)
    return frame


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
    reader = _current().get("reader")
    return reader.path.name if reader is not None and reader.path is not None else ""


def _listed(name: str, where: list[str]) -> str:
    """The named query `name` as a subquery, narrowed by `where` (SQL built by components/grid.py from
    its allow-listed columns, every value a `$g…` parameter)."""
    sql = (_current()["queries"] / f"{name}.sql").read_text(encoding="utf-8")
    return f"select * from (\n{sql}\n) as listed" + (" where " + " and ".join(where) if where else "")


def page(name: str, params: dict, where: list[str], values: dict, order: list[str],
         start: int, count: int) -> tuple[pd.DataFrame, int]:
    """One page of the named query `name` (with its `params`): rows start..start+count of those
    matching `where` (with its `values`) in `order`, and how many match. Never kept: a page is small."""
    listed = _listed(name, where)
    bound = {**params, **values}
    cur = _current()["reader"].cursor()
    try:
        total = cur.execute(f"select count(*) from ({listed}\n)", bound).fetchone()[0]
        rows = cur.execute(f"{listed}\norder by {', '.join(order)}\nlimit $g_count offset $g_start",
                           {**bound, "g_count": count, "g_start": start}).df()
    finally:
        cur.close()
    return rows, int(total)


def listed(name: str, params: dict, where: list[str], values: dict, order: list[str]) -> pd.DataFrame:
    """Every row of the named query `name` matching `where`, in `order` (an export of a filtered view)."""
    cur = _current()["reader"].cursor()
    try:
        return cur.execute(f"{_listed(name, where)}\norder by {', '.join(order)}", {**params, **values}).df()
    finally:
        cur.close()


def distinct(name: str, params: dict, column: str) -> list:
    """The values of `column` (a name from grid.py's allow-list) in the named query's answer."""
    cur = _current()["reader"].cursor()
    try:
        return [r[0] for r in cur.execute(f"select distinct {ident(column)} from ({_listed(name, [])}\n)",
                                          params).fetchall()]
    finally:
        cur.close()
