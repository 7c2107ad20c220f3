"""Readers never block the writer: the dashboard reads published snapshots."""

import stat
import subprocess
import sys

import duckdb
import pandas as pd

from insyn import snapshot
from insyn.csvsafe import to_csv


def _warehouse(path, n):
    con = duckdb.connect(str(path))
    con.execute("create or replace table t as select range as i from range($n)", {"n": n})
    con.close()


def test_reader_follows_each_new_snapshot_without_a_restart(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 3)
    first = snapshot.publish(db)
    reader = snapshot.SnapshotReader(db)
    assert reader.cursor().execute("select count(*) from t").fetchone()[0] == 3
    _warehouse(db, 5)
    second = snapshot.publish(db)
    assert second != first
    assert reader.cursor().execute("select count(*) from t").fetchone()[0] == 5
    assert reader.path == second


def test_snapshots_are_owner_only_and_old_ones_pruned(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 1)
    for _ in range(snapshot.KEEP + 2):
        latest = snapshot.publish(db)
    kept = sorted(snapshot.folder(db).glob("insyn-*.duckdb"))
    assert len(kept) == snapshot.KEEP and kept[-1] == latest
    assert stat.S_IMODE(latest.stat().st_mode) == 0o600
    assert snapshot.current(db) == latest


def test_the_dashboard_reads_while_another_process_writes(tmp_path):
    db = tmp_path / "w.duckdb"
    _warehouse(db, 2)
    snapshot.publish(db)
    writer = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "c.execute('create table u as select 1'); print('ok', flush=True); time.sleep(20)",
                               str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ok"
        reader = snapshot.SnapshotReader(db)
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
