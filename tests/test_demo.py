"""The demo on the committed sample: every record of every export is accounted for."""

import hashlib

import sample
from helpers import EXPECTED, SAMPLE


def _loads(wb):
    import duckdb

    con = duckdb.connect(str(wb / "data" / "demo" / "insyn.duckdb"), read_only=True)
    try:
        cur = con.execute("select file, source, rows, rejected, exported_at_from from audit.files")
        return [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()], con.execute(
            "select as_of from params.run").fetchone()[0]
    finally:
        con.close()


def test_demo_loads_every_export_with_rows_plus_rejected_equal_to_its_records(demo):
    wb, _ = demo
    loaded, _ = _loads(wb)
    got = {e["file"].removeprefix("data/sample/"): {"records": e["rows"] + e["rejected"], "rejected": e["rejected"]}
           for e in loaded}
    assert got == EXPECTED["files"]


def test_demo_exports_are_stamped_by_their_folders(demo):
    wb, _ = demo
    loaded, _ = _loads(wb)
    assert {e["exported_at_from"] for e in loaded} == {"folder"}


def test_demo_builds_for_the_samples_own_as_of(demo):
    wb, out = demo
    _, as_of = _loads(wb)
    assert as_of.isoformat() == EXPECTED["as_of"]
    assert f"as of {EXPECTED['as_of']}" in out


def test_demo_covers_every_source_kind(demo):
    wb, _ = demo
    loaded, _ = _loads(wb)
    kinds = {e["source"] for e in loaded}
    assert {"salesforce.contact", "salesforce.lead", "salesforce.account", "salesforce.task", "salesforce.event",
            "salesforce.opportunity", "salesforce.opportunitycontactrole", "salesforce.contacthistory",
            "salesforce.campaign", "salesforce.campaignmember", "mailchimp.subscribed", "mailchimp.unsubscribed",
            "mailchimp.cleaned", "esp.events", "weblog.access", "register.requests",
            "register.subprocessors"} <= kinds


def _tree_hashes(root):
    """File -> SHA-256; a workbook by its cells (openpyxl's XML bytes depend on whether lxml is installed)."""
    def digest(path):
        if path.suffix == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True)
            cells = [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets]
            book.close()
            return hashlib.sha256(repr(cells).encode()).hexdigest()
        return hashlib.sha256(path.read_bytes()).hexdigest()

    return {str(p.relative_to(root)): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_committed_sample_is_what_the_seeded_generator_writes(tmp_path):
    sample.generate(tmp_path / "sample", seed=EXPECTED["seed"])
    assert _tree_hashes(tmp_path / "sample") == _tree_hashes(SAMPLE)


def test_the_demo_s_next_hints_name_a_command_that_runs_from_the_shell_it_was_started_in(monkeypatch):
    """`make demo` runs .venv/bin/insyn with the virtual environment not active: a bare `insyn`
    in its hints would not be found."""
    import sys
    from pathlib import Path

    from insyn.demo import how_to_run_insyn

    venv_insyn = Path(sys.executable).with_name("insyn")
    monkeypatch.setattr(sys, "argv", [str(venv_insyn), "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")                        # not active
    assert how_to_run_insyn() == str(venv_insyn)
    monkeypatch.setenv("PATH", f"{venv_insyn.parent}:/usr/bin:/bin")   # active
    assert how_to_run_insyn() == "insyn"
    monkeypatch.setattr(sys, "argv", ["/somewhere/insyn/__main__.py", "demo"])
    assert how_to_run_insyn() == f"{sys.executable} -m insyn"
