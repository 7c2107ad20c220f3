"""`insyn audit`: the yearly audit pack for the ISO 27001 auditor, and its verification.

A pack is a folder: the executed notebook, an HTML report without code cells
and its PDF (charts drawn, offline), evidence CSVs, GX Data Docs of the checks
run for the pack, and manifest.json with the SHA-256 of every other file and
the run's provenance. It is built in a hidden partial folder and renamed into
place only when every step succeeded: a failed cell leaves no half-made pack.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import InsynError
from .files import sha256_file
from .texts import workbench_locale

MANIFEST = "manifest.json"
YEARLY_NOTEBOOK = Path("notebooks") / "audit" / "10_yearly_audit.ipynb"
MONTHLY_NOTEBOOK = Path("notebooks") / "audit" / "20_monthly_retention_review.ipynb"
CHROMIUM = os.environ.get("INSYN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
_REMOTE_TAG = re.compile(r"<(script|link)\b[^>]*\b(?:src|href)=[\"']https?://[^>]*>(?:\s*</script>)?", re.I)


class AuditFailed(InsynError):
    exit_code = 1


def default_as_of(year: int, today: dt.date | None = None) -> dt.date:
    """The year's last day, or today when the year is not over."""
    return min(dt.date(year, 12, 31), today or dt.date.today())


sha256 = sha256_file


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


# ---------------------------------------------------------------- notebook → HTML → PDF


class NotebookFailed(AuditFailed):
    pass


def execute_notebook(template: Path, out: Path, parameters: dict, cwd: Path) -> None:
    """Run a notebook in a real kernel; a failing cell is named in the error."""
    import papermill

    try:
        papermill.execute_notebook(str(template), str(out), parameters=parameters, cwd=str(cwd),
                                   progress_bar=False, log_output=False, kernel_name="python3",
                                   **_local_kernel())
    except papermill.PapermillExecutionError as exc:
        if exc.ename == "AssertionError" and exc.evalue:
            # the report's own explanation (what it cannot rely on: catalog words, no personal data)
            raise NotebookFailed(f"{template.name}: the report cannot be relied on: {exc.evalue} "
                                 f"(cell {exc.exec_count})") from None
        raise NotebookFailed(f"{template.name}: cell {exc.exec_count} failed ({exc.ename})") from None


def _local_kernel() -> dict:
    """The kernel talks to Insyn over Unix sockets in the user's own Jupyter runtime folder, not
    TCP ports on loopback (which other local accounts can reach, and which make ipykernel warn
    "Kernel is running over TCP without encryption"). A socket path has room for about 107
    characters: a runtime folder too deep for it keeps TCP."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum

    if len(jupyter_runtime_dir()) > 60:   # + "/kernel-<uuid>-ipc-<n>" must stay under the limit
        return {}

    class LocalKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return {"kernel_manager_class": LocalKernelManager}


def notebook_html(executed: Path, out: Path) -> None:
    """HTML without code cells; no links to require.js, MathJax or mermaid on a CDN."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    for trait in ("require_js_url", "mathjax_url", "mermaid_js_url", "mermaid_layout_elk_js_url"):
        config.HTMLExporter[trait] = "data:,"
    exporter = HTMLExporter(config=config, exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    # plotly adds a MathJax <script src> from a CDN to every figure; no figure uses TeX
    out.write_text(_REMOTE_TAG.sub("", body), encoding="utf-8")


def html_pdf(html: Path, pdf: Path, media: str = "screen") -> list[str]:
    """Print the HTML to an A4 PDF in Debian's Chromium, offline; returns the requests it refused
    (every request but the document's own: other local files and the network alike).

    Runs in a thread of its own: Playwright's sync API refuses a thread whose
    event loop is already running (as in a notebook, or beside other Playwright use)."""
    from concurrent.futures import ThreadPoolExecutor

    if not Path(CHROMIUM).exists():
        raise InsynError(f"audit: {CHROMIUM} not found (apt-get install chromium) to print the PDF")
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(_print_pdf, html, pdf, media).result()
        except Exception as exc:  # Playwright's errors: say which step failed, no traceback
            if isinstance(exc, InsynError):
                raise
            raise AuditFailed(f"audit: printing the PDF failed ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None


def _print_pdf(html: Path, pdf: Path, media: str = "screen") -> list[str]:
    from urllib.parse import unquote

    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 760, "height": 1000})

            document = html.resolve().as_uri()

            def guard(route):
                # The document alone: no other file (file:///etc/..., a report beside it) and no network.
                url = route.request.url
                if unquote(url) == unquote(document) or url.startswith(("data:", "about:")):
                    return route.continue_()
                refused.append(url)
                return route.abort()

            page.route("**/*", guard)
            page.goto(document, wait_until="load")
            page.wait_for_function(
                "Array.from(document.querySelectorAll('.plotly-graph-div')).every(d => d.querySelector('.main-svg'))",
                timeout=30000)
            page.add_style_tag(content=".jp-OutputArea-child,.plotly-graph-div{break-inside:avoid}"
                                       " .modebar{display:none!important}")
            page.emulate_media(media=media)
            if media == "print":  # a letter: the page's own @page rules set the margins
                page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True,
                         display_header_footer=False)
            else:
                page.pdf(path=str(pdf), format="A4", print_background=True,
                         margin={"top": "14mm", "bottom": "14mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()
    return refused


def strip_remote_assets(folder: Path) -> None:
    """GX Data Docs link CSS and scripts on CDNs: drop those tags, so the pack opens offline
    (the pages stay readable, with GX's local styles only)."""
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = _REMOTE_TAG.sub("", text)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


# ---------------------------------------------------------------- the pack


@dataclass
class Pack:
    path: Path
    run_id: str
    manifest: dict


def _evidence(con, queries: Path, year: int, as_of: dt.date) -> dict[str, object]:
    from .queries import query

    requests = query(con, queries, "dsar_timeline", year=year, request_type=None, status=None)
    found = query(con, queries, "findings", as_of=as_of, rule=None)
    frames = {
        f"requests-{year}.csv": requests,
        "findings.csv": found[["rule", "record_id", "email", "source", "detail", "count", "severity"]],
        "deletion-list.csv": query(con, queries, "deletion_list"),
        "optout-breaches.csv": found[found["rule"].str.startswith("optout.")][
            ["rule", "record_id", "email", "source", "detail"]],
        "subprocessors.csv": query(con, queries, "subprocessors"),
    }
    return {name: without_addresses(frame) for name, frame in frames.items()}


_EMAIL_COLUMNS = ("email", "email_key")


def without_addresses(frame):
    """An evidence table as the pack may carry it (it leaves the company): e-mail columns abbreviated
    as the report shows them, and any e-mail or IP address inside other text too (an opt-out's
    record id is the address). Ids, dates and counts stay."""
    from .masking import mask_email, mask_in_text

    frame = frame.copy()
    for column in frame.columns:
        if column in _EMAIL_COLUMNS:
            frame[column] = [mask_email(v) if isinstance(v, str) and v.strip() else v for v in frame[column]]
        elif any(isinstance(v, str) for v in frame[column]):
            frame[column] = [mask_in_text(v) if isinstance(v, str) else v for v in frame[column]]
    return frame


def build_pack(app, *, year: int, as_of: dt.date, language: str, out: Path, progress=None) -> Pack:
    """Build the yearly audit pack for `year` as of `as_of` under `out`; `app` is the application
    object (workbench.Workbench: it checks the warehouse and names its published snapshot)."""
    import duckdb

    from . import snapshot
    from .csvsafe import to_csv

    say = progress or (lambda m: None)
    run_id = uuid.uuid4().hex
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    wb = app.settings
    template = wb.root / YEARLY_NOTEBOOK
    if not template.exists():
        raise InsynError(f"{template}: the audit notebook template is missing")
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f".audit-{year}-{run_id[:12]}.partial"
    final = out / f"audit-{year}-as-of-{as_of.isoformat()}-{run_id[:8]}"
    partial.mkdir(mode=0o700)
    try:
        say(f"checking the warehouse as of {as_of} ...")
        report = app.check(as_of, docs=partial / "data-docs", progress=progress)
        strip_remote_assets(partial / "data-docs")
        snap = snapshot.current(app.layout.published)
        say("running the audit notebook in a Jupyter kernel ...")
        executed = partial / f"audit-{year}.ipynb"
        execute_notebook(template, executed, {
            "audit_year": year, "as_of": as_of.isoformat(), "warehouse": str(snap),
            "queries": str(wb.pipelines / "queries"), "locale": str(workbench_locale(wb.root)),
            "language": language, "run_id": run_id,
        }, cwd=wb.root)
        say("writing the HTML report and its PDF ...")
        html = partial / f"audit-{year}.html"
        notebook_html(executed, html)
        refused = html_pdf(html, partial / f"audit-{year}.pdf")
        if refused:
            raise AuditFailed(f"audit: the report tried to load {len(refused)} resource(s) besides itself")
        say("writing the evidence ...")
        (partial / "evidence").mkdir(mode=0o700)
        con = duckdb.connect(str(snap), read_only=True)
        try:
            for name, frame in _evidence(con, wb.pipelines / "queries", year, as_of).items():
                (partial / "evidence" / name).write_text(to_csv(frame), encoding="utf-8")
            inputs = [dict(zip(("file", "sha256", "source", "exported_at"), (r[0], r[1], r[2], r[3].isoformat() + "Z")))
                      for r in con.execute("select file, sha256, source, exported_at from audit.files "
                                           "order by file_id").fetchall()]
        finally:
            con.close()
        manifest = {
            "pack": "insyn yearly audit pack",
            "year": year,
            "as_of": as_of.isoformat(),
            "language": language,
            "run_id": run_id,
            "started_at": started.isoformat() + "Z",
            "finished_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z",
            "insyn_version": __version__,
            "commit": git_commit(wb.root),
            "policy_file": str(wb.policy_file),
            "policy_sha256": app.policy.sha256,
            "policy_text": _in_workbench(app.policy.text_path, wb.root),
            "policy_text_sha256": app.policy.text_sha256,
            "check_run_id": report.check_run_id,
            "checks_passed": report.success,
            "inputs": inputs,
            "files": {str(p.relative_to(partial)): sha256(p) for p in sorted(partial.rglob("*")) if p.is_file()},
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for path in partial.rglob("*"):
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Pack(final, run_id, manifest)


def _in_workbench(path: Path, root: Path) -> str:
    """A workbench file by its place in the workbench (as the auditor's copy names it), else as it is."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def verify_pack(folder: Path) -> list[str]:
    """Problems with a pack against its manifest (empty when it is intact)."""
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (OSError, ValueError, KeyError):
        raise InsynError(f"{manifest_path}: not an audit pack manifest") from None
    problems = []
    for name, digest in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif sha256(path) != digest:
            problems.append(f"changed: {name}")
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    problems += [f"not in the manifest: {name}" for name in sorted(present - listed.keys())]
    return problems
