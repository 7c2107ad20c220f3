"""The access log: who looked up whom (and logins), salted hashes only, owner-only, safe for concurrent writers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
import subprocess
import sys
import time

import pytest

from insyn.accesslog import AccessLog
from insyn.ledger import salted

from helpers import layout

EMAIL = "Åsa.Öhrström@Stenbygg.se "


@pytest.fixture
def log(tmp_path):
    db = tmp_path / "warehouse" / "insyn.duckdb"
    return AccessLog(layout(db).access_log, tmp_path / "secrets")


def _salt(tmp_path) -> str:
    return (tmp_path / "secrets" / "suppression.salt").read_text().strip()


def test_an_entry_names_the_person_by_salted_hash_only_in_an_owner_only_file(log, tmp_path):
    log.record("lookup", user="karin", email=EMAIL, success=True)
    log.record("login", user="karin", address="192.0.2.7", success=False)
    path = layout(tmp_path / "warehouse" / "insyn.duckdb").access_log
    text = path.read_text(encoding="utf-8")
    assert "stenbygg" not in text.lower() and "Åsa" not in text and "\\u00c5" not in text.lower()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    lookup, login = log.entries()
    assert lookup["subject"] == salted(_salt(tmp_path), "åsa.öhrström@stenbygg.se")   # normalised, then hashed
    assert (lookup["event"], lookup["user"], lookup["success"], lookup["address"]) == ("lookup", "karin", True, None)
    assert (login["event"], login["subject"], login["address"], login["success"]) == ("login", None, "192.0.2.7", False)
    assert dt.datetime.fromisoformat(lookup["at"]).utcoffset() == dt.timedelta(0)
    assert set(lookup) == {"at", "event", "user", "subject", "address", "success", "detail"}


def test_an_unknown_event_is_a_programming_error(log):
    with pytest.raises(ValueError):
        log.record("peek", user="karin")


def _old_lines(path, days: list[int]) -> None:
    """Entries written `days` ago, as an older version of the log would hold them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    with path.open("a", encoding="utf-8") as fh:
        for d in days:
            fh.write(json.dumps({"at": (now - dt.timedelta(days=d)).isoformat(timespec="seconds"), "event": "lookup",
                                 "user": f"old-{d}", "subject": None, "address": None, "success": True,
                                 "detail": None}) + "\n")


def test_purge_drops_older_entries_and_since_filters(log):
    _old_lines(log.path, [400, 366, 10])
    log.record("report", user="now", email="a@b.se", success=True)
    assert [e["user"] for e in log.entries(since=dt.date.today() - dt.timedelta(days=11))] == ["old-10", "now"]
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365)
    assert log.purge(before) == 2
    assert [e["user"] for e in log.entries()] == ["old-10", "now"]
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert log.purge(before.replace(tzinfo=None)) == 0      # naive means UTC; nothing more to drop
    assert [p.name for p in log.path.parent.iterdir()] == [log.path.name]   # nothing left aside


def test_a_dry_run_counts_what_would_go_and_changes_nothing(log):
    """`insyn purge --dry-run` counts through the same reading as the purge, an entry written
    without an offset (older or edited by hand: UTC) included."""
    _old_lines(log.path, [400, 10])
    with log.path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"at": "2020-01-01T00:00:00", "event": "login", "user": "naive"}) + "\n")
    text = log.path.read_text(encoding="utf-8")
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365)
    assert log.purge(before, dry_run=True) == 2
    assert log.path.read_text(encoding="utf-8") == text
    assert log.purge(before) == 2
    assert [e["user"] for e in log.entries()] == ["old-10"]


WRITER = """
import sys
from pathlib import Path
from insyn.accesslog import AccessLog
log = AccessLog(Path(sys.argv[1]), Path(sys.argv[2]))
for i in range(int(sys.argv[4])):
    log.record("lookup", user=f"{sys.argv[3]}-{i}", email=f"p{i}@example.se", success=True, detail="x" * 3000)
"""


def test_concurrent_writers_and_purges_lose_and_tear_nothing(log, tmp_path):
    """Four processes (the dashboard's threads and the CLI alike) append while purges keep rewriting the
    file: every entry is either purged (counted) or still there, and every line parses."""
    _old_lines(log.path, [500] * 50)
    n = 150
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(log.path),
                                 str(tmp_path / "secrets"), f"w{k}", str(n)]) for k in range(4)]
    purged, rounds = 0, 0
    while any(w.poll() is None for w in writers):
        purged += log.purge(dt.datetime.now(dt.timezone.utc))   # all but this second's entries
        rounds += 1
        time.sleep(0.01)
    assert all(w.wait() == 0 for w in writers)
    users = [e["user"] for e in log.entries()]           # every line parses: none torn or interleaved
    assert rounds > 1 and purged + len(users) == 50 + 4 * n
    assert len(set(users)) == len(users)


def test_a_hand_edited_line_is_named_by_file_and_line(tmp_path, insyn, db):
    path = layout(db).access_log
    path.parent.mkdir(parents=True)
    path.write_text('{"at": "2026-11-24T10:00:00+00:00", "event": "login", "user": "k"}\nnot json\n')
    r = insyn("access-log")
    assert r.code == 2 and f"{path}:2" in r.err and "Traceback" not in r.err


def test_the_command_filters_and_writes_csv_with_formulas_neutralised(tmp_path, insyn, db):
    log = AccessLog(layout(db).access_log, tmp_path / "secrets")   # the command reads the log; it needs no salt
    log.record("login", user="=HYPERLINK(\"http://x\")", address="127.0.0.1", success=False)
    log.record("lookup", user="karin", email="kim@example.se", success=True)
    r = insyn("access-log", "--format", "csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert [row["event"] for row in rows] == ["login", "lookup"]
    assert rows[0]["user"] == "'=HYPERLINK(\"http://x\")"
    assert "kim@example.se" not in r.out and len(rows[1]["subject"]) == 64
    r = insyn("access-log", "--event", "lookup", "--format", "json")
    assert [e["user"] for e in r.json()] == ["karin"]
    r = insyn("access-log", "--since", (dt.date.today() + dt.timedelta(days=1)).isoformat())
    assert r.code == 0 and "(0 rows)" in r.out
    with pytest.raises(SystemExit) as refused:   # argparse: an event the log does not know
        insyn("access-log", "--event", "peek")
    assert refused.value.code == 2

