"""The dashboard's one door to data: named queries on the published snapshot.

Pages call `q("dsar_timeline", year=...)`. A published snapshot never
changes, so a query's answer is kept for that snapshot (a few dozen answers)
and dropped when a newer snapshot is published: the next callback shows it.
benchmarks/run.py measures the callbacks both ways. A person's look-up
(`person`) is asked once and never kept: insyn.people, per source kind of
the workbench's sources.toml.
"""

from __future__ import annotations

import contextlib
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
KEPT_LISTING_BYTES = 256 * 2**20          # the grids' lists kept whole (data._listing), all together


def configure(reader, queries_dir: Path, access_report=None, access_log=None, sources=None) -> dict:
    """Set what the pages read; returns the state for the app (create_app keeps it on its server).
    `sources` (insyn.sources.Sources; None: the sources.toml beside `queries_dir`, read when a
    person is first looked up) says which source kinds name a person."""
    _answers.clear()
    _too_large.clear()
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


def pipelines() -> Path:
    """The workbench's pipelines folder (its queries, rules and their `needs`)."""
    return _current()["queries"].parent


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

    state = _current()
    cur = state["reader"].cursor()
    try:
        return people.held(cur, sources(), email, words)
    finally:
        cur.close()


def sources():
    """The workbench's source kinds (insyn.sources.Sources), read once: what names a person, and
    each kind's name in words (a page shows "CRM: kontakt", never "salesforce.contact")."""
    from insyn.sources import Sources

    state = _current()
    if state.get("sources") is None:
        state["sources"] = Sources.load(state["queries"].parent / "sources.toml")
    return state["sources"]


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
    return built_as_of()


def built_as_of() -> dt.date:
    """The as-of date the snapshot was built for (what the marts and the registers' deadlines are
    judged at; earlier dates have only their check runs' findings)."""
    dates = q("as_of_dates")
    built = dates[dates["is_built"]]["as_of"]
    return to_date(built.iloc[0]) if len(built) else dt.date.today()


def snapshot_name() -> str:
    reader = _current().get("reader")
    return reader.path.name if reader is not None and reader.path is not None else ""


def _keep_listing(key, answer) -> bool:
    """Keep a list's answer for its snapshot, within KEPT_LISTING_BYTES for all lists (the oldest
    dropped first); False for an answer larger than that alone (not kept: see _listing)."""
    if answer.nbytes > KEPT_LISTING_BYTES:
        return False
    with _answers_lock:
        _answers[key] = answer
        listings = [k for k in _answers if k[1].startswith("listing:")]
        while sum(_answers[k].nbytes for k in listings) > KEPT_LISTING_BYTES:
            del _answers[listings.pop(0)]
        while len(_answers) > KEPT_ANSWERS:
            _answers.popitem(last=False)
    return True


def _query_text(name: str) -> str:
    return (_current()["queries"] / f"{name}.sql").read_text(encoding="utf-8")


def _narrowed(where: list[str]) -> str:
    """The kept answer `listed` narrowed by `where` (SQL built by components/grid.py from its
    allow-listed columns, every value a `$g…` parameter)."""
    return "select * from listed" + (" where " + " and ".join(where) if where else "")


def page(name: str, params: dict, where: list[str], values: dict, order: list[str],
         start: int, count: int) -> tuple[pd.DataFrame, int]:
    """One page of the named query `name` (with its `params`): rows start..start+count of those
    matching `where` (with its `values`) in `order`, and how many match. The page itself is never
    kept (a page is small); it is cut from the query's whole answer, kept for the snapshot."""
    with _listing(name, params) as run:
        total = run(f"select count(*) from ({_narrowed(where)}\n)", values).fetchone()[0]
        rows = run(f"{_narrowed(where)}\norder by {', '.join(order)}\nlimit $g_count offset $g_start",
                   {**values, "g_count": count, "g_start": start}).df()
    return rows, int(total)


def listed(name: str, params: dict, where: list[str], values: dict, order: list[str]) -> pd.DataFrame:
    """Every row of the named query `name` matching `where`, in `order` (an export of a filtered view)."""
    with _listing(name, params) as run:
        return run(f"{_narrowed(where)}\norder by {', '.join(order)}", values).df()


def distinct(name: str, params: dict, column: str) -> list:
    """The values of `column` (a name from grid.py's allow-list) in the named query's answer."""
    with _listing(name, params) as run:
        return [r[0] for r in run(f"select distinct {ident(column)} from listed", {}).fetchall()]


_too_large: set = set()   # lists whose answer is over KEPT_LISTING_BYTES: asked of the snapshot each time


@contextlib.contextmanager
def _listing(name: str, params: dict):
    """`run(sql, values)`, where `sql` reads `listed`: the named query's whole answer (with `params`),
    asked of the snapshot once and kept for it as Arrow (its types and NULLs as DuckDB gave them),
    so that the pages of a list, its sorts, filters and counts cost a scan of that answer, not the
    query again (the read-back of opt-out breaches joins every delivery: 1.3 s at 500 k contacts).
    An answer too large to keep is the query itself, as a common table expression, each time."""
    state = _current()
    key = (str(state["reader"].path), "listing:" + name, tuple(sorted((k, repr(v)) for k, v in params.items())))
    cur = state["reader"].cursor()
    try:
        with _answers_lock:
            if _answers and next(iter(_answers))[0] != key[0]:
                _answers.clear()   # a newer snapshot: nothing kept is current
                _too_large.clear()
            answer = _answers.get(key)
            if answer is not None:
                _answers.move_to_end(key)
        if answer is None and key not in _too_large:
            answer = cur.sql(_query_text(name), params=params).to_arrow_table()
            if not _keep_listing(key, answer):
                _too_large.add(key)
        if answer is not None:
            cur.register("listed", answer)
            yield lambda sql, values: cur.execute(sql, values)
        else:
            query = _query_text(name)
            yield lambda sql, values: cur.execute(f"with listed as (\n{query}\n)\n{sql}", {**params, **values})
    finally:
        cur.close()


def counted(name: str, params: dict, by: tuple[str, ...]) -> pd.DataFrame:
    """How many rows of the named query `name` there are per value of the columns `by` (names from
    the page's code, quoted), as `by` + `records`: a heading's count or a chart's bars without
    reading the list itself. Kept per snapshot like `q`."""
    state = _current()
    key = (str(state["reader"].path), "counted:" + name + ":" + ",".join(by),
           tuple(sorted((k, repr(v)) for k, v in params.items())))
    with _answers_lock:
        if key in _answers:
            return _answers[key].copy()
    columns = "".join(ident(c) + ", " for c in by)
    cur = state["reader"].cursor()
    try:   # over the query itself: a list to count can be every contact, too much to keep
        frame = cur.execute(f"select {columns}count(*) as records from (\n{_query_text(name)}\n) as listed"
                            + (" group by all order by all" if by else ""), params).df()
    finally:
        cur.close()
    with _answers_lock:
        if _answers and next(iter(_answers))[0] != key[0]:
            _answers.clear()
        _answers[key] = frame.copy()
        while len(_answers) > KEPT_ANSWERS:
            _answers.popitem(last=False)
    return frame
