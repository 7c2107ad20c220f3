"""Quarantined web log lines (junk requests: a TLS handshake sent to the plain-HTTP port, a truncated
line) carry the client's address and a time like any other line: they count toward
weblog.retention_exceeded, and `insyn purge` removes them from audit.rejected_lines by their own age."""

from __future__ import annotations

import datetime as dt

import duckdb

from insyn.readers import quarantined_line_head
from insyn.schema import ensure_schema
from insyn.sources import Sources

from helpers import REPO, write

AS_OF = "2026-11-24"   # horizon: 2025-10-24 00:00 Europe/Stockholm = 2025-10-23 22:00 UTC
RULE = "weblog.retention_exceeded"


def tls(ip: str, stamp: str) -> str:
    """A TLS ClientHello sent to the plain-HTTP port, as nginx logs it."""
    return f'{ip} - - [{stamp}] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" 400 157 "-" "-"'


def get(ip: str, stamp: str, path: str = "/") -> str:
    return f'{ip} - - [{stamp}] "GET {path} HTTP/1.1" 200 512 "-" "curl/8"'


def load(insyn, folder, name: str, lines: list[str], exported_at: str) -> None:
    path = write(folder / name, "\n".join(lines) + "\n")
    r = insyn("-q", "load", path, "--source", "weblog.access", "--exported-at", exported_at)
    assert r.code == 0, r.err


def findings(insyn) -> dict[str, int]:
    r = insyn("-q", "findings", "--as-of", AS_OF, "--rule", RULE, "--format", "json")
    assert r.code == 0, r.err
    return {f["record_id"].rsplit("/", 1)[-1]: f.get("count", 1) for f in r.json()["findings"]}


def test_old_junk_lines_count_toward_the_retention_finding_and_a_junk_only_file_has_one(tmp_path, insyn):
    load(insyn, tmp_path / "a", "access.log", [
        get("192.0.2.1", "01/Sep/2025:10:00:00 +0200"),
        tls("198.51.100.23", "01/Sep/2025:11:00:00 +0200"),
        tls("198.51.100.24", "23/Oct/2025:23:59:59 +0200"),        # 21:59:59 UTC: one second before the horizon
        tls("198.51.100.25", "24/Oct/2025:00:00:00 +0200"),        # exactly the horizon: kept
        "\\x16\\x03\\x01 no address, no time",                    # outside the rule: nothing to read
        tls("198.51.100.26", "20/Nov/2026:10:00:00 +0100"),        # recent
    ], "2026-11-23")
    load(insyn, tmp_path / "b", "access.log.2", [
        tls("203.0.113.7", "15/Aug/2025:03:14:07 +0200"),
        '203.0.113.8 - - [16/Aug/2025:09:00:00 +0200] "GET /kundportal/l',   # truncated
    ], "2025-08-17")
    assert findings(insyn) == {"access.log:2025-09-01": 2, "access.log:2025-10-23": 1,
                               "access.log.2:2025-08-15": 1, "access.log.2:2025-08-16": 1}


def test_a_junk_line_in_two_overlapping_files_counts_once(tmp_path, insyn):
    shared = tls("198.51.100.23", "01/Sep/2025:11:00:00 +0200")
    load(insyn, tmp_path / "a", "access.log.1", [get("192.0.2.1", "01/Sep/2025:10:00:00 +0200"), shared],
         "2025-09-02")
    load(insyn, tmp_path / "b", "access.log", [shared, tls("198.51.100.23", "02/Sep/2025:11:00:00 +0200")],
         "2025-09-03")
    assert findings(insyn) == {"access.log.1:2025-09-01": 2, "access.log:2025-09-02": 1}


def test_purge_removes_quarantined_lines_by_their_own_age(tmp_path, insyn, query):
    load(insyn, tmp_path / "a", "access.log", [
        get("192.0.2.1", "01/Sep/2025:10:00:00 +0200"),
        tls("198.51.100.23", "01/Sep/2025:11:00:00 +0200"),        # old: goes
        "\\x16\\x03\\x01 no time",                                  # no time, file exported recently: stays
        tls("198.51.100.26", "20/Nov/2026:10:00:00 +0100"),        # recent: stays
    ], "2026-11-23")
    load(insyn, tmp_path / "b", "access.log.9", [
        tls("203.0.113.7", "15/Aug/2025:03:14:07 +0200"),          # old: goes
        "\\x16\\x03\\x01 no time",                                  # no time, file exported before the horizon: goes
    ], "2025-08-17")
    assert query("select count(*) from audit.rejected_lines") == [(5,)]

    dry = insyn("purge", "--as-of", AS_OF, "--dry-run", "--format", "json")
    assert dry.code == 0, dry.err
    assert dry.json()["rows"] == 4 and query("select count(*) from audit.rejected_lines") == [(5,)]

    r = insyn("purge", "--as-of", AS_OF)
    assert r.code == 0, r.err
    assert "deleted 4 raw rows" in r.out
    assert query("select f.file, r.line from audit.rejected_lines r join audit.files f using (file_id) "
                 "order by r.line_no") == [
        (str(tmp_path / "a" / "access.log"), "\\x16\\x03\\x01 no time"),
        (str(tmp_path / "a" / "access.log"), tls("198.51.100.26", "20/Nov/2026:10:00:00 +0100"))]
    assert query("select raw_table, file, rows_deleted from audit.purges order by raw_table, file") == [
        ("audit.rejected_lines", str(tmp_path / "a" / "access.log"), 1),
        ("audit.rejected_lines", str(tmp_path / "b" / "access.log.9"), 2),
        ("raw.weblog__access", str(tmp_path / "a" / "access.log"), 1)]
    assert findings(insyn) == {}


LINES = [
    tls("198.51.100.23", "26/Oct/2025:02:30:00 +0200"),
    tls("198.51.100.23", "26/Oct/2025:02:15:00 +0100"),
    tls("2001:db8:85a3::8a2e:370:7334", "1/jan/2024:00:00:00 -05:30"),
    tls("192.0.2.1", "29/Feb/2024:23:59:59 -0000"),
    '192.0.2.1 - - [24/Nov/2026:08:14:02 +0100] "GET /kundportal/l',
    "caf\u00e9 - - [01/Jan/2024:12:00:00 +0000] \"\u00ff\u00fe\"",     # not UTF-8: quarantined as Latin-1
    tls("192.0.2.1", "30/Feb/2024:00:00:00 +0000"),                   # no such day
    tls("192.0.2.1", "01/Foo/2024:00:00:00 +0000"),                   # no such month
    tls("192.0.2.1", "01/Jan/2024:24:00:00 +0000"),
    tls("192.0.2.1", "01/Jan/2024:12:00:00 +2400"),
    tls("192.0.2.1", "01/Jan/2024:12:00:00"),
    "192.0.2.1 - - 01/Jan/2024:12:00:00 +0000",
    "\\x16\\x03\\x01 garbage",
    "",
]


def test_the_staging_model_reads_what_purge_reads():
    """The SQL model and its Python twin (insyn.readers.quarantined_line_head) agree line by line."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    ensure_schema(con, Sources.load(REPO / "pipelines" / "sources.toml"))
    con.execute("insert into audit.files (file_id, file, source, exported_at) values "
                "(1, 'access.log', 'weblog.access', timestamp '2026-11-23'), (2, 'x.csv', 'register.requests', null)")
    for n, line in enumerate(LINES, start=1):
        con.execute("insert into audit.rejected_lines values (1, $n, 'junk', $line), (2, $n, 'junk', $line)",
                    {"n": n, "line": line})
    sql = (REPO / "pipelines" / "staging" / "stg_weblog__quarantined_lines.sql").read_text(encoding="utf-8")
    rows = con.execute(f"select line_no, client_address, requested_at from ({sql}) order by line_no").fetchall()
    got = [(a, t) if a is not None and t is not None else None for _, a, t in rows]
    assert [r[0] for r in rows] == list(range(1, len(LINES) + 1))      # the register's file is not a log
    assert got == [quarantined_line_head(line) for line in LINES]
    assert got[:6] == [("198.51.100.23", dt.datetime(2025, 10, 26, 0, 30)),
                       ("198.51.100.23", dt.datetime(2025, 10, 26, 1, 15)),
                       ("2001:db8:85a3::8a2e:370:7334", dt.datetime(2024, 1, 1, 5, 30)),
                       ("192.0.2.1", dt.datetime(2024, 2, 29, 23, 59, 59)),
                       ("192.0.2.1", dt.datetime(2026, 11, 24, 7, 14, 2)),
                       ("caf\u00e9", dt.datetime(2024, 1, 1, 12, 0))]
    assert got[6:] == [None] * (len(LINES) - 6)
