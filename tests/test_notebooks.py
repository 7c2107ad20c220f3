"""The analysts' example notebook runs in a real kernel against the demo warehouse: under
`jupyter nbconvert --execute` from any folder (it finds its workbench), and under `insyn lab`
(it reads the copy $INSYN_WAREHOUSE names)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import papermill
import pytest

from insyn import queries

from helpers import EXPECTED, REPO, copy_workbench

pytestmark = pytest.mark.notebook

TOUR = Path("notebooks") / "analyst" / "warehouse_tour.ipynb"
RULE = "retention.inactive_company_initiated"
MONTHS_CELL = "ea767fad"   # the months-quiet table


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(output: dict) -> str:
    return str(output.get("text") or output.get("data", {}).get("text/plain", ""))


def _months_table(nb) -> list[tuple[int, int, int]]:
    """(months quiet, records, past retention) rows of the notebook's table, as displayed."""
    [cell] = [c for c in nb.cells if c.get("id") == MONTHS_CELL]
    [shown] = [o for o in cell.outputs if o.get("output_type") == "execute_result"]
    lines = _text(shown).splitlines()
    assert lines[0].split() == ["months_quiet", "records", "past_retention"]
    return [tuple(int(v) for v in line.split()[1:]) for line in lines[1:]]


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("INSYN_", "JUPYTER_"))}


def test_the_tour_runs_under_nbconvert_from_another_folder_and_counts_months_as_the_rule(demo, tmp_path):
    # a clone: Insyn's pyproject.toml above the notebook (JupySQL went looking in it), and only
    # the demo's warehouse
    wb, _ = copy_workbench(tmp_path / "clone", folders=("pipelines", "notebooks"))
    shutil.copy(REPO / "pyproject.toml", wb / "pyproject.toml")
    demo_db = wb / "data" / "demo" / "insyn.duckdb"
    demo_db.parent.mkdir(parents=True)
    shutil.copy(demo[0] / "data" / "demo" / "insyn.duckdb", demo_db)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    jupyter = Path(sys.executable).with_name("jupyter")
    proc = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute", wb / TOUR,
                           "--output-dir", elsewhere, "--output", "tour"],
                          cwd=elsewhere, env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(elsewhere / "tour.ipynb", as_version=4)
    text = "\n".join(_text(o) for o in _outputs(nb))
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert "'toml'" not in text and "pyproject.toml" not in text
    # its workbench's: the demo's, as the workbench has no warehouse of its own (and no snapshot published)
    assert f"reading {demo_db}" in text

    # whole calendar months, as the dashboard's query counts them, and the rule's findings
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        stale = queries.query(con, wb / "pipelines" / "queries", "stale_contacts")
        retention = int(queries.query(con, wb / "pipelines" / "queries", "policy_values")
                        ["retention_inactive_months"].iloc[0])
    finally:
        con.close()
    table = _months_table(nb)
    assert [(m, n) for m, n, _ in table] == sorted(stale.groupby("months_quiet").size().items())
    flagged = sum(1 for f in EXPECTED["findings"] if f["rule"] == RULE)
    assert sum(p for _, _, p in table) == flagged
    assert all(p == 0 for m, _, p in table if m < retention)
    assert all(p == n for m, n, p in table if m > retention)
    assert f"retention: {retention} months without dialogue" in text


def test_the_tour_reads_the_copy_insyn_lab_names(demo, tmp_path, monkeypatch):
    wb, _ = demo
    copy = tmp_path / "copy.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", copy)
    # as `insyn lab` starts its kernels: the copy and the workbench named, any current folder
    monkeypatch.setenv("INSYN_WAREHOUSE", str(copy))
    monkeypatch.setenv("INSYN_WORKBENCH", str(wb))
    out = tmp_path / "tour.ipynb"
    papermill.execute_notebook(str(REPO / TOUR), str(out), cwd=str(tmp_path), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(_text(o) for o in _outputs(nb))
    assert f"reading {copy}" in text
    assert EXPECTED["as_of"] in text                      # params.run answered
    assert f"'{RULE}': " + str(sum(1 for f in EXPECTED["findings"] if f["rule"] == RULE)) in text
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]


def test_the_notebook_parameters_cell_holds_literals_only():
    nb = json.loads((REPO / TOUR).read_text(encoding="utf-8"))
    [cell] = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    import ast

    for node in ast.parse("".join(cell["source"])).body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
