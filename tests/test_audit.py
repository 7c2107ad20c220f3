"""The yearly audit pack: built with a real kernel, printed by Chromium, verified by its manifest."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from helpers import EXPECTED, REPO, copy_workbench
from insyn.cli import main

pytestmark = pytest.mark.notebook
YEAR = int(EXPECTED["as_of"][:4])


def run(root, db, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), "-q", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def _workbench(demo, tmp_path: Path) -> tuple[Path, Path]:
    wb, _ = demo
    return copy_workbench(tmp_path / "wb", folders=("pipelines", "expectations", "notebooks", "data/sample/policy"),
                          warehouse=wb / "data" / "demo" / "insyn.duckdb")


@pytest.fixture(scope="module")
def pack(demo, tmp_path_factory):
    root, db = _workbench(demo, tmp_path_factory.mktemp("audit"))
    out = root / "packs"
    code, stdout, err = run(root, db, "audit", "--year", YEAR, "--as-of", EXPECTED["as_of"], "--lang", "sv",
                            "--out", out)
    assert code == 0, err
    [folder] = [p for p in out.iterdir()]
    return root, db, folder


def test_the_pack_holds_the_report_evidence_docs_and_manifest(pack):
    _, _, folder = pack
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    for name in (f"audit-{YEAR}.ipynb", f"audit-{YEAR}.html", f"audit-{YEAR}.pdf", "manifest.json",
                 f"evidence/requests-{YEAR}.csv", "evidence/findings.csv", "evidence/deletion-list.csv",
                 "evidence/optout-breaches.csv", "evidence/subprocessors.csv", "data-docs/index.html"):
        assert name in names, name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["year"] == YEAR and manifest["as_of"] == EXPECTED["as_of"]
    assert len(manifest["run_id"]) == 32 and manifest["policy_sha256"]
    # each hash under its own name: the policy text the rules read, and policy.toml
    import hashlib

    assert manifest["policy_text"] == "data/sample/policy/integritetspolicy.sv.txt"   # its place, not this machine's path
    assert manifest["policy_text_sha256"] == hashlib.sha256((REPO / manifest["policy_text"]).read_bytes()).hexdigest()
    assert manifest["policy_text_sha256"] != manifest["policy_sha256"]
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.sig"}   # the signature signs the manifest
    assert {i["source"] for i in manifest["inputs"]} >= {"salesforce.contact", "register.requests"}
    nb = json.loads((folder / f"audit-{YEAR}.ipynb").read_text(encoding="utf-8"))
    assert manifest["run_id"] in json.dumps(nb["cells"][:4])  # the run id went in as a parameter


def test_the_pack_is_readable_by_its_owner_only(pack):
    _, _, folder = pack
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.rglob("*") if p.is_file())


def test_the_html_is_offline_and_the_pdf_has_the_years_figures(pack):
    _, _, folder = pack
    html = (folder / f"audit-{YEAR}.html").read_text(encoding="utf-8")
    assert '<script src="https://cdn.plot.ly' not in html and "plotly" in html.lower()
    assert not re.search(r"<script[^>]*src=[\"']https?://", html)  # (the PDF step also refuses any request)
    text = subprocess.run(["pdftotext", "-layout", str(folder / f"audit-{YEAR}.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert str(YEAR) in text
    retention = sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")
    assert str(retention) in text
    assert "Privacy Shield" in text or "Överföring" in text


def test_findings_evidence_equals_the_rules(pack):
    import csv

    _, _, folder = pack
    with (folder / "evidence" / "findings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(EXPECTED["findings"])


def test_verify_passes_then_names_a_changed_file(pack, tmp_path):
    root, db, folder = pack
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    code, out, _ = run(root, db, "audit", "--verify", copy)
    assert code == 0 and "intact" in out
    with (copy / "evidence" / "findings.csv").open("a", encoding="utf-8") as fh:
        fh.write("tampered,row\r\n")
    code, out, _ = run(root, db, "audit", "--verify", copy)
    assert code == 1 and "changed: evidence/findings.csv" in out


def test_a_failing_cell_leaves_no_pack_and_names_the_cell(demo, tmp_path):
    root, db = _workbench(demo, tmp_path)
    template = root / "notebooks" / "audit" / "10_yearly_audit.ipynb"
    nb = json.loads(template.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "raise RuntimeError('broken')",
                        "outputs": [], "execution_count": None})
    template.write_text(json.dumps(nb), encoding="utf-8")
    out = root / "packs"
    code, _, err = run(root, db, "audit", "--year", YEAR, "--as-of", EXPECTED["as_of"], "--out", out)
    assert code == 1 and "cell" in err and "RuntimeError" in err
    assert list(out.iterdir()) == []


def test_schedule_runs_a_due_job_once(demo, tmp_path):
    root, db = _workbench(demo, tmp_path)
    config = (root / "insyn.toml").read_text(encoding="utf-8")
    config = config.split("[schedule.yearly_audit_pack]")[0]  # keep the monthly review only: it is quick
    (root / "insyn.toml").write_text(config, encoding="utf-8")
    code, out, err = run(root, db, "schedule", "run", "--now", f"{EXPECTED['as_of']}T06:00")
    assert code == 0, err
    assert "monthly_retention_review" in out and ": ok" in out
    period = EXPECTED["as_of"][:7]
    assert (root / "data" / "audit-packs" / "monthly" / period / f"retention-review-{period}.html").exists()
    code, out, _ = run(root, db, "schedule", "run", "--now", f"{EXPECTED['as_of']}T07:00")
    assert code == 0 and out.strip() == "nothing due"
    code, out, _ = run(root, db, "schedule", "run", "--now", f"{EXPECTED['as_of']}T08:00", "--force")
    assert code == 0 and ": ok" in out


def test_the_report_html_requests_nothing_from_the_network(pack, tmp_path):
    from insyn.audit import html_pdf

    _, _, folder = pack
    refused = html_pdf(folder / f"audit-{YEAR}.html", tmp_path / "again.pdf")
    assert refused == []
    assert (tmp_path / "again.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("year", ["26", "2025", "2999", "0", "10000"])
def test_a_year_outside_the_exports_is_refused_before_anything_runs(demo, tmp_path, year):
    """`--year 26` once ran as of 0026-12-31 and left that run in the check history: only a year from
    the earliest export loaded (2026 in the sample) to this one is audited."""
    import duckdb

    root, db = _workbench(demo, tmp_path)

    def check_runs():
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute("select count(*) from audit.check_runs").fetchone()[0]
        finally:
            con.close()

    before = check_runs()
    code, out, err = run(root, db, "audit", "--year", year)
    assert code == 2, err
    assert f"--year {year}: expected a year from 2026 (the earliest export loaded) to " in err
    assert "Traceback" not in err and check_runs() == before
    assert not (root / "data" / "audit-packs").exists() or not any((root / "data" / "audit-packs").iterdir())


def test_an_auditor_verifies_a_pack_on_a_machine_with_no_workbench(pack, tmp_path):
    """The pack is sent to the auditor: `insyn audit --verify` needs no insyn.toml."""
    import os
    import sys

    _, _, folder = pack
    copy = tmp_path / "received" / folder.name
    shutil.copytree(folder, copy)
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("INSYN_WORKBENCH", "INSYN_DB")}
    insyn = str(Path(sys.executable).with_name("insyn"))
    done = subprocess.run([insyn, "audit", "--verify", str(copy)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("which was NOT checked (pass --key FINGERPRINT or --previous DIR)")
    assert f"{copy}: intact as signed by key " in done.stdout
    evidence = next(p for p in sorted((copy / "evidence").iterdir()) if p.suffix == ".csv")
    evidence.write_text(evidence.read_text(encoding="utf-8") + "one more row\n", encoding="utf-8")
    done = subprocess.run([insyn, "audit", "--verify", str(copy)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and f"changed: evidence/{evidence.name}" in done.stdout
    assert "insyn.toml" not in done.stderr


def test_the_notebook_kernel_talks_over_unix_sockets_and_the_dpo_sees_no_tcp_warning(tmp_path):
    """A kernel on TCP loopback is reachable by other local accounts and makes ipykernel print
    "Kernel is running over TCP without encryption" into the demo's output."""
    import sys

    import nbformat

    template = tmp_path / "t.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), template)
    code = ("import sys; from pathlib import Path; from insyn.audit import execute_notebook; "
            "execute_notebook(Path(sys.argv[1]), Path(sys.argv[2]), {}, cwd=Path(sys.argv[3]))")
    done = subprocess.run([sys.executable, "-c", code, str(template), str(tmp_path / "out.ipynb"), str(tmp_path)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "TCP" not in done.stderr
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"


def test_a_report_that_cannot_be_relied_on_says_why_not_which_cell(demo, tmp_path):
    """Before the first export, the report has nothing to rely on and says so in its own words; the
    DPO reads that, not "cell 15 failed (AssertionError)"."""
    root, db = _workbench(demo, tmp_path)
    out = root / "packs"
    code, _, err = run(root, db, "audit", "--year", YEAR, "--as-of", f"{YEAR}-05-01", "--lang", "en", "--out", out)
    assert code == 1
    assert ("the report cannot be relied on: No register.requests export was loaded on or before 2026-05-01. "
            "No salesforce.contact export was loaded on or before 2026-05-01. (cell ") in err
    assert "AssertionError" not in err and "Traceback" not in err
    assert list(out.iterdir()) == []
