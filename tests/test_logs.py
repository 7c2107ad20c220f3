"""No e-mail address, name or IP address from the data appears in any log.

The demo data is loaded, built, checked and looked up person by person with
every logger at DEBUG, and what was logged (log records, and everything the
commands wrote to standard error) is searched for the personal data the
warehouse holds. Standard output is the answer the user asked for (findings
list e-mail addresses by design) and is not a log.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import shutil
import sys

import dash
import duckdb
import pytest

from insyn.cli import main

from helpers import EXPECTED, REPO, SAMPLE, copy_workbench, published

AS_OF = EXPECTED["as_of"]


def _personal_data(db) -> dict[str, set[str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        emails = {r[0] for r in con.execute(
            "select email_key from marts.dim_people where email_key like '%@%.%'").fetchall()}
        names = {r[0] for r in con.execute(
            "select trim(n) from (select firstname as n from raw.salesforce__contact union "
            "select lastname from raw.salesforce__contact union select lastname from raw.salesforce__lead) "
            "where length(trim(n)) >= 5").fetchall()}
        ips = {r[0] for r in con.execute(
            "select distinct client_address from staging.stg_weblog__requests where client_address like '%.%.%.%'"
        ).fetchall()}
    finally:
        con.close()
    return {"e-mail": emails, "name": names, "ip": ips}


def _leaks(text: str, data: dict[str, set[str]]) -> list[str]:
    lowered = text.lower()
    found = [f"e-mail {e}" for e in data["e-mail"] if e in lowered]
    found += [f"name {n}" for n in data["name"] if re.search(rf"\b{re.escape(n)}\b", text)]
    found += [f"ip {ip}" for ip in data["ip"] if re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d.])", text)]
    return found


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """Every command of a day's work with the demo data, every logger at DEBUG."""
    wb, db = copy_workbench(tmp_path_factory.mktemp("logs"), folders=("pipelines", "expectations", "templates"))
    shutil.copytree(SAMPLE, wb / "data" / "sample")
    records = io.StringIO()
    handler = logging.StreamHandler(records)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    stderr = io.StringIO()
    try:
        def run(*args):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
                return main(["--workbench", str(wb), "--db", str(db), *args])

        assert run("load", str(wb / "data" / "sample")) == 0
        assert run("build", "--as-of", AS_OF) == 0
        assert run("check", "--as-of", AS_OF) in (0, 1)
        assert run("findings", "--as-of", AS_OF, "--format", "json") == 0
        assert run("dsar", "due", "--as-of", AS_OF) == 0
        assert run("purge", "--as-of", AS_OF, "--dry-run") == 0
        data = _personal_data(db)
        # the dashboard's person look-up, for every person, as its callback
        from insyn import snapshot

        snapshot.publish(db, published(db))
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from dashboards.app import create_app

        with contextlib.redirect_stderr(stderr):
            create_app(snapshot.SnapshotReader(published(db)), REPO / "pipelines" / "queries")
            people = next(sys.modules[p["module"]] for p in dash.page_registry.values() if p["path"] == "/people")
            for email in sorted(data["e-mail"])[:40]:
                people.look_up(1, email, "sv")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    return data, records.getvalue(), stderr.getvalue()


def test_the_search_has_personal_data_to_look_for(logged):
    data, records, stderr = logged
    assert len(data["e-mail"]) > 100 and len(data["name"]) > 50 and len(data["ip"]) > 5
    assert stderr   # progress messages were written, and searched


def test_no_personal_data_in_log_records_at_debug(logged):
    data, records, _ = logged
    assert _leaks(records, data) == []


def test_no_personal_data_in_what_the_commands_write_to_standard_error(logged):
    data, _, stderr = logged
    assert _leaks(stderr, data) == []


def test_the_search_would_find_a_leak():
    data = {"e-mail": {"anna.ek@example.se"}, "name": {"Sjögren"}, "ip": {"10.1.2.3"}}
    assert _leaks("ok: Anna.Ek@Example.se; Sjögren; from 10.1.2.3", data) == [
        "e-mail anna.ek@example.se", "name Sjögren", "ip 10.1.2.3"]
    assert _leaks("10.1.2.30 Sjögrens", data) == []
