"""`insyn audit`: the yearly audit pack for the ISO 27001 auditor, and its verification.

A pack is a folder: the executed notebook, an HTML report without code cells
and its PDF (charts drawn, offline), evidence CSVs, GX Data Docs of the checks
run for the pack, and manifest.json with the SHA-256 of every other file and
the run's provenance. It is built in a hidden partial folder and renamed into
place only when every step succeeded: a failed cell leaves no half-made pack.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import InsynError
from .files import sha256_file
from .texts import workbench_locale

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"    # the signer's Ed25519 signature over manifest.json's bytes (base64)
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
    """HTML without code cells; no links to require.js, MathJax or mermaid on a CDN. Its <title>
    (the PDF's title) is the report's own first heading, its lang the report's language."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    nb = nbformat.read(executed, as_version=4)
    config = Config()
    for trait in ("require_js_url", "mathjax_url", "mermaid_js_url", "mermaid_layout_elk_js_url"):
        config.HTMLExporter[trait] = "data:,"
    language = nb.metadata.get("papermill", {}).get("parameters", {}).get("language")
    if language in ("sv", "en"):   # (the pseudo-language is no ISO 639-1 code)
        config.HTMLExporter.language_code = language
    title = _report_title(nb)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(config=config, exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    # plotly adds a MathJax <script src> from a CDN to every figure; no figure uses TeX
    out.write_text(_REMOTE_TAG.sub("", body), encoding="utf-8")


def _report_title(nb) -> str | None:
    """The first Markdown heading of level 1 the notebook displayed (the report's title)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            markdown = output.get("data", {}).get("text/markdown", "")
            for line in markdown.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


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


# A report on A4 with 10 mm side margins: 190 mm of CSS pixels (96 to the inch). The page is laid out at
# that width, so that its figures (drawn once, at the width they find) fit the printed page.
PRINT_WIDTH_PX = 718
_REPORT_CSS = (".plotly-graph-div,tr,li{break-inside:avoid} h1,h2,h3{break-after:avoid}"
               " .modebar{display:none!important} .anchor-link{display:none!important}"
               " li.insyn-toc{display:flex;gap:0.5em} li.insyn-toc>a{flex:1;border-bottom:1px dotted #999}"
               " .insyn-toc-page{min-width:2em;text-align:right}")
# Page n of N (and the report's title) at the foot of every page; digits only, no words to translate.
_FOOTER = ('<div style="width:100%;font-size:8px;font-family:sans-serif;color:#555;padding:0 10mm;'
           'display:flex;justify-content:space-between"><span class="title"></span>'
           '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')
# The table of contents: a list item that is only a link to a heading gets the heading's page number.
_MARK_CONTENTS = """() => {
  const marked = [];
  for (const li of document.querySelectorAll('li')) {
    const a = li.querySelector(':scope > a[href^="#"]');
    if (!a || li.children.length !== 1) continue;
    const href = a.getAttribute('href').slice(1);
    let target = document.getElementById(href);
    try { target = target || document.getElementById(decodeURIComponent(href)); } catch (e) {}
    if (!target || !/^H[1-3]$/.test(target.tagName)) continue;
    li.classList.add('insyn-toc');
    const page = document.createElement('span');
    page.className = 'insyn-toc-page';
    page.dataset.target = target.id;
    page.textContent = '\u2007\u2007';
    li.appendChild(page);
    marked.push(target.id);
  }
  return marked;
}"""
_FILL_CONTENTS = """(pages) => {
  for (const span of document.querySelectorAll('.insyn-toc-page')) {
    if (pages[span.dataset.target]) span.textContent = String(pages[span.dataset.target]);
  }
}"""


def _print_pdf(html: Path, pdf: Path, media: str = "screen") -> list[str]:
    from urllib.parse import unquote

    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            width = 760 if media == "print" else PRINT_WIDTH_PX
            page = browser.new_page(viewport={"width": width, "height": 1000})

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
            page.emulate_media(media=media)
            if media == "print":  # a letter: the page's own @page rules set the margins
                page.add_style_tag(content=".jp-OutputArea-child,.plotly-graph-div{break-inside:avoid}"
                                           " .modebar{display:none!important}")
                page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True,
                         display_header_footer=False)
            else:
                page.add_style_tag(content=_REPORT_CSS)
                options = dict(format="A4", print_background=True, outline=True, tagged=True,
                               display_header_footer=True, header_template="<span></span>",
                               footer_template=_FOOTER,
                               margin={"top": "14mm", "bottom": "16mm", "left": "10mm", "right": "10mm"})
                if page.evaluate(_MARK_CONTENTS):
                    # printed twice: the first print tells on which page each heading landed
                    page.evaluate(_FILL_CONTENTS, heading_pages(page.pdf(**options)))
                page.pdf(path=str(pdf), **options)
        finally:
            browser.close()
    return refused


_PDF_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)(?:\bendobj\b|\bstream\r?\n)", re.S)


def heading_pages(pdf: bytes) -> dict[str, int]:
    """The page (1, 2, ...) of each named destination (an element id a link points at) in a PDF that
    Chromium printed: its catalog's /Dests against the order of its page tree. Empty when the PDF
    is not laid out that way (the contents then go without page numbers)."""
    objects = {int(m[1]): m[2] for m in _PDF_OBJECT.finditer(pdf)}
    catalog = next((o for o in objects.values() if b"/Type /Catalog" in o), b"")
    root, dests = re.search(rb"/Pages (\d+) 0 R", catalog), re.search(rb"/Dests (\d+) 0 R", catalog)
    if not root or not dests:
        return {}
    order: list[int] = []

    def walk(number: int, depth: int = 0) -> None:
        node = objects.get(number, b"")
        kids = re.search(rb"/Kids\s*\[(.*?)\]", node, re.S)
        if b"/Type /Pages" in node and kids and depth < 32:
            for kid in re.findall(rb"(\d+) 0 R", kids[1]):
                walk(int(kid), depth + 1)
        else:
            order.append(number)

    walk(int(root[1]))
    position = {number: n + 1 for n, number in enumerate(order)}
    pages = {}
    for name, target in re.findall(rb"/([^\s/\[\]<>()]+)\s*\[\s*(\d+) 0 R", objects.get(int(dests[1]), b"")):
        raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), name)
        if int(target) in position:   # Chromium names a destination by the element's id
            pages[raw.decode("utf-8", "replace")] = position[int(target)]
    return pages


def strip_remote_assets(folder: Path) -> None:
    """GX Data Docs as an auditor opens them offline: no tag that loads from a CDN, no remote logo
    (GX's own copy in static/images instead), no newsletter or tutorial footer, no link that leaves
    the pack; and, for the Bootstrap they no longer load, a small stylesheet of their own."""
    logo = folder / "static" / "images" / "logo-long.png"
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = _REMOTE_TAG.sub("", text)
        cleaned = _FOOTER_TAG.sub("", cleaned)
        local = os.path.relpath(logo, page.parent) if logo.is_file() else ""
        cleaned = _REMOTE_IMG.sub(lambda m: f'{m[1]}"{local}"' if local else f'{m[1]}""', cleaned)
        cleaned = _REMOTE_CSS_URL.sub("none", cleaned)
        cleaned = _REMOTE_HREF.sub("", cleaned)
        cleaned = cleaned.replace("</head>", f"<style>{_DATA_DOCS_CSS}</style>\n</head>", 1)
        if page == folder / "index.html":   # its tables are filled by a script from a CDN: list the pages
            cleaned = cleaned.replace("</body>", _page_list(folder) + "\n</body>", 1)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def _page_list(folder: Path) -> str:
    """Links to every validation result and expectation suite page, as plain HTML (no script)."""
    import html

    items = []
    for part in ("validations", "expectations"):
        for page in sorted((folder / part).rglob("*.html")):
            name = html.escape(page.stem.removeprefix("warehouse-"))
            items.append(f'<li><a href="{html.escape(page.relative_to(folder).as_posix())}">{part}: {name}</a></li>')
    return f'<div class="container-fluid"><ul>{"".join(items)}</ul></div>'


_FOOTER_TAG = re.compile(r"<footer\b.*?</footer>", re.I | re.S)
_REMOTE_IMG = re.compile(r"(<img\b[^>]*?\bsrc=)[\"']https?://[^\"']*[\"']", re.I)
_REMOTE_CSS_URL = re.compile(r"url\(\s*[\"']?https?://[^)]*\)", re.I)
_REMOTE_HREF = re.compile(r"\s+href=[\"']https?://[^\"']*[\"']", re.I)
# What the pages use of Bootstrap 4 (grid, cards, tables, navigation, alerts), and Font Awesome's
# three icons as characters: enough to read them as GX lays them out.
_DATA_DOCS_CSS = """
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 font-size:14px;line-height:1.5;color:#212529;background:#fff}
a{color:#0b6fa4;text-decoration:none} a:hover{text-decoration:underline}
h1,h2,h3,h4,h5,h6{margin:.5rem 0;font-weight:500;line-height:1.2}
.container-fluid{padding:1rem 1.5rem}.row{display:flex;flex-wrap:wrap;margin:0 -8px}
[class*="col-"]{box-sizing:border-box;padding:0 8px;width:100%}
@media(min-width:768px){.col-md-2{width:16.67%}.col-md-10{width:83.33%}.col-md-6{width:50%}
 .col-md-4{width:33.33%}.col-md-8{width:66.67%}.col-md-12{width:100%}}
.col-6{width:50%}.col-12{width:100%}
.d-none{display:none}.d-flex{display:flex}.flex-column{flex-direction:column}
.invisible{visibility:hidden}.float-left{float:left}.text-center{text-align:center}
.navbar{display:flex;align-items:center;padding:.5rem 1.5rem;border-bottom:1px solid #dee2e6;background:#fff}
.navbar-brand img{height:40px!important}
.breadcrumb{display:flex;list-style:none;margin:0 0 0 1rem;padding:.25rem .75rem;background:#f1f3f5;border-radius:4px}
.breadcrumb-item+.breadcrumb-item::before{content:"/";padding:0 .5rem;color:#6c757d}
.nav{display:flex;flex-wrap:wrap;list-style:none;padding:0;margin:0 0 .5rem}
.nav-link{display:block;padding:.4rem .8rem}.nav-tabs{border-bottom:1px solid #dee2e6}
.nav-tabs .nav-link.active,.nav-pills .nav-link.active{border:1px solid #dee2e6;border-bottom-color:#fff;
 background:#fff;border-radius:4px 4px 0 0}
.tab-content>.tab-pane{display:none}.tab-content>.active{display:block}
.collapse:not(.show){display:none}.modal,.ge-walkthrough-modal{display:none!important}
.card{border:1px solid #dee2e6;border-radius:4px;margin-bottom:1rem;background:#fff}
.card-header{padding:.6rem 1rem;background:#f7f7f9;border-bottom:1px solid #dee2e6}
.card-body{padding:1rem}
.table{width:100%;border-collapse:collapse;margin-bottom:1rem}
.table td,.table th{padding:.5rem;border-top:1px solid #dee2e6;vertical-align:top;text-align:left}
.table-sm td,.table-sm th{padding:.3rem}.table-responsive{overflow-x:auto}
.alert{padding:.75rem 1rem;border:1px solid transparent;border-radius:4px;margin-bottom:1rem}
.alert-info{background:#e7f3fa;border-color:#b8daeb}.alert-secondary{background:#f1f3f5}
.btn{display:inline-block;padding:.3rem .7rem;border:1px solid #adb5bd;border-radius:4px;background:#f8f9fa}
.text-success{color:#1e7e34}.text-danger{color:#c82333}.text-muted{color:#6c757d}
.fa-check-circle::before{content:"\\2714"}.fa-times::before{content:"\\2716"}
.fa-question-circle::before{content:"?"}
"""


# ---------------------------------------------------------------- the pack


@dataclass
class Pack:
    path: Path
    run_id: str
    manifest: dict
    key_created: bool = False     # the signing key was made for this pack (the first one)
    unable: list = field(default_factory=list)   # the rules not evaluated by the pack's check (its exit 4)


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

    from . import signing, snapshot
    from .csvsafe import to_csv

    say = progress or (lambda m: None)
    # the signing key and its hand-overs first: a bad key file stops the audit before its long run
    key, key_created = signing.signing_key(app.settings.secrets, create=True)
    rotations = signing.rotations(app.settings.secrets)
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
            inputs = [dict(zip(("file", "sha256", "source", "exported_at"),
                               (_export_name(r[0]), r[1], r[2], r[3].isoformat() + "Z")))
                      for r in con.execute("select file, sha256, source, exported_at from audit.files "
                                           "order by file_id").fetchall()]
        finally:
            con.close()
        with issued_packs(app.layout) as chain:   # one pack at a time names the last one issued
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
                "policy_file": _in_workbench(wb.policy_file, wb.root),
                "policy_sha256": app.policy.sha256,
                "policy_text": _in_workbench(app.policy.text_path, wb.root),
                "policy_text_sha256": app.policy.text_sha256,
                "check_run_id": report.check_run_id,
                "checks_passed": report.success and report.complete,   # nothing not evaluated passes
                "not_evaluated": [e["rule"] for e in report.unable],    # rules whose exports were never loaded
                "inputs": inputs,
                "files": {str(p.relative_to(partial)): sha256(p) for p in sorted(partial.rglob("*")) if p.is_file()},
                "signer": {"algorithm": signing.ALGORITHM, "public_key": key.public_hex,
                           "fingerprint": key.fingerprint, "rotations": rotations},
                "previous": chain.last,
            }
            data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            (partial / MANIFEST).write_bytes(data)
            (partial / SIGNATURE).write_bytes(signing.encode_signature(key.sign(data)))
            for path in partial.rglob("*"):
                os.chmod(path, 0o700 if path.is_dir() else 0o600)
            os.replace(partial, final)
            chain.add({"year": year, "as_of": as_of.isoformat(), "run_id": run_id,
                       "manifest_sha256": hashlib.sha256(data).hexdigest(), "fingerprint": key.fingerprint,
                       "pack": final.name, "issued_at": manifest["finished_at"]})
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Pack(final, run_id, manifest, key_created, list(report.unable))


def _in_workbench(path: Path, root: Path) -> str:
    """A workbench file by its place in the workbench (as the auditor's copy names it); one outside
    it by its name alone (never this machine's absolute path)."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return path.name


def _export_name(file: str) -> str:
    """An export as audit.files names it: its place in the workbench, kept; a file loaded from
    outside it (an absolute path) by its name, an archive member as `archive.zip!member`."""
    if not os.path.isabs(file):
        return file
    archive, bang, member = file.partition("!")
    return Path(archive).name + bang + member


# ---------------------------------------------------------------- the chain of issued packs

_PREVIOUS_FIELDS = ("year", "as_of", "run_id", "manifest_sha256", "fingerprint", "pack")


class _Chain:
    def __init__(self, handle, path: Path):
        self.handle, self.path = handle, path
        self.last = None
        for number, line in enumerate(handle.read().splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                self.last = {name: entry[name] for name in _PREVIOUS_FIELDS}
            except (ValueError, KeyError, TypeError):
                raise InsynError(f"{path}: line {number} is not a record of an issued audit pack") from None

    def add(self, entry: dict) -> None:
        self.handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())


@contextlib.contextmanager
def issued_packs(layout):
    """The record of the packs issued from a warehouse (its state folder: the packs themselves are
    sent away, moved or purged, and `--out` may put them anywhere), locked while one is added,
    so that two audits at once cannot both follow the same pack."""
    import fcntl

    layout.make_state()
    path = layout.issued_packs
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield _Chain(handle, path)


# ---------------------------------------------------------------- verification


@dataclass
class Verification:
    problems: list[str]       # anything here: the pack cannot be relied on (exit 1)
    notes: list[str]          # what was checked against what, for the auditor to read
    signer: str | None = None          # the fingerprint of the key that signed the manifest
    signer_checked: bool = False       # against --key or the previous pack's signer


def _once(pairs: list) -> dict:
    """A JSON object whose keys are each given once: one given twice reads two ways."""
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise InsynError(f"key {key!r} given twice")
        seen.add(key)
    return dict(pairs)


def _read_manifest(folder: Path) -> tuple[bytes, dict]:
    manifest_path = folder / MANIFEST
    try:
        if not manifest_path.is_file():   # a FIFO would block for ever, a device never end
            raise ValueError
        data = manifest_path.read_bytes()
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=_once)
        if not isinstance(manifest["files"], dict):
            raise ValueError
    except InsynError as exc:
        raise InsynError(f"{manifest_path}: not an audit pack manifest ({exc})") from None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        raise InsynError(f"{manifest_path}: not an audit pack manifest") from None
    return data, manifest


def _signer(folder: Path, data: bytes, manifest: dict) -> tuple[str | None, list, list[str]]:
    """The fingerprint of the key that signed the manifest (None if it is not validly signed), the
    rotation statements it carries, and the problems."""
    from . import signing

    signer = manifest.get("signer")
    if not isinstance(signer, dict) or not isinstance(signer.get("public_key"), str):
        return None, [], ["not signed: the manifest names no signing key"]
    sig_path = folder / SIGNATURE
    if sig_path.is_symlink() or not sig_path.is_file():   # (a FIFO would make verify wait for ever)
        return None, [], [f"not signed: {SIGNATURE} is missing or not a file"]
    try:
        signature = signing.decode_signature(sig_path.read_bytes()[:4096])
    except OSError:
        return None, [], [f"not signed: {SIGNATURE} cannot be read"]
    try:
        fp = signing.fingerprint(bytes.fromhex(signer["public_key"]))
    except ValueError:
        fp = None
    if fp is None or fp != signer.get("fingerprint") or not signing.signed_by(signer["public_key"], data, signature):
        return None, [], [f"signature: {MANIFEST} does not match {SIGNATURE} (edited after it was signed, "
                           "or the signature is not by the key the manifest names)"]
    return fp, signer.get("rotations") or [], []


def _pack_name(name: str) -> bool:
    """A manifest's file name is a place inside the pack: relative, no `.` or `..`, no empty part."""
    return all(part not in ("", ".", "..") and "\0" not in part and len(part.encode("utf-8", "replace")) <= 255
               for part in name.split("/"))


def _pack_files(folder: Path) -> tuple[set[str], list[str]]:
    """The pack's regular files (by their place in it) and its links (files or folders), never followed."""
    files, links = set(), []
    for root, folders, names in os.walk(folder):
        for name in sorted(folders + names):
            path = Path(root) / name
            place = path.relative_to(folder).as_posix()
            if path.is_symlink():
                links.append(place)
            elif name in names and path.is_file():
                files.add(place)
    return files, sorted(links)


def check_pack(folder: Path, key: str | None = None, previous: Path | None = None) -> Verification:
    """Check a pack: every file against the manifest, the manifest against its signature, the
    signer against `key` (a fingerprint: that key, or one it handed over to by a signed rotation),
    and with `previous` (last year's pack) that the pack follows exactly that one."""
    from . import signing

    data, manifest = _read_manifest(folder)
    listed = manifest["files"]
    present, links = _pack_files(folder)
    # a link is never followed: what it points at is not in the pack the auditor holds
    problems, notes = [f"a link, not a file of the pack: {name}" for name in links], []
    for name, digest in sorted(listed.items()):
        if not _pack_name(name):
            problems.append(f"not a place in the pack: {name!r}")
        elif name not in present:
            problems.append(f"missing: {name}")
        else:
            try:
                same = sha256(folder / name) == digest
            except OSError as exc:
                problems.append(f"unreadable: {name} ({exc.strerror})")
                continue
            if not same:
                problems.append(f"changed: {name}")
    problems += [f"not in the manifest: {name}" for name in sorted(present - listed.keys() - {MANIFEST, SIGNATURE})]

    signer, rotations, unsigned = _signer(folder, data, manifest)
    problems += unsigned
    if signer is not None:
        notes.append(f"signed by key {signing.grouped(signer)}")
        if key is not None:
            if signer == key:
                notes.append("the signing key is the one expected (--key)")
            elif signing.succeeds(rotations, key, signer):
                notes.append("the signing key was handed over from the one expected (--key) by a rotation it signed")
            else:
                problems.append(f"signer: not the key expected (--key {signing.grouped(key)}) nor one it handed over to")
        elif previous is None:
            notes.append("the signing key was not checked: compare its fingerprint with the one the DPO gave you, "
                         "or pass --key FINGERPRINT")

    named = manifest.get("previous")
    if previous is None:
        if isinstance(named, dict):
            notes.append(f"follows the pack of {named.get('year')} (run {named.get('run_id')}, manifest SHA-256 "
                         f"{named.get('manifest_sha256')}); pass --previous DIR to check it")
        elif "previous" in manifest:   # (a pack made before packs were chained names nothing)
            notes.append("the first pack of its chain (it names no previous pack)")
        return Verification(problems, notes, signer, signer is not None and key is not None)

    before = check_pack(previous)
    problems += [f"previous pack {previous}: {problem}" for problem in before.problems]
    before_data, before_manifest = _read_manifest(previous)
    before_signer, _, _ = _signer(previous, before_data, before_manifest)
    digest = hashlib.sha256(before_data).hexdigest()
    if not isinstance(named, dict):
        problems.append(f"previous: this pack names no previous pack, but follows {previous} by --previous "
                        "(a chain started again)")
    elif named.get("manifest_sha256") != digest:
        problems.append(f"previous: this pack follows the pack of {named.get('year')} (run {named.get('run_id')}, "
                        f"manifest SHA-256 {named.get('manifest_sha256')}), not {previous} (run "
                        f"{before_manifest.get('run_id')}, manifest SHA-256 {digest}): a pack was replaced or is missing")
    else:
        notes.append(f"follows {previous} (the pack of {before_manifest.get('year')}, run {before_manifest.get('run_id')})")
    if signer is not None and before_signer is not None and not signing.succeeds(rotations, before_signer, signer):
        problems.append("signer: not the key that signed the previous pack nor one it handed over to")
    return Verification(problems, notes, signer, signer is not None)


def verify_pack(folder: Path, key: str | None = None, previous: Path | None = None) -> list[str]:
    """Problems with a pack (empty when it is intact and signed): see check_pack."""
    return check_pack(folder, key, previous).problems
