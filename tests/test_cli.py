"""The command line as a user meets it: exit codes, messages, read-only SQL."""

import shutil
import stat
import subprocess
import sys

import pytest

from helpers import CONTACT_HEADER, REPO, SAMPLE, contact_row, sf_csv, write

pytestmark = pytest.mark.cli


@pytest.fixture
def loaded(tmp_path, insyn_process):
    path = write(tmp_path / "2026-11-23" / "Contact.csv", sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV")]))
    result = insyn_process("load", path)
    assert result.code == 0, result.err
    return path


def test_bad_file_exits_2_naming_file_and_line_without_traceback(tmp_path, insyn_process):
    secret = "ingrid.sjoberg@example.se"
    bad = write(tmp_path / "Contact.csv",
                sf_csv(CONTACT_HEADER, [contact_row("0035g00000AbCdEAAV", email=secret)]) + b'"only","two"\r\n')
    result = insyn_process("load", bad)
    assert result.code == 2
    assert f"{bad}:3:" in result.err
    assert "Traceback" not in result.err and secret not in result.err + result.out


def test_warehouse_busy_with_another_writer_exits_3(loaded, db, insyn_process):
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(30)",
                               str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = insyn_process("build", "--as-of", "2026-11-24")
        assert result.code == 3
        assert "in use by another writer" in result.err
    finally:
        holder.kill()
        holder.wait()


def test_warehouse_is_readable_by_its_owner_only(loaded, db):
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_sql_is_read_only(loaded, insyn_process, query):
    result = insyn_process("sql", "delete from raw.salesforce__contact")
    assert result.code == 2 and "read-only" in result.err
    assert query("select count(*) from raw.salesforce__contact") == [(1,)]


def test_sql_reads_statements_from_standard_input(loaded, db):
    exe = shutil.which("insyn", path=str(REPO / ".venv" / "bin")) or str(__import__("pathlib").Path(sys.executable).with_name("insyn"))
    proc = subprocess.run([exe, "--workbench", str(REPO), "--db", str(db), "sql", "--format", "csv"],
                          input="select count(*) as n from raw.salesforce__contact; select 'a;b' as s;",
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "n\n1\ns\na;b\n"


def test_loads_json_contract(loaded, insyn_process):
    [entry] = insyn_process("loads", "--format", "json").json()
    for key in ("file", "sha256", "source", "exported_at", "exported_at_from", "rows", "rejected", "status"):
        assert key in entry
    assert entry["file"] == str(loaded)
    assert (entry["rows"], entry["rejected"], entry["status"]) == (1, 0, "loaded")
    assert entry["exported_at"] == "2026-11-23T00:00:00Z" and entry["exported_at_from"] == "folder"
    assert len(entry["sha256"]) == 64


def test_loads_on_a_new_warehouse_is_empty(insyn_process):
    result = insyn_process("loads", "--format", "json")
    assert result.code == 0 and result.json() == []


@pytest.mark.parametrize("args", [["build", "--as-of", "2026-02-30"], ["frobnicate"], ["load"],
                                  ["loads", "--format", "xml"]])
def test_usage_errors_exit_2(insyn_process, args):
    result = insyn_process(*args)
    assert result.code == 2
    assert "Traceback" not in result.err


def test_invalid_policy_file_names_file_and_key(tmp_path, insyn):
    wb = tmp_path / "wb"
    shutil.copytree(REPO / "pipelines", wb / "pipelines")
    shutil.copy(REPO / "insyn.toml", wb / "insyn.toml")
    text = (REPO / "policy.toml").read_text(encoding="utf-8")
    (wb / "policy.toml").write_text(text.replace("policy_target_days = 30", 'policy_target_days = "thirty"'),
                                    encoding="utf-8")
    from insyn.cli import main
    import contextlib, io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--workbench", str(wb), "--db", str(tmp_path / "w.duckdb"), "build"])
    assert code == 2
    assert str(wb / "policy.toml") in err.getvalue() and "dsar.policy_target_days" in err.getvalue()


def test_missing_workbench_config_is_explained(tmp_path, insyn_process):
    proc = subprocess.run([str(__import__("pathlib").Path(sys.executable).with_name("insyn")), "--workbench",
                           str(tmp_path), "loads"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "insyn.toml" in proc.stderr and "not found" in proc.stderr


def test_a_dashboard_port_in_use_is_a_clear_error_not_an_internal_one(loaded, insyn_process):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = insyn_process("dashboard", "--port", port, env={"INSYN_DASHBOARD_TOKEN": "t" * 32})
    assert result.code == 2, result.err
    assert f"--port {port}: cannot listen there (in use by another program)" in result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    assert "http://" not in result.out          # no address printed that nothing answers on


@pytest.mark.parametrize(("day", "command"), [("0001-01-01", ("build", "--as-of")),
                                            ("9999-12-31", ("findings", "--as-of")),
                                            ("1899-12-31", ("purge", "--dry-run", "--as-of")),
                                            ("0005-01-01", ("schedule", "run", "--now")),
                                            ("0001-01-01", ("load", str(SAMPLE), "--exported-at")),
                                            ("1899-12-31", ("load", str(SAMPLE), "--exported-at"))])
def test_a_date_no_calendar_can_hold_is_refused_as_input_not_a_crash(insyn_process, db, day, command):
    given = "1900-01-01T00:30+01:00" if command[0] == "load" and day.startswith("1899") else day   # UTC: 1899
    r = insyn_process(*command, given)
    assert r.code == 2 and f"{day}: outside the years Insyn takes (1900–2999)" in r.err
    assert "Traceback" not in r.err
    assert not db.exists()   # refused before anything was opened
