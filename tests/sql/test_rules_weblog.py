"""weblog.retention_exceeded and weblog.personal_data_in_url: one finding per log file and UTC day,
with the number of lines; a line held by several overlapping files counts once."""

import datetime as dt

AS_OF = dt.date(2026, 11, 24)
RETENTION = "weblog__retention_exceeded"
PII = "weblog__personal_data_in_url"


def built(wh, rule):
    """Findings of `rule` from the last build (no rebuild): for a second rule at the same as-of."""
    return wh.rows(f"select record_id, email, source, count from rules.{rule} order by record_id")


def line(at, target="/", decoded=None, ip="192.0.2.10"):
    """A parsed log line; `at` is UTC. The log line text carries the time, so distinct times are distinct lines."""
    t = dt.datetime.fromisoformat(at)
    return {"log_line": f'{ip} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "GET {target} HTTP/1.1" 200 512 "-" "curl/8"',
            "client_address": ip, "requested_at": t, "requested_on": t.date(), "method": "GET", "target": target,
            "target_decoded": decoded if decoded is not None else target, "protocol": "HTTP/1.1",
            "status_code": 200, "bytes_sent": 512}


def log_file(wh, exported_at, *lines):
    """Seed one access log file (an audit.files row plus its lines); returns its file name."""
    file_id = wh.export("weblog.access", exported_at)
    wh.seed("stg_weblog__requests", *lines, source=None, file_id=file_id)
    return wh.rows("select file from audit.files where file_id = $id", {"id": file_id})[0][0]


def test_the_horizon_is_midnight_stockholm_thirteen_months_back(wh):
    # as-of 2026-11-24: horizon 2025-10-24 00:00 Europe/Stockholm (summer time) = 2025-10-23 22:00 UTC
    name = log_file(wh, dt.datetime(2026, 11, 23),
                    line("2025-10-22 10:00:00"), line("2025-10-22 11:00:00"),
                    line("2025-10-23 21:59:59"), line("2025-10-23 22:00:00"), line("2025-10-24 08:00:00"))
    assert wh.findings(RETENTION, AS_OF) == [(f"{name}:2025-10-22", None, "weblog.access", 2),
                                             (f"{name}:2025-10-23", None, "weblog.access", 1)]
    assert wh.details(RETENTION)[f"{name}:2025-10-23"] == (
        "log lines kept past the 13-month horizon (2025-10-23 22:00:00 UTC)")


def test_a_line_in_two_overlapping_files_counts_once(wh):
    shared = line("2025-06-01 12:00:00")
    first = log_file(wh, dt.datetime(2025, 6, 2), line("2025-06-01 11:00:00"), shared)
    second = log_file(wh, dt.datetime(2025, 6, 3), shared, line("2025-06-02 09:00:00"))
    assert wh.findings(RETENTION, AS_OF) == [(f"{first}:2025-06-01", None, "weblog.access", 2),
                                             (f"{second}:2025-06-02", None, "weblog.access", 1)]


def test_an_email_address_in_the_decoded_target_is_counted_per_file_and_day(wh):
    name = log_file(wh, dt.datetime(2026, 11, 23),
                    line("2026-11-01 08:00:00", "/unsubscribe?email=anna.ek%40example.se",
                         "/unsubscribe?email=anna.ek@example.se"),
                    line("2026-11-01 09:00:00", "/track?u=bo%2Bnews%40mail.example.com&x=1",
                         "/track?u=bo+news@mail.example.com&x=1"),
                    line("2026-11-02 08:00:00", "/p/cia%40example.org", "/p/cia@example.org"),
                    line("2026-11-01 10:00:00", "/about"),
                    line("2026-11-01 11:00:00", "/at%40home", "/at@home"),  # no domain: not an address
                    line("2026-11-01 12:00:00", "/u/anna.ek%40example", "/u/anna.ek@example"))  # no tld
    assert wh.findings(PII, AS_OF) == [(f"{name}:2026-11-01", None, "weblog.access", 2),
                                       (f"{name}:2026-11-02", None, "weblog.access", 1)]
    assert built(wh, RETENTION) == []
