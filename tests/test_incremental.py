"""Incremental builds give exactly what a full rebuild gives (issue 19).

Weeks of exports (the benchmarks' generator, tiny) are loaded and built one
after another into one warehouse, as the weekly run does. After each build a
copy of that warehouse is rebuilt with `insyn build --full` for the same
as-of, and every model table and every finding must be equal, row for row.
The weeks carry the cases increments live or die by: an event arriving in a
later file for an earlier day, the same event in an earlier and a later file,
a contact deleted and restored between snapshots, an erasure and a purge
between two weeks, an older snapshot loaded late, and the as-of moved
backwards. audit.model_builds must show that the increment path ran (not a
fall-back to a full build) where it should, and why it did not where it
must not.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb
import pytest

from insyn import snapshot
from insyn.cli import main

from helpers import REPO, copy_workbench

sys.path.insert(0, str(REPO / "benchmarks"))
import generate  # noqa: E402

AS_OF = dt.date(2026, 11, 24)
WEEKS = ["2026-11-10", "2026-11-17", "2026-11-24", "2026-12-01"]
LATE_EVENT_ID = "late-event-0001"


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """Four weekly exports (three snapshots up to AS_OF and the week after), and the edge cases."""
    out = tmp_path_factory.mktemp("weeks")
    generate.generate(out, 300, 3000, seed=7, as_of=AS_OF, weeks=3, extra_week=True)
    assert sorted(p.name for p in out.iterdir()) == WEEKS
    # a contact deleted from the second snapshot and back in the third
    contacts = out / WEEKS[1] / "salesforce" / "Contact.csv"
    header, rows = _read_csv(contacts)
    _write_csv(contacts, header, rows[:3] + rows[4:])
    # an event of an earlier month, first in week 2's file, again in week 4's (only the first is kept),
    # and week 3's monthly file's first event, copied into week 2 with another type (week 2's is kept)
    first = json.loads((out / WEEKS[2] / "events" / "esp-events-2025-01.jsonl").read_text().splitlines()[0])
    late = {**first, "sg_event_id": LATE_EVENT_ID, "event": "open", "timestamp": first["timestamp"] + 60}
    copied = {**first, "event": "click", "url": "https://example.se/x"}
    blank = {**first, "sg_event_id": " ", "event": "bounce", "reason": "550"}
    _write_lines(out / WEEKS[1] / "events" / "esp-late.jsonl", [late, copied, blank, blank])
    _write_lines(out / WEEKS[3] / "events" / "esp-late-again.jsonl", [{**late, "event": "spamreport"}, first])
    # an older Contact snapshot, loaded after the others (in the last step)
    older = out / "late" / "2026-11-03" / "salesforce"
    older.mkdir(parents=True)
    _write_csv(older / "Contact.csv", header, rows[:5])
    return out


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([header, *rows])


def _write_lines(path: Path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")


def _cli(db: Path, *args, workbench: Path = REPO) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(workbench), "--db", str(db), *map(str, args)])
    assert code == 0, err.getvalue()
    return out.getvalue()


def _run(db: Path, inbox: Path, as_of: str) -> None:
    """`insyn run` (exit 1: the checks found something, as they do here)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--workbench", str(REPO), "--db", str(db), "run", "--quiet", str(inbox), "--as-of", as_of])
    assert code in (0, 1, 4)


def _builds(db: Path) -> dict[str, tuple[str, str]]:
    """How the last build made each incremental model: {table: (how, reason)}."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: (how, reason) for t, how, reason in con.execute(
            "select table_name, how, reason from audit.model_builds "
            "where run_id = (select max(run_id) from audit.model_builds) and definition_sha256 is not null").fetchall()}
    finally:
        con.close()


def _differences(first: Path, second: Path, schemas: tuple[str, ...] = ("staging", "marts", "rules"),
                 more: tuple[str, ...] = ("audit.current_findings", "audit.not_evaluated")) -> list[str]:
    """The tables of `schemas` (and `more`) in the two warehouses, compared as multisets of rows."""
    con = duckdb.connect()
    try:
        con.execute("attach $p as one (read_only)", {"p": str(first)})
        con.execute("attach $p as two (read_only)", {"p": str(second)})
        listed = "select schema_name || '.' || table_name from duckdb_tables() where database_name = $d " \
                 "and schema_name in (select unnest($s)) order by all"
        tables = [t for (t,) in con.execute(listed, {"d": "two", "s": list(schemas)}).fetchall()]
        assert len(tables) > 40
        problems = [] if tables == [t for (t,) in con.execute(listed, {"d": "one", "s": list(schemas)}).fetchall()] \
            else ["not the same tables"]
        for table in tables + list(more):
            counts = con.execute(f"select (select count(*) from one.{table}), (select count(*) from two.{table}),"
                                 f" (select count(*) from (select * from one.{table} except all "
                                 f"select * from two.{table})),"
                                 f" (select count(*) from (select * from two.{table} except all "
                                 f"select * from one.{table}))").fetchone()
            if counts[2] or counts[3] or counts[0] != counts[1]:
                problems.append(f"{table}: {counts[0]} rows in the first, {counts[1]} in the second, "
                                f"{counts[2]} only in the first, {counts[3]} only in the second")
        return problems
    finally:
        con.close()


def _published_as_held(db: Path) -> None:
    """The dashboard's snapshot holds exactly what the warehouse holds, every table of every layer."""
    published = snapshot.current(db.with_name(db.name + ".d") / "published")
    assert _differences(db, published, ("raw", "staging", "marts", "rules", "params", "audit"), ()) == []


def _same_as_full(db: Path, tmp: Path, as_of: str, step: str, workbench: Path = REPO) -> None:
    copy = tmp / f"full-{step}" / "insyn.duckdb"
    copy.parent.mkdir()
    shutil.copy(db, copy)
    state = db.with_name(db.name + ".d")
    shutil.copytree(state, copy.with_name(copy.name + ".d"), ignore=shutil.ignore_patterns("published"))
    _published_as_held(db)
    timings = os.environ.pop("INSYN_TIMINGS", None)   # the copy's publishes are not the weekly warehouse's
    try:
        _cli(copy, "build", "--full", "--quiet", "--as-of", as_of, workbench=workbench)
    finally:
        if timings:
            os.environ["INSYN_TIMINGS"] = timings
    assert {how for how, _ in _builds(copy).values()} == {"full"}
    assert _differences(db, copy) == []


def test_weeks_built_incrementally_equal_a_full_rebuild_at_every_step(exports, tmp_path, monkeypatch):
    """...and the snapshot published after each step holds exactly what the warehouse holds."""
    db = tmp_path / "weekly" / "insyn.duckdb"
    timings = tmp_path / "publishes.jsonl"
    monkeypatch.setenv("INSYN_TIMINGS", str(timings))

    # week 1: the first build computes everything
    _cli(db, "load", "--quiet", exports / WEEKS[0])
    _cli(db, "build", "--quiet", "--as-of", WEEKS[0])
    first = _builds(db)
    assert len(first) == 17 and {how for how, _ in first.values()} == {"full"}
    _same_as_full(db, tmp_path, WEEKS[0], "step1")

    # week 2, as the weekly job runs it (load, build, check: one snapshot published, at the end):
    # a snapshot without one contact, and late events (an earlier month, a copy, blank ids)
    timings.unlink()
    _run(db, exports / WEEKS[1], WEEKS[1])
    assert len(timings.read_text().splitlines()) == 1
    second = _builds(db)
    assert second["staging.stg_salesforce__contacts"][0] == "increment"
    assert second["staging.stg_esp__events"][0] == "increment"   # the first event files: added all the same
    assert second["marts.int_email_deliveries"][0] == "increment"   # a mart over incremental staging
    assert second["staging.stg_register__requests"][0] == "unchanged"   # no register this week
    _same_as_full(db, tmp_path, WEEKS[1], "step2")

    # week 3: the contact is back; the monthly event files hold an event week 2 already brought
    _cli(db, "load", "--quiet", exports / WEEKS[2])
    _cli(db, "build", "--quiet", "--as-of", WEEKS[2])
    third = _builds(db)
    assert "full" not in {how for how, _ in third.values()}
    assert {third[f"staging.{m}"][0] for m in ("stg_esp__events", "stg_salesforce__contacts",
                                                "stg_register__requests", "stg_weblog__requests")} == {"increment"}
    assert third["marts.int_email_deliveries"][0] == "increment"
    _same_as_full(db, tmp_path, WEEKS[2], "step3")
    con = duckdb.connect(str(db), read_only=True)
    kept = con.execute("select event_type from staging.stg_esp__events e join audit.files f using (file_id) "
                       "where event_id = (select sg_event_id from raw.esp__event where _file_id = "
                       "(select min(file_id) from audit.files where file like '%esp-events-2025-01%') "
                       "and _record_no = 1)").fetchall()
    con.close()
    assert kept == [("click",)]   # week 2's copy, not the monthly file's "processed"

    # between weeks 3 and 4: a person erased, and the web log lines past retention purged
    con = duckdb.connect(str(db), read_only=True)
    person = con.execute("select email from staging.stg_esp__events where email is not null "
                         "group by email order by count(distinct file_id) desc, email limit 1").fetchone()[0]
    con.close()
    removed = "rows were removed from its raw tables (an erasure or a purge)"
    _cli(db, "dsar", "erase", "--quiet", person, "--on", WEEKS[2])   # rebuilds at once: the person leaves the models
    assert _builds(db)["staging.stg_esp__events"] == ("full", removed)
    assert _builds(db)["marts.int_email_deliveries"] == ("full", "a model it reads was computed anew")
    _cli(db, "purge", "--quiet", "--as-of", WEEKS[3])   # rebuilds at once too: the lines leave the models
    assert _builds(db)["staging.stg_weblog__requests"] == ("full", removed)
    _cli(db, "load", "--quiet", exports / WEEKS[3])
    _cli(db, "build", "--quiet", "--as-of", WEEKS[3])
    fourth = _builds(db)
    assert fourth["staging.stg_weblog__requests"][0] == "unchanged"   # no log this week; the purge rebuilt it
    assert fourth["staging.stg_esp__events"][0] == "increment"
    assert fourth["marts.int_email_deliveries"][0] == "increment"
    _same_as_full(db, tmp_path, WEEKS[3], "step4")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from staging.stg_esp__events where email_key = lower($e)",
                       {"e": person}).fetchone()[0] == 0
    late = json.loads((exports / WEEKS[1] / "events" / "esp-late.jsonl").read_text().splitlines()[0])
    kept_late = con.execute("select event_type from staging.stg_esp__events where event_id = $id",
                            {"id": LATE_EVENT_ID}).fetchall()
    con.close()
    # week 2's copy, not week 4's "spamreport"; none when the late event was the erased person's
    assert kept_late == ([] if late["email"].lower() == person.lower() else [("open",)])

    # an older Contact snapshot loaded late, then a build with nothing new
    _cli(db, "load", "--quiet", exports / "late")
    _cli(db, "build", "--quiet", "--as-of", WEEKS[3])
    assert _builds(db)["staging.stg_salesforce__contacts"][0] == "increment"
    _same_as_full(db, tmp_path, WEEKS[3], "step5")
    _cli(db, "build", "--quiet", "--as-of", WEEKS[3])
    assert {how for how, _ in _builds(db).values()} == {"unchanged"}

    # the as-of moved backwards: staging kept as it is, every mart and rule for the earlier date
    _cli(db, "build", "--quiet", "--as-of", "2026-11-20")
    assert {how for how, _ in _builds(db).values()} == {"unchanged"}
    _same_as_full(db, tmp_path, "2026-11-20", "step6")


def test_a_changed_policy_value_or_macro_rebuilds_what_reads_it(exports, tmp_path):
    """A model's definition covers the policy values it reads and the macros: after a change to
    either, a build computes the models concerned anew, not as an increment."""
    root, db = copy_workbench(tmp_path / "wb")
    _cli(db, "load", "--quiet", exports / WEEKS[0], workbench=root)
    _cli(db, "build", "--quiet", "--as-of", WEEKS[0], workbench=root)

    # the policy now counts trade fairs as collected by the company (contacts and leads read the classes)
    policy = root / "policy.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        'company_initiated = ["web research",', 'company_initiated = ["trade fair", "web research",', 1),
        encoding="utf-8")
    _cli(db, "load", "--quiet", exports / WEEKS[1], workbench=root)
    _cli(db, "build", "--quiet", "--as-of", WEEKS[1], workbench=root)
    builds = _builds(db)
    changed = ("full", "its definition changed (SQL, macros, policy values or raw columns)")
    assert builds["staging.stg_salesforce__contacts"] == changed
    assert builds["staging.stg_salesforce__leads"] == changed
    assert builds["staging.stg_mailchimp__members"][0] == "increment"
    _same_as_full(db, tmp_path, WEEKS[1], "policy", workbench=root)

    # a macro changed: every incremental model is computed anew
    macros = root / "pipelines" / "macros.sql"
    macros.write_text(macros.read_text(encoding="utf-8") + "\ncreate or replace macro unused_here(x) as x;\n",
                      encoding="utf-8")
    _cli(db, "load", "--quiet", exports / WEEKS[2], workbench=root)
    _cli(db, "build", "--quiet", "--as-of", WEEKS[2], workbench=root)
    assert set(_builds(db).values()) == {changed}
    _same_as_full(db, tmp_path, WEEKS[2], "macros", workbench=root)


def test_a_mart_over_staging_built_apart_catches_up_with_the_files_staging_holds(exports, tmp_path):
    """marts.int_email_deliveries is extended with the files its staging models cover, not with every
    file loaded: marts built before staging (a build of some layers) add the new files later."""
    from insyn import build as building
    from insyn.workbench import Workbench

    db = tmp_path / "apart" / "insyn.duckdb"

    def build_layers(as_of: str, layers: tuple[str, ...], full: bool = False) -> None:
        app = Workbench.open(REPO, db)
        con = app.connect()
        try:
            building.build(con, pipelines=app.settings.pipelines, sources=app.sources, policy=app.policy,
                           as_of=dt.date.fromisoformat(as_of), layers=layers, erasures=app.erasures(), full=full)
        finally:
            con.close()

    _cli(db, "load", "--quiet", exports / WEEKS[0])
    _cli(db, "build", "--quiet", "--as-of", WEEKS[0])
    _cli(db, "load", "--quiet", exports / WEEKS[1])
    build_layers(WEEKS[1], ("marts", "rules"))
    assert _builds(db)["marts.int_email_deliveries"][0] == "unchanged"   # staging holds no new file yet
    build_layers(WEEKS[1], ("staging",), full=True)                     # staging anew, up to week 2
    _cli(db, "load", "--quiet", exports / WEEKS[2])
    build_layers(WEEKS[2], ("marts", "rules"))
    con = duckdb.connect(str(db), read_only=True)
    step = con.execute("select how, reason, through_file_id from audit.model_builds where table_name = "
                       "'marts.int_email_deliveries' order by run_id desc limit 1").fetchone()
    week2 = con.execute("select max(through_file_id) from audit.model_builds "
                        "where table_name = 'staging.stg_esp__events'").fetchone()[0]
    con.close()
    # computed anew, as staging was, and only up to the files staging covers (not week 3's)
    assert step == ("full", "a model it reads was computed anew", week2)
    _cli(db, "build", "--quiet", "--as-of", WEEKS[2])
    assert _builds(db)["marts.int_email_deliveries"][0] == "increment"
    _same_as_full(db, tmp_path, WEEKS[2], "apart")


def test_an_incremental_model_may_not_read_a_model_computed_anew_at_every_build(tmp_path):
    """Its rows would follow the as-of or a snapshot's latest export, which a file's increment cannot."""
    root, db = copy_workbench(tmp_path / "wb")
    (root / "pipelines" / "marts" / "int_people_files.sql").write_text(
        "select people.email_key from marts.dim_people as people\n"
        "where 0 < (select after_file_id from params.increment)\n", encoding="utf-8")
    docs = root / "pipelines" / "marts" / "_models.yml"
    docs.write_text(docs.read_text(encoding="utf-8").replace(
        "models:\n", "models:\n  - name: int_people_files\n    meta:\n      materialized: incremental\n", 1),
        encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), "build", "--quiet", "--as-of", WEEKS[0]])
    assert code == 2
    assert "int_people_files.sql: an incremental model reads only raw tables, incremental models" in err.getvalue()
    assert "not marts.dim_people" in err.getvalue() and "Traceback" not in err.getvalue()
