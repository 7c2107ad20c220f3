"""The application object without the command line: open, load, build, check, findings; one
Layout per warehouse (two warehouses in one folder share nothing); the old per-folder layout
refused; what an engine cannot do, refused by the engine."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from insyn.errors import EXIT_INPUT, InsynError
from insyn.ledger import Ledger
from insyn.workbench import Layout, Workbench
from sample import DEMO_PERSON_EMAIL

from helpers import CONTACT_HEADER, EXPECTED, REPO, SAMPLE, contact_row, copy_workbench, sf_csv, write

AS_OF = EXPECTED["as_of"]
INSYN = str(Path(sys.executable).with_name("insyn"))


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """The sample loaded, built and checked through the Workbench alone: (app, load report, check report)."""
    import datetime as dt

    db = tmp_path_factory.mktemp("wb") / "warehouse" / "insyn.duckdb"
    app = Workbench.open(REPO, db=db)
    loaded = app.load([SAMPLE / "exports"])
    as_of = dt.date.fromisoformat(AS_OF)
    app.build(as_of)
    return app, loaded, app.check(as_of)


def test_open_lays_out_every_path_of_the_warehouse_in_its_own_state_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("INSYN_DB", raising=False)
    db = tmp_path / "shared" / "A.duckdb"
    app = Workbench.open(REPO, db=db)
    layout = app.layout
    state = tmp_path / "shared" / "A.duckdb.d"
    assert (layout.warehouse, layout.wal, layout.state) == (db, tmp_path / "shared" / "A.duckdb.wal", state)
    assert [layout.published, layout.ledger, layout.access_log, layout.reports, layout.deletion_tasks,
            layout.data_docs, layout.docs] == [state / "published", state / "dsar-ledger.jsonl",
                                               state / "access-log.jsonl", state / "reports",
                                               state / "deletion-tasks", state / "data-docs", state / "docs"]
    assert layout.secrets == app.settings.secrets == REPO / "data" / "secrets"
    assert layout.users == REPO / "data" / "secrets" / "users.json"
    assert layout.audit_packs == app.settings.audit_packs == REPO / "data" / "audit-packs"
    assert Layout.of(tmp_path / "shared" / "B.duckdb", app.settings).state != state   # a neighbour's is its own
    assert app.engine.name == "duckdb" and not db.exists()                            # opening creates nothing


def test_open_takes_the_warehouse_and_engine_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("INSYN_WORKBENCH", str(REPO))
    monkeypatch.setenv("INSYN_DB", str(tmp_path / "env.duckdb"))
    assert Workbench.open().layout.warehouse == tmp_path / "env.duckdb"
    monkeypatch.setenv("INSYN_ENGINE", "spark")
    monkeypatch.delenv("INSYN_LAKE", raising=False)
    with pytest.raises(InsynError, match="the Spark engine needs a lake"):
        Workbench.open()
    monkeypatch.setenv("INSYN_LAKE", str(tmp_path / "lake"))
    assert Workbench.open().engine.lake == str(tmp_path / "lake")


def test_the_demo_is_the_same_workbench_on_its_own_warehouse(tmp_path):
    app = Workbench.open(REPO, db=tmp_path / "w.duckdb", engine="spark", lake=str(tmp_path / "lake"))
    demo = app.for_demo()
    assert demo.layout.warehouse == app.settings.demo_warehouse
    assert demo.layout.audit_packs == app.settings.demo_warehouse.parent / "audit-packs"
    assert demo.engine.name == "duckdb" and demo.settings is app.settings
    assert app.layout.warehouse == tmp_path / "w.duckdb" and app.engine.name == "spark"   # untouched


def test_load_build_check_and_findings_without_the_command_line(checked):
    app, loaded, report = checked
    assert len(loaded.loaded) > 30 and not loaded.duplicates and not loaded.unknown
    assert not report.success                     # the sample breaks rules on purpose
    assert report.data_docs == app.layout.data_docs and (app.layout.data_docs / "index.html").exists()
    assert app.built_as_of().isoformat() == AS_OF
    found = app.findings(__import__("datetime").date.fromisoformat(AS_OF))
    key = lambda f: (f["rule"], f["record_id"].removeprefix("data/sample/"), f["email"], f["source"])  # noqa: E731
    assert sorted(map(key, found)) == sorted(map(key, EXPECTED["findings"]))
    one = app.findings(__import__("datetime").date.fromisoformat(AS_OF), "erasure.not_executed")
    assert one and {f["rule"] for f in one} == {"erasure.not_executed"}
    with pytest.raises(InsynError, match="--rule: unknown rule id 'no.such_rule'"):
        app.findings(__import__("datetime").date.fromisoformat(AS_OF), "no.such_rule")
    assert [e["file"] for e in app.loads()] == [e["file"] for e in loaded.loaded]


def test_load_publishes_into_the_warehouse_s_own_state_folder_owner_only(checked):
    app, _, _ = checked
    snapshots = list(app.layout.published.glob("insyn-*.duckdb"))
    assert snapshots and (app.layout.published / "CURRENT").exists()
    assert os.stat(app.layout.state).st_mode & 0o077 == 0
    assert not (app.layout.folder / "published").exists()      # nothing of it beside the warehouse


def test_a_refused_first_load_leaves_no_warehouse(tmp_path):
    db = tmp_path / "w" / "insyn.duckdb"
    bad = write(tmp_path / "2026-11-23" / "Contact.csv",
                sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]) + b'"only","two"\r\n')
    app = Workbench.open(REPO, db=db)
    with pytest.raises(InsynError, match=f"{bad}:3:"):
        app.load([bad])
    assert not db.exists() and not app.layout.wal.exists() and not app.layout.published.exists()


@pytest.mark.parametrize("old", ["dsar-ledger.jsonl", "access-log.jsonl", "published", "data-docs"])
def test_state_of_the_old_per_folder_layout_is_refused_naming_both_paths_and_the_move(tmp_path, old):
    from insyn.cli import main

    db = tmp_path / "w" / "insyn.duckdb"
    legacy = tmp_path / "w" / old
    if old in ("published", "data-docs"):
        legacy.mkdir(parents=True)
    else:
        write(legacy, '{"entry_id": "L00001", "kind": "erasure"}\n')
    write(tmp_path / "w" / "reports" / "access-report-x.html", "x")   # recorded relative to the ledger: moves too
    with pytest.raises(InsynError) as refused:
        Workbench.open(REPO, db=db)
    message = refused.value.message
    state = tmp_path / "w" / "insyn.duckdb.d"
    assert refused.value.exit_code == EXIT_INPUT
    assert str(legacy) in message and str(state) in message and "erasures would be ignored" in message
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--workbench", str(REPO), "--db", str(db), "loads"])
    assert code == 2 and str(legacy) in err.getvalue() and "Traceback" not in err.getvalue()
    # once moved as told (the commands run as printed), the warehouse opens with its state in place
    commands = message.split("Move it there first: ", 1)[1].split(" (a warehouse of that folder", 1)[0]
    subprocess.run(["bash", "-c", commands], check=True)
    assert Workbench.open(REPO, db=db).layout.state == state
    assert (state / old).exists() and (state / "reports" / "access-report-x.html").exists()
    assert not legacy.exists() and os.stat(state).st_mode & 0o077 == 0


def test_the_old_shared_ledger_goes_to_every_warehouse_of_the_folder_and_none_opens_without_it(tmp_path):
    """Two warehouses shared one ledger beside them: moving it for one would let the other open
    with no erasures at all. Each gets a copy; until then neither opens."""
    folder = tmp_path / "w"
    old = write(folder / "dsar-ledger.jsonl", '{"entry_id": "L00001", "kind": "erasure"}\n')
    (folder / "B.duckdb").write_bytes(b"")        # a neighbour, made by the older Insyn
    with pytest.raises(InsynError) as refused:
        Workbench.open(REPO, db=folder / "A.duckdb")
    with pytest.raises(InsynError):
        Workbench.open(REPO, db=folder / "B.duckdb")
    commands = refused.value.message.split("Move it there first: ", 1)[1].split(" (a warehouse of that", 1)[0]
    subprocess.run(["bash", "-c", commands], check=True)
    for name in ("A.duckdb", "B.duckdb"):
        app = Workbench.open(REPO, db=folder / name)
        assert app.layout.ledger.read_text() == '{"entry_id": "L00001", "kind": "erasure"}\n'
    assert not old.exists()
    # an old ledger beside a new one is refused: which entries count is the DPO's call
    write(old, '{"entry_id": "L00001", "kind": "erasure"}\n')
    with pytest.raises(InsynError, match="add the old entries the new one lacks"):
        Workbench.open(REPO, db=folder / "A.duckdb")


def test_what_the_spark_engine_cannot_do_is_refused_by_the_engine(tmp_path):
    import datetime as dt

    app = Workbench.open(REPO, db=tmp_path / "w.duckdb", engine="spark", lake=str(tmp_path / "lake"))
    message = ("not available with --engine spark yet (it reads the raw layer, which stays in the lake); "
               "run it on a DuckDB warehouse loaded with the same exports")
    for command, call in (("dsar erase", lambda: app.erase("a@example.se", request_id=None, on=dt.date.today(),
                                                            user="test")),
                          ("dsar report", lambda: app.access_report("a@example.se", as_of=dt.date.today(),
                                                                    lang="sv", fmt="json", user="test")),
                          ("purge", lambda: app.purge(dt.date.today(), dry_run=True))):
        with pytest.raises(InsynError) as refused:
            call()
        assert refused.value.message == f"{command}: {message}"
    assert not (tmp_path / "lake").exists() and not (tmp_path / "w.duckdb").exists()   # refused before anything
    assert Workbench.open(REPO, db=tmp_path / "w.duckdb").engine.require_raw_layer("purge") is None


def test_two_warehouses_in_one_folder_load_at_once_and_keep_their_own_snapshots_and_ledgers(tmp_path):
    folder = tmp_path / "shared"
    a, b = folder / "A.duckdb", folder / "B.duckdb"
    loads = [subprocess.Popen([INSYN, "-q", "--workbench", str(REPO), "--db", str(db), "load", str(SAMPLE / "exports")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for db in (a, b)]
    done = [proc.communicate(timeout=600) for proc in loads]
    for proc, (out, err) in zip(loads, done):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "internal error" not in err
        assert out.rstrip().endswith("not exports")
    app_a, app_b = Workbench.open(REPO, db=a), Workbench.open(REPO, db=b)
    snap_a = app_a.layout.published / (app_a.layout.published / "CURRENT").read_text().strip()
    snap_b = app_b.layout.published / (app_b.layout.published / "CURRENT").read_text().strip()
    assert snap_a.exists() and snap_b.exists() and snap_a.parent != snap_b.parent
    assert sorted(p.name for p in folder.iterdir()) == ["A.duckdb", "A.duckdb.d", "B.duckdb", "B.duckdb.d"]

    import datetime as dt

    done = app_a.erase(DEMO_PERSON_EMAIL, request_id=None, on=dt.date.fromisoformat(AS_OF), user="test")
    assert sum(done.deleted.values()) > 0
    assert [e.kind for e in Ledger(app_a.layout.ledger).erasures()] == ["erasure"]
    assert not app_b.layout.ledger.exists() and app_b.erasures().entries == []   # B's ledger untouched
    assert snap_b.exists() and (app_b.layout.published / "CURRENT").read_text().strip() == snap_b.name
    assert not snap_a.exists()                                 # A's snapshots held her: replaced
    assert done.tasks.parent == app_a.layout.deletion_tasks


def test_a_moved_old_ledger_still_finds_the_reports_it_recorded_beside_the_warehouse(tmp_path):
    """An older ledger recorded `--out` files relative to the warehouse's folder; moved into the
    state folder, it must still find them, or an erasure would leave the person's letter behind."""
    from insyn.ledger import recorded_path

    ledger = tmp_path / "w" / "insyn.duckdb.d" / "dsar-ledger.jsonl"
    beside = write(tmp_path / "w" / "letters" / "letter.html", "x")
    assert recorded_path("letters/letter.html", ledger) == beside
    inside = write(tmp_path / "w" / "insyn.duckdb.d" / "reports" / "r.html", "x")
    assert recorded_path("reports/r.html", ledger) == inside            # today's entries: the state folder
    assert recorded_path("reports/gone.html", ledger) == ledger.parent / "reports" / "gone.html"
    assert recorded_path(str(beside), ledger) == beside                  # absolute stays as it is


def test_the_demo_leaves_an_old_ledger_that_another_warehouse_of_its_folder_shares(tmp_path):
    """The demo starts afresh in its own folder, but an older Insyn's ledger there may be another
    warehouse's too: that is refused, never deleted."""
    from insyn.demo import run_demo

    root, _ = copy_workbench(tmp_path / "wb")
    demo = Workbench.open(root).for_demo()
    folder = demo.layout.folder
    old = write(folder / "dsar-ledger.jsonl", '{"entry_id": "L00001", "kind": "erasure"}\n')
    (folder / "other.duckdb").write_bytes(b"")
    with pytest.raises(InsynError, match="state of an older Insyn"):
        run_demo(demo, quiet=True)
    assert old.read_text() == '{"entry_id": "L00001", "kind": "erasure"}\n'


def test_a_warehouse_without_a_raw_layer_says_so_rather_than_nothing_held(checked, tmp_path):
    """Served from Spark's lake, a warehouse has no raw rows: the people register must not read as
    'nothing held about this person' when the sources were simply not looked at."""
    import shutil

    import duckdb

    from insyn import people
    from insyn.texts import cached

    app, _, _ = checked
    copy = tmp_path / "served.duckdb"
    shutil.copy(app.layout.warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        here = people.held(con, app.sources, DEMO_PERSON_EMAIL, cached(None, "en"))
        assert here.raw_layer and here.sources
        for (table,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall():
            con.execute(f'drop table raw."{table}"')
        served = people.held(con, app.sources, DEMO_PERSON_EMAIL, cached(None, "en"))
    finally:
        con.close()
    assert not served.raw_layer and served.sources == []
    assert served.requests == here.requests and served.findings == here.findings


def test_a_run_whose_build_fails_publishes_once_what_its_load_committed_and_says_why(tmp_path, monkeypatch):
    import datetime as dt

    import duckdb

    from insyn import snapshot

    root, db = copy_workbench(tmp_path / "wb")
    (root / "pipelines" / "marts" / "dim_people.sql").write_text("select no_such_column from params.run\n")
    timings = tmp_path / "publishes.jsonl"
    monkeypatch.setenv("INSYN_TIMINGS", str(timings))
    app = Workbench.open(root, db=db)
    with pytest.raises(InsynError, match="dim_people.sql"):
        app.run(SAMPLE / "exports", dt.date.fromisoformat(AS_OF))
    assert len(timings.read_text().splitlines()) == 1   # made as the run ended
    con = duckdb.connect(str(snapshot.current(app.layout.published)), read_only=True)
    try:
        assert con.execute("select count(*) from audit.files").fetchone()[0] > 0   # the load, committed
        assert con.execute("select count(*) from audit.runs").fetchone()[0] == 0     # no build
    finally:
        con.close()
