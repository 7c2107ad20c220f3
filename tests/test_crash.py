"""Crashes: `insyn load` and `insyn build` killed (SIGKILL) at random points, 20 times.

After each kill the warehouse opens and holds the state before the command or
after it, never one in between, and running the command again completes with
nothing twice. The points are drawn from a seeded generator (reproducible),
spread over the command's whole run, start-up included.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from helpers import EXPECTED, REPO, SAMPLE

INSYN = str(Path(sys.executable).with_name("insyn"))
AS_OF, OTHER_AS_OF = EXPECTED["as_of"], "2026-10-01"
TRIALS = 10   # each for load and for build
HITS: list[bool] = []   # whether each kill found the command still running


def _run(db: Path, *args: str) -> subprocess.CompletedProcess:
    return _timed(db, *args)[0]


def _timed(db: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    proc = subprocess.run([INSYN, "--workbench", str(REPO), "--db", str(db), "-q", *args], capture_output=True,
                          text=True, timeout=300)
    return proc, time.perf_counter() - started


def _killed(db: Path, delay: float, *args: str) -> bool:
    """Start the command and SIGKILL it after `delay` seconds; whether it was still running."""
    proc = subprocess.Popen([INSYN, "--workbench", str(REPO), "--db", str(db), "-q", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    running = proc.poll() is None
    if running:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return running


def _files(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute("select count(*) from duckdb_tables() where schema_name = 'audit' "
                           "and table_name = 'files'").fetchone()[0]:
            return []
        return con.execute("select file, sha256, source, rows from audit.files order by file_id").fetchall()
    finally:
        con.close()


def _raw_counts(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()]
        return {t: con.execute(f'select count(*) from raw."{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def _built(db: Path) -> tuple:
    """The as-of date built and every rule's number of findings."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        as_of = con.execute("select as_of from params.run").fetchone()[0].isoformat()
        rules = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'rules' order by 1").fetchall()]
        return as_of, tuple((r, con.execute(f'select count(*) from rules."{r}"').fetchone()[0]) for r in rules)
    finally:
        con.close()


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """Reference warehouses: before and after a load of the sample, and built for two dates."""
    root = tmp_path_factory.mktemp("crash")
    before = root / "before.duckdb"
    assert _run(before, "load", str(SAMPLE / "exports" / "2026-11-01")).returncode == 0
    after = root / "after.duckdb"
    shutil.copy(before, after)
    done, load_s = _timed(after, "load", str(SAMPLE))
    assert done.returncode == 0
    built = root / "built.duckdb"
    shutil.copy(after, built)
    done, build_s = _timed(built, "build", "--as-of", AS_OF)
    assert done.returncode == 0
    other = root / "other.duckdb"
    shutil.copy(built, other)
    assert _run(other, "build", "--as-of", OTHER_AS_OF).returncode == 0
    return {"root": root, "before": before, "after": after, "built": built, "load_s": load_s, "build_s": build_s,
            "files": {"before": _files(before), "after": _files(after)},
            "raw": {"before": _raw_counts(before), "after": _raw_counts(after)},
            "build": {AS_OF: _built(built), OTHER_AS_OF: _built(other)}}


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_killed_load_leaves_the_state_before_or_after_and_a_rerun_completes(states, trial):
    rnd = random.Random(1000 + trial)
    db = states["root"] / f"load-{trial}.duckdb"
    shutil.copy(states["before"], db)
    delay = rnd.uniform(0.05, 0.95) * states["load_s"]   # anywhere in a whole run, start-up included
    HITS.append(_killed(db, delay, "load", str(SAMPLE)))
    state = _files(db)
    assert state in (states["files"]["before"], states["files"]["after"]), f"killed after {delay:.2f} s"
    assert _raw_counts(db) == states["raw"]["before" if state == states["files"]["before"] else "after"]
    rerun = _run(db, "load", str(SAMPLE))
    assert rerun.returncode == 0, rerun.stderr
    assert _files(db) == states["files"]["after"] and _raw_counts(db) == states["raw"]["after"]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_killed_build_leaves_the_old_or_the_new_build_and_a_rerun_completes(states, trial):
    rnd = random.Random(2000 + trial)
    db = states["root"] / f"build-{trial}.duckdb"
    shutil.copy(states["built"], db)
    delay = rnd.uniform(0.05, 0.95) * states["build_s"]
    HITS.append(_killed(db, delay, "build", "--as-of", OTHER_AS_OF))
    assert _built(db) in (states["build"][AS_OF], states["build"][OTHER_AS_OF]), f"killed after {delay:.2f} s"
    rerun = _run(db, "build", "--as-of", OTHER_AS_OF)
    assert rerun.returncode == 0, rerun.stderr
    assert _built(db) == states["build"][OTHER_AS_OF]


def test_the_kills_hit_running_commands():
    """Not a vacuous test: most kills found the command at work (a noisy machine may let a few finish)."""
    assert len(HITS) == 2 * TRIALS and sum(HITS) >= TRIALS
