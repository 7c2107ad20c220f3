"""The build step pyproject.toml cannot say: the reference workbench (the top-level dashboards/,
pipelines/, templates/, ... that a clone uses in place) goes into the wheel as package data,
under insyn/reference/, without moving those folders. An editable install (`pip install -e .`)
copies nothing: insyn.reference.reference_root() finds the repository itself."""

import ast
import fnmatch
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _constant(name: str):
    """A literal constant of src/insyn/reference.py, read without importing the package (one list, one home)."""
    tree = ast.parse((HERE / "src" / "insyn" / "reference.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"src/insyn/reference.py: {name} not found")


class BuildWithReference(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        content, skipped, packaged = _constant("REFERENCE_CONTENT"), _constant("SKIPPED"), _constant("PACKAGED")
        target = Path(self.build_lib) / "insyn" / packaged
        if target.exists():
            shutil.rmtree(target)
        for name in content:
            source = HERE / name
            if not source.exists():
                raise SystemExit(f"{source}: the reference workbench's {name} is missing; the wheel would be broken")
            if source.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / name)
            else:
                shutil.copytree(source, target / name, ignore=lambda _, names: [
                    n for n in names if any(fnmatch.fnmatch(n, p) for p in skipped)])


setup(cmdclass={"build_py": BuildWithReference})
