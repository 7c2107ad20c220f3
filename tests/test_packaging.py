"""A plain install is a product: the wheel carries the reference workbench (and not the sample
generator), and installed into a fresh virtual environment, with no clone beside it, it makes a
new company's workbench (`insyn init`) that loads, builds, checks, prints the audit pack and the
access report as PDF, and serves the dashboard, finding on the sample what the clone finds."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import shutil
import site
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from insyn import __version__, config, texts
from insyn.cli import main
from insyn.errors import EXIT_INPUT, InsynError
from insyn.init import PLACEHOLDER_MARK, POLICY_TEXT, content_files, init_workbench
from insyn.reference import REFERENCE_CONTENT, reference_root

from helpers import EXPECTED, REPO, SAMPLE, free_port

pytestmark = pytest.mark.packaging

BUILD_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
AS_OF = EXPECTED["as_of"]
YEAR = AS_OF[:4]
DEMO_EMAIL = EXPECTED["demo_person"]["email"]
TOKEN = "packaging-test-token-0123456789"


# ---------------------------------------------------------------- init, in this process


def test_init_refuses_a_folder_that_is_not_empty_or_not_a_folder(tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(InsynError) as caught:
        init_workbench(dest)
    assert caught.value.exit_code == EXIT_INPUT == 2
    assert str(dest) in caught.value.message and "not empty" in caught.value.message
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["init", str(dest)]) == 2
    assert "not empty" in err.getvalue() and "Traceback" not in err.getvalue()

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(InsynError) as caught:
        init_workbench(a_file)
    assert caught.value.exit_code == 2 and "not a folder" in caught.value.message
    assert a_file.read_text() == "x"


def test_init_makes_an_owner_only_workbench_whose_policy_names_the_companys_own_text(tmp_path):
    dest = tmp_path / "acme" / "insyn"
    written = init_workbench(dest)

    on_disk = sorted(p for p in dest.rglob("*") if p.is_file())
    assert written == on_disk
    assert {stat.S_IMODE(p.stat().st_mode) for p in on_disk} == {0o600}
    assert {stat.S_IMODE(p.stat().st_mode) for p in [dest, *dest.rglob("*")] if p.is_dir()} == {0o700}

    policy = config.Policy.load(dest / "policy.toml")
    assert policy.text_path.resolve() == (dest / POLICY_TEXT).resolve()
    placeholder = (dest / POLICY_TEXT).read_text(encoding="utf-8")
    assert placeholder.startswith(PLACEHOLDER_MARK)
    # the placeholder trips no policy.* rule: no outdated reference, no date marker
    words = [r.pattern for r in policy.outdated_references] + list(policy.policy_date_markers)
    assert words and not [w for w in words if w.lower() in placeholder.lower()]
    own_policy = (dest / "policy.toml").read_text(encoding="utf-8")
    assert "integritetspolicy" not in own_policy and "data/sample" not in own_policy

    settings = config.Settings.load(dest)
    for path in (settings.warehouse, settings.inbox, settings.audit_packs, settings.secrets, settings.pipelines,
                 settings.templates, settings.expectations, settings.policy_file):
        assert path.is_relative_to(dest.resolve()), path
    assert str(tmp_path) not in (dest / "insyn.toml").read_text(encoding="utf-8")   # paths stay relative

    # the reference content, copied as it is
    reference = reference_root()
    for name in REFERENCE_CONTENT:
        if name in ("insyn.toml", "policy.toml"):
            continue
        theirs = {p.relative_to(reference): p.read_bytes() for p in content_files(reference / name)}
        ours = {p.relative_to(dest): p.read_bytes() for p in content_files(dest / name)}
        assert theirs and ours == theirs, name


def test_in_a_clone_the_reference_workbench_is_the_repository_and_manifest_in_carries_all_of_it():
    assert reference_root() == REPO
    lines = [line.split() for line in (REPO / "MANIFEST.in").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    carried = {words[1] for words in lines if words[0] in ("graft", "include")}
    assert carried == set(REFERENCE_CONTENT)


# ---------------------------------------------------------------- the wheel, in a fresh environment


def _run(cmd: list, *, cwd: Path, env: dict, ok: tuple[int, ...] = (0,), timeout: int = 300) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode in ok, f"{cmd}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> SimpleNamespace:
    """The wheel built from a copy of the sources (offline, no build isolation), installed with
    --no-deps into a new virtual environment that borrows this one's dependencies through a .pth."""
    base = tmp_path_factory.mktemp("packaging")
    # no workbench, warehouse or engine chosen from outside; the Chromium to print with may be
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("INSYN_", "PYTHON")) or k == "INSYN_CHROMIUM"}
    env["PYTHONNOUSERSITE"] = "1"
    sources = base / "sources"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".ipynb_checkpoints")
    sources.mkdir()
    for name in BUILD_FILES:
        shutil.copy(REPO / name, sources / name)
    shutil.copytree(REPO / "src", sources / "src", ignore=skip)
    for name in REFERENCE_CONTENT:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, sources / name, ignore=skip)
        else:
            shutil.copy(REPO / name, sources / name)
    wheels = base / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
          "-w", wheels, sources], cwd=base, env=env)
    wheel = next(wheels.glob("insyn-*.whl"))

    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base, env=env)
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=base, env=env).strip())
    # this environment's packages (not its .pth files: the editable insyn stays out)
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # and their data files (nbconvert's templates, the kernel spec), where pip puts them: <prefix>/share
    (venv / "share").mkdir()
    (venv / "share" / "jupyter").symlink_to(Path(sys.prefix) / "share" / "jupyter")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel], cwd=base, env=env)
    return SimpleNamespace(wheel=wheel, python=python, insyn=venv / "bin" / "insyn", env=env, base=base)


def test_the_wheel_carries_the_reference_workbench_and_not_the_sample_generator(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert "insyn/init.py" in names and "insyn/cli.py" in names
    assert not [n for n in names if n.endswith("/sample.py") or "__pycache__" in n or n.startswith("tests/")]
    reference = {n.removeprefix("insyn/reference/") for n in names if n.startswith("insyn/reference/")}
    clone = {str(p.relative_to(REPO)) for name in REFERENCE_CONTENT for p in content_files(REPO / name)}
    assert reference == clone
    metadata = zipfile.ZipFile(installed.wheel).read(f"insyn-{__version__}.dist-info/METADATA").decode()
    assert "Requires-Dist: playwright==1.65.2" in metadata and "Requires-Dist: babel==2.17.0" in metadata


def test_the_installed_package_has_no_sample_generator_and_finds_its_own_reference(installed):
    out = _run([installed.python, "-c", "import importlib.util, insyn, insyn.reference, insyn.texts; "
                "print(insyn.__file__); print(insyn.reference.reference_root()); "
                "print(importlib.util.find_spec('insyn.sample')); print(insyn.texts.reference_locale()); "
                "print(insyn.texts.cached(None, 'sv')('web.login.title'))"], cwd=installed.base, env=installed.env)
    package, reference, sample, locale, title = out.splitlines()
    assert Path(package).is_relative_to(installed.base / "venv")
    assert Path(reference) == Path(package).parent / "reference"
    assert sample == "None"
    # the catalogs where no workbench is named are the wheel's own, not a folder of the venv
    assert Path(locale) == Path(reference) / "locale"
    assert title == texts.read_catalog(REPO / "locale", "sv")["web.login.title"]


def _finding_key(f: dict, prefix: str) -> tuple:
    """A finding without where its files sit: the sample's exports and policy text are at other paths here."""
    record = (f["record_id"] or "").removeprefix(prefix).replace(POLICY_TEXT, "policy/integritetspolicy.sv.txt")
    return f["rule"], record, f["email"], f["source"], f.get("count", 1)


def test_a_plain_install_makes_a_workbench_that_finds_what_the_clone_finds_and_prints_its_pdfs(installed, tmp_path):
    run = lambda *args, ok=(0,): _run([installed.insyn, *args], cwd=dest, env=installed.env, ok=ok)  # noqa: E731
    dest = tmp_path / "acme"
    _run([installed.insyn, "init", dest], cwd=tmp_path, env=installed.env)
    assert (dest / "insyn.toml").is_file() and (dest / "dashboards" / "app.py").is_file()
    # the company drops its exports into the inbox and its policy text over the placeholder
    shutil.copytree(SAMPLE / "exports", dest / "data" / "inbox" / "exports")
    shutil.copy(SAMPLE / "policy" / "integritetspolicy.sv.txt", dest / POLICY_TEXT)

    run("load", "data/inbox")
    run("build", "--as-of", AS_OF)
    assert f"as of {AS_OF}" in run("check", "--as-of", AS_OF, ok=(1,))   # the compliance suite fails: findings
    found = json.loads(run("findings", "--as-of", AS_OF, "--format", "json"))["findings"]
    assert sorted(_finding_key(f, "data/inbox/") for f in found) == \
        sorted(_finding_key(f, "") for f in EXPECTED["findings"])

    run("audit", "--year", YEAR, "--as-of", AS_OF)
    pdfs = list((dest / "data" / "audit-packs").rglob(f"audit-{YEAR}.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF")

    letter = tmp_path / "letter.pdf"
    run("dsar", "report", DEMO_EMAIL, "--as-of", AS_OF, "--format", "pdf", "--out", letter)
    assert letter.read_bytes().startswith(b"%PDF")

    _dashboard_serves(installed, dest)


def _dashboard_serves(installed, dest: Path) -> None:
    """`insyn dashboard` in the new workbench: its own copy of dashboards/ is the only one there is."""
    port = free_port()
    log = dest.parent / "dashboard.err"
    with open(log, "w") as err:
        process = subprocess.Popen([installed.insyn, "dashboard", "--port", str(port)], cwd=dest,
                                   env={**installed.env, "INSYN_DASHBOARD_TOKEN": TOKEN},
                                   stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/_dash-layout", headers={"Authorization": f"token {TOKEN}"})
                response = conn.getresponse()
                status, body = response.status, response.read()
                conn.close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.3)
        assert status == 200, body[:500]
        assert json.loads(body)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_init_locks_the_folder_before_writing_and_refuses_one_it_does_not_own(tmp_path):
    """The workbench holds code Insyn runs (expectations, dashboards): another account must not be
    able to plant files in it or swap its folders."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)                       # an empty folder anyone may write
    init_workbench(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o700
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")   # dangling: init must not create its target
    with pytest.raises(InsynError, match="a symbolic link"):
        init_workbench(link)
    assert not (tmp_path / "elsewhere").exists()
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    if os.getuid() == 0:
        os.chown(theirs, 65534, 65534)        # nobody's
    else:
        theirs = Path("/")                    # root's: its owner is checked before its contents
    with pytest.raises(InsynError, match="owned by another user"):
        init_workbench(theirs)


def test_a_private_file_is_never_written_through_a_planted_symbolic_link(tmp_path):
    from insyn.files import write_private

    victim = tmp_path / "victim.txt"
    victim.write_text("theirs")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.html").symlink_to(victim)
    with pytest.raises(InsynError, match="a symbolic link"):
        write_private(tmp_path / "out" / "report.html", b"personal data")
    assert victim.read_text() == "theirs"
