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

from helpers import EXPECTED, copy_workbench
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
    assert set(manifest["files"]) == names - {"manifest.json"}
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
