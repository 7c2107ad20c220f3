"""The package keeps its layers and declares what it imports.

The layers contract (pyproject.toml [tool.importlinter], checked by import-linter) is the
architecture's dependency order: entry points -> workbench -> features -> pipeline -> catalog
-> core. deptry checks that every package the code imports is a declared runtime dependency
(the test extra's tools do not count), so a plain `pip install` brings what runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _contract_layers() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return layers


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}   # dashboards/ is imported from the workbench root
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_contract_holds_and_nothing_but_the_entry_point_imports_the_command_line():
    done = _run([str(BIN / "lint-imports")], REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout
    assert "2 kept, 0 broken" in done.stdout


def test_every_module_of_the_package_has_its_place_in_a_layer():
    placed = {name.strip() for layer in _contract_layers() for name in layer.replace("|", ":").split(":")}
    modules = {f"insyn.{p.stem}" for p in (REPO / "src" / "insyn").glob("*.py") if p.stem != "__init__"}
    assert modules - placed == set(), "new modules must be placed in the layers contract (pyproject.toml)"
    assert placed - modules == set(), "the contract names modules that no longer exist"


def test_the_layers_contract_fails_when_a_lower_layer_imports_a_higher_one(tmp_path):
    """The same contract on a copy of the package where the core imports the command line."""
    shutil.copytree(REPO / "src" / "insyn", tmp_path / "insyn", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "dashboards", tmp_path / "dashboards", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    errors = tmp_path / "insyn" / "errors.py"
    errors.write_text(errors.read_text(encoding="utf-8") + "\nfrom . import cli  # noqa\n", encoding="utf-8")
    done = subprocess.run([str(BIN / "lint-imports")], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0
    assert "insyn.errors is not allowed to import insyn.cli" in done.stdout


def test_no_notebook_imports_the_command_line():
    for notebook in (REPO / "notebooks").rglob("*.ipynb"):
        code = "\n".join("".join(cell["source"]) for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                         if cell["cell_type"] == "code")
        assert "insyn.cli" not in code and "from insyn import cli" not in code, notebook


def test_every_package_the_code_imports_is_a_declared_runtime_dependency():
    done = _run([str(BIN / "deptry"), "src", "dashboards", "expectations"], REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_dependency_check_fails_on_a_test_tool_imported_at_run_time(tmp_path):
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "insyn").mkdir(parents=True)
    (tmp_path / "src" / "insyn" / "__init__.py").write_text("import hypothesis\n", encoding="utf-8")
    done = _run([str(BIN / "deptry"), "src"], tmp_path)
    assert done.returncode != 0
    assert "DEP004" in done.stdout + done.stderr and "hypothesis" in done.stdout + done.stderr
