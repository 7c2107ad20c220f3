"""`insyn init DIR`: a new company's workbench, made from the reference workbench.

The reference workbench is the content Insyn ships with (dashboards, pipelines,
templates, expectations, notebooks, text catalogs, the sample policy and
configuration, the synthetic sample exports). An installed wheel carries it as
package data under `insyn/reference/` (setup.py copies it there at build time);
a clone or an editable install reads it from the repository itself. The new
workbench gets its own copy of it, its own insyn.toml and a policy.toml that
names the company's own policy text: a placeholder file, to be replaced.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from .config import Settings
from .errors import InsynError
from .files import write_private
from .reference import REFERENCE_CONTENT, SKIPPED, reference_root

POLICY_TEXT = "policy/privacy-policy.txt"    # the company's own policy text, relative to policy.toml
PLACEHOLDER_MARK = "INSYN PLACEHOLDER"

PLACEHOLDER_TEXT = f"""{PLACEHOLDER_MARK}: replace this file with your company's privacy policy text.

`insyn init` put this file here; policy.toml names it ([policy] text_path). The policy.* rules
read it line by line, as plain UTF-8 text: the outdated references listed in policy.toml
([[policy_text.outdated_references]]) and the text's own date after one of its date markers
([policy_text] date_markers). Paste your policy here, replacing every line of this note.
"""

INSYN_TOML_HEADER = """\
# Made by `insyn init` from Insyn's reference workbench. The warehouse, inbox, audit packs and
# secrets below are this workbench's own: every path is relative to this folder.
"""

POLICY_TOML_HEADER = f"""\
# Made by `insyn init`: the reference company's policy values, a starting point. Check every value
# against your own privacy policy, whose text goes in {POLICY_TEXT} (text_path below).
"""

_TEXT_PATH = re.compile(r'^text_path\s*=\s*"[^"\n]*"[^\n]*$', re.MULTILINE)


def init_workbench(dest: Path) -> list[Path]:
    """Create a new workbench in `dest` (new or empty) from the reference workbench; return the files
    written. Files are owner-only (0600), folders 0700, as everything Insyn writes."""
    dest = Path(dest)
    reference = reference_root()
    missing = [name for name in REFERENCE_CONTENT if not (reference / name).exists()]
    if missing:
        raise InsynError(f"{reference}: the reference workbench lacks {', '.join(missing)}: reinstall the package")
    _own_empty_folder(dest)

    written = []
    for name in REFERENCE_CONTENT:
        if name in ("insyn.toml", "policy.toml"):
            continue
        for source in content_files(reference / name):
            target = dest / source.relative_to(reference)
            write_private(target, source.read_bytes())
            written.append(target)

    settings = INSYN_TOML_HEADER + (reference / "insyn.toml").read_text(encoding="utf-8")
    policy = _own_policy(reference / "policy.toml")
    for relative, text in (("insyn.toml", settings), ("policy.toml", policy), (POLICY_TEXT, PLACEHOLDER_TEXT)):
        write_private(dest / relative, text.encode("utf-8"))
        written.append(dest / relative)
    Settings.load(dest).inbox.mkdir(mode=0o700, parents=True, exist_ok=True)   # where exports go
    for folder in dest.rglob("*"):   # `mkdir -p` leaves the umask's mode on the folders between
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o700)
    return sorted(written)


def _own_empty_folder(dest: Path) -> None:
    """`dest` as a new or empty folder of this user that nobody else can enter, before anything is
    written: the workbench holds code Insyn runs (expectations, dashboards) and its secrets, so
    another account must neither plant files in it nor swap its folders."""
    usage = "insyn init makes a workbench in a new or empty folder of your own"
    if dest.is_symlink():
        raise InsynError(f"{dest}: a symbolic link; {usage}")
    if dest.exists() and not dest.is_dir():
        raise InsynError(f"{dest}: not a folder; {usage}")
    if not dest.exists():
        dest.mkdir(mode=0o700, parents=True)
    elif dest.stat().st_uid != os.getuid():
        raise InsynError(f"{dest}: owned by another user; {usage}")
    if any(dest.iterdir()):
        raise InsynError(f"{dest}: not empty; {usage}")
    dest.chmod(0o700)
    if any(dest.iterdir()):   # planted between the look and the lock: refuse rather than mix in
        raise InsynError(f"{dest}: not empty; {usage}")


def content_files(root: Path) -> list[Path]:
    """Every file under `root` (or `root` itself), without caches, checkpoints and hidden files."""
    if root.is_file():
        return [root]
    found = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in SKIPPED):
            continue
        if path.is_file():
            found.append(path)
    return found


def _own_policy(reference_policy: Path) -> str:
    """The reference policy file, naming the company's own policy text instead of the sample's."""
    text = reference_policy.read_text(encoding="utf-8")
    if len(_TEXT_PATH.findall(text)) != 1:
        raise InsynError(f"{reference_policy}: policy.text_path: expected exactly one `text_path = \"...\"` line")
    own = f'text_path = "{POLICY_TEXT}"   # your own policy text: replace the placeholder'
    return POLICY_TOML_HEADER + _TEXT_PATH.sub(own, text)
