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
    assert len(kept) == snapshot.KEEP and kept[-1] == latest
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


def test_publishes_finishing_together_take_turns_and_each_leaves_a_whole_snapshot(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 1000)
    made, errors = [], []

    def publish():
        try:
            made.append(snapshot.publish(db, published(db)))
        except Exception as exc:   # a half-made file, a pointer to nothing
            errors.append(exc)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(made)) == 4
    latest = snapshot.current(published(db))
    assert latest in made and not list(published(db).glob("*.partial"))
    con = duckdb.connect(str(latest), read_only=True)
    try:
        assert con.execute("select count(*) from t").fetchone()[0] == 1000
    finally:
        con.close()
