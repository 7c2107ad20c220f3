"""The analysts' example notebook runs in a real kernel under Papermill against the demo warehouse."""

import json
import shutil

import nbformat
import papermill
import pytest

from helpers import REPO
from helpers import EXPECTED

pytestmark = pytest.mark.notebook


def test_the_jupysql_tour_answers_from_the_warehouse(demo, tmp_path):  # noqa: F811
    wb, _ = demo
    db = tmp_path / "demo.duckdb"
    shutil.copy(wb / "data" / "demo" / "insyn.duckdb", db)
    out = tmp_path / "tour.ipynb"
    papermill.execute_notebook(str(REPO / "notebooks" / "analyst" / "warehouse_tour.ipynb"), str(out),
                               parameters={"warehouse": str(db)}, cwd=str(tmp_path), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    text = "\n".join(str(o.get("text") or o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert EXPECTED["as_of"] in text                      # params.run answered
    assert "'retention.inactive_company_initiated': " + str(
        sum(1 for f in EXPECTED["findings"] if f["rule"] == "retention.inactive_company_initiated")) in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]


def test_the_notebook_parameters_cell_holds_literals_only():
    nb = json.loads((REPO / "notebooks" / "analyst" / "warehouse_tour.ipynb").read_text(encoding="utf-8"))
    [cell] = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    import ast

    for node in ast.parse("".join(cell["source"])).body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
