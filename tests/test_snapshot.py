"""Readers never block the writer: the dashboard reads published snapshots."""

import stat
import subprocess
import sys
import threading
import time

import duckdb
import pandas as pd

from insyn import snapshot
from insyn.csvsafe import to_csv

from helpers import held_open, published


def _warehouse(path, n):
    con = duckdb.connect(str(path))
    con.execute("create or replace table t as select range as i from range($n)", {"n": n})
    con.close()


def test_reader_follows_each_new_snapshot_without_a_restart(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 3)
    first = snapshot.publish(db, published(db))
    reader = snapshot.SnapshotReader(published(db))
    assert reader.cursor().execute("select count(*) from t").fetchone()[0] == 3
    _warehouse(db, 5)
    second = snapshot.publish(db, published(db))
    assert second != first
    assert reader.cursor().execute("select count(*) from t").fetchone()[0] == 5
    assert reader.path == second


def test_snapshots_are_owner_only_and_old_ones_pruned(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 1)
    for _ in range(snapshot.KEEP + 2):
        latest = snapshot.publish(db, published(db))
    kept = sorted(published(db).glob("insyn-*.duckdb"))
    assert len(kept) <= snapshot.KEEP and kept[-1] == latest   # an older one is reused when free
    assert stat.S_IMODE(latest.stat().st_mode) == 0o600
    assert snapshot.current(published(db)) == latest


def test_the_dashboard_reads_while_another_process_writes(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 2)
    snapshot.publish(db, published(db))
    writer = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "c.execute('create table u as select 1'); print('ok', flush=True); time.sleep(20)",
                               str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ok"
        reader = snapshot.SnapshotReader(published(db))
        assert reader.cursor().execute("select count(*) from t").fetchone()[0] == 2
    finally:
        writer.kill()
        writer.wait()


def test_csv_downloads_neutralise_formulas_but_keep_numbers():
    import csv
    import io

    df = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+46 70", "-sum", "@cmd", "\tx", "\rx", "Åsa", None],
                       "n": [1, -2, 3, 0, 4, 5, 6, 7]})
    rows = list(csv.reader(io.StringIO(to_csv(df), newline="")))
    assert rows[0] == ["name", "n"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+46 70", "'-sum", "'@cmd", "'\tx", "'\rx",
                                        "Åsa", ""]
    assert [r[1] for r in rows[1:]] == ["1", "-2", "3", "0", "4", "5", "6", "7"]  # numbers stay numbers


def _wait_until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_removed_snapshot_is_let_go_within_seconds_without_a_request(tmp_path):
    """After an erasure removes the snapshots, the reader closes the old file by itself."""
    db = tmp_path / "w.duckdb"
    _warehouse(db, 3)
    old = snapshot.publish(db, published(db))
    reader = snapshot.SnapshotReader(published(db))
    cur = reader.cursor()
    assert cur.execute("select count(*) from t").fetchone()[0] == 3
    cur.close()
    assert any(h == str(old) for h in held_open(tmp_path))
    snapshot.remove_published(published(db))
    _warehouse(db, 4)
    snapshot.publish(db, published(db))
    # no cursor() in between: the watcher alone lets go
    assert _wait_until(lambda: not any(h.startswith(str(old)) for h in held_open(tmp_path)), 5.0), \
        held_open(tmp_path)
    assert reader.cursor().execute("select count(*) from t").fetchone()[0] == 4


def test_a_cursor_in_use_keeps_its_snapshot_until_it_is_closed(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 3)
    old = snapshot.publish(db, published(db))
    reader = snapshot.SnapshotReader(published(db))
    busy = reader.cursor()                       # a request still running
    snapshot.remove_published(published(db))
    _warehouse(db, 5)
    snapshot.publish(db, published(db))
    time.sleep(2.5)                              # the watcher has looked, twice
    assert busy.execute("select count(*) from t").fetchone()[0] == 3
    assert f"{old} (deleted)" in held_open(tmp_path)
    with reader.cursor() as fresh:               # a new request reads the new snapshot meanwhile
        assert fresh.execute("select count(*) from t").fetchone()[0] == 5
    busy.close()                                 # the last user gone: closed at once
    assert not any(h.startswith(str(old)) for h in held_open(tmp_path))


def test_a_request_during_a_republish_waits_for_the_new_snapshot(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 3)
    snapshot.publish(db, published(db))
    reader = snapshot.SnapshotReader(published(db))
    reader.cursor().close()
    snapshot.remove_published(published(db))                # as an erasure does, before publishing again
    answer = []
    waiting = threading.Thread(target=lambda: answer.append(
        reader.cursor().execute("select count(*) from t").fetchone()[0]))
    waiting.start()
    time.sleep(0.5)
    _warehouse(db, 6)
    snapshot.publish(db, published(db))
    waiting.join(10)
    assert answer == [6]


def _layers(path, *statements):
    con = duckdb.connect(str(path))
    for statement in statements:
        con.execute(statement)
    con.close()


def _rows(path, sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_an_older_snapshot_no_reader_holds_is_brought_up_to_date_instead_of_copied(tmp_path, monkeypatch):
    """Raw rows of new files are added to it, tables a build recomputes are copied anew; a snapshot
    another process holds is left alone, and rows removed from a raw table mean a fresh copy."""
    monkeypatch.setattr(snapshot, "COPY_BELOW_BYTES", 0)
    db = tmp_path / "w.duckdb"
    _layers(db, "create schema raw", "create schema marts",
            "create table raw.contact as select 1 as _file_id, range as n from range(1000)",
            "create table marts.total as select count(*) as n from raw.contact",
            "comment on table marts.total is 'how many'")
    made = [{}, {}, {}]
    for stats in made[:2]:
        snapshot.publish(db, published(db), stats=stats)
    _layers(db, "insert into raw.contact select 2, range from range(500)",
            "create or replace table marts.total as select count(*) as n from raw.contact",
            "comment on table marts.total is 'how many, again'")
    latest = snapshot.publish(db, published(db), ["create or replace macro twice(x) as 2 * x"], made[2])
    assert [m["how"] for m in made] == ["copied", "copied", "synced"]
    assert made[2]["tables_appended"] == 1 and made[2]["tables_copied"] == 1
    assert _rows(latest, "select count(*), count(distinct n) from raw.contact") == [(1500, 1000)]
    assert _rows(latest, "select n, twice(n) from marts.total") == [(1500, 3000)]
    assert _rows(latest, "select comment from duckdb_tables() where table_name = 'total'") == [("how many, again",)]

    # the one older snapshot left is held by another process: the warehouse is copied
    older = next(p for p in published(db).glob("insyn-*.duckdb") if p != latest)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               "held = duckdb.connect(sys.argv[1], read_only=True); print('ok', flush=True); time.sleep(30)",
                               str(older)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        stats = {}
        snapshot.publish(db, published(db), stats=stats)
        assert stats["how"] == "copied" and older.exists()
    finally:
        holder.kill()
        holder.wait()

    # rows removed from a raw table (an erasure, a purge): never a reused file, which could keep them
    _layers(db, "delete from raw.contact where _file_id = 1 and n = 7")
    stats = {}
    latest = snapshot.publish(db, published(db), stats=stats)
    assert stats["how"] == "copied"
    assert _rows(latest, "select count(*) from raw.contact where n = 7") == [(1,)]   # only file 2's row 7
