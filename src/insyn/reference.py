"""Where the reference workbench is: the content Insyn ships with (dashboards, pipelines,
templates, expectations, notebooks, text catalogs, the sample policy and configuration,
the synthetic sample exports).

An installed wheel carries it as package data under `insyn/reference/` (setup.py copies it
there at build time); a clone or an editable install reads it from the repository itself.
`insyn init` copies it; the text catalogs read its locale/ where no workbench is named.
A core module: it imports nothing of insyn but errors.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import InsynError

# What a wheel ships and `insyn init` copies. setup.py reads these constants (by parsing this
# file, not importing it) so that the two never disagree.
REFERENCE_CONTENT = (
    "dashboards", "pipelines", "templates", "expectations", "notebooks", "locale",
    "insyn.toml", "policy.toml", "data/sample",
)
PACKAGED = "reference"                       # insyn/reference/ inside an installed wheel
SKIPPED = ("__pycache__", "*.pyc", ".ipynb_checkpoints", ".*")


def reference_root() -> Path:
    """The reference workbench's folder: package data in an installed wheel, else the repository
    this module is part of (a clone, or `pip install -e .`)."""
    packaged = resources.files("insyn") / PACKAGED
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    clone = Path(__file__).resolve().parents[2]
    if all((clone / name).exists() for name in REFERENCE_CONTENT):
        return clone
    raise InsynError("the reference workbench is missing from this installation of Insyn "
                     f"(neither {packaged} nor a repository at {clone}): reinstall the package")
