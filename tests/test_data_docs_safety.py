"""Values a person chose, in the Data Docs and the audit pack (issue 15, items 4, 5 and 9; the PDF printer).

A contact whose e-mail is markup and register rows whose ids are a link and a bare URL are
loaded with the sample through the command line; `insyn check` and `insyn audit` run as the
DPO runs them. The pages are opened in Debian's Chromium: no script of the data runs, no value
becomes a link, and no file of the pack carries an e-mail, name, phone or IP address of the
sample's exports in full.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from helpers import CONTACT_HEADER, SAMPLE, contact_row, copy_workbench, layout, sf_csv, write
from insyn.audit import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.notebook
AS_OF = "2026-11-24"
HOSTILE_EMAIL = '"><img src=x onerror=alert(14)>@malin.se'
HOSTILE_ID = "0035g00000XsSaAAAV"
LINK_ID = "<a href=https://example.com>x</a>"
URL_ID = "https://evil.example/x"
REGISTER_HEADER = ("Ärende-ID;Inkom datum;Kanal;Namn;E-post;CRM-ID;Typ av begäran;Identitet verifierad datum;"
                   "Verifieringsmetod;Förlängning meddelad datum;Skäl för förlängning;Svar skickat datum;"
                   "Avslutat datum;Utfall;Avgift (kr);Handläggare;Anteckningar")


def _insyn(root: Path, *args, tmpdir: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("insyn")
    env = {**os.environ, "TMPDIR": str(tmpdir), "TEMP": str(tmpdir), "TMP": str(tmpdir)}
    return subprocess.run([str(exe), "--workbench", str(root), "-q", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The sample plus a hostile contact and register rows, loaded, checked and packed through the CLI,
    each step with its own empty TMPDIR."""
    base = tmp_path_factory.mktemp("attack")
    root, db = copy_workbench(base / "wb", folders=("pipelines", "expectations", "notebooks", "data/sample/policy"))
    shutil.copytree(SAMPLE / "exports", root / "data" / "sample" / "exports")
    write(root / "inbox" / "2026-11-23" / "Contact.csv", sf_csv(CONTACT_HEADER, [
        contact_row(HOSTILE_ID, email=HOSTILE_EMAIL, FirstName="<b>Mallory</b>", LastName="Malin")]))
    write(root / "inbox" / "2026-11-23" / "register" / "more-requests.csv",
          REGISTER_HEADER + "\r\n"
          f"{LINK_ID};2026-03-02;Brev;Mallory Malin;mallory@malin.se;;Tillgång;2026-03-03;;;;"
          "2026-03-12;2026-03-12;Utförd;0;;\r\n"
          f"{URL_ID};2026-04-02;Brev;Mallory Malin;https://evil.example/y;;Tillgång;2026-04-03;;;;"
          "2026-04-12;2026-04-12;Utförd;0;;\r\n")
    tmp = {step: base / f"tmp-{step}" for step in ("load", "check", "audit")}
    for folder in tmp.values():
        folder.mkdir()
    done = _insyn(root, "load", root / "data" / "sample" / "exports", root / "inbox", tmpdir=tmp["load"])
    assert done.returncode == 0, done.stderr
    warehouse_before = set(os.listdir(db.parent)) | set(os.listdir(layout(db).state))
    done = _insyn(root, "check", "--as-of", AS_OF, tmpdir=tmp["check"])
    assert done.returncode == 1, done.stderr      # the sample breaks rules on purpose
    left_beside = (set(os.listdir(db.parent)) | set(os.listdir(layout(db).state))) - warehouse_before
    done = _insyn(root, "audit", "--year", AS_OF[:4], "--as-of", AS_OF, "--lang", "en", "--out", base / "packs",
                  tmpdir=tmp["audit"])
    assert done.returncode == 0, done.stderr
    [pack] = list((base / "packs").iterdir())
    return {"root": root, "docs": layout(db).data_docs, "pack": pack, "tmp": tmp, "left_beside": left_beside}


# ---------------------------------------------------------------- in Chromium


def _open_pages(paths: list[Path]) -> dict:
    """Open each page in Chromium, offline (only file: requests pass); the dialogs any script opened,
    the links on each page and its text. In a thread of its own: pytest-playwright's browser tests
    may have left an event loop running in this worker, and the sync API refuses to run inside it."""
    import concurrent.futures

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_open_pages_here, paths).result()


def _open_pages_here(paths: list[Path]) -> dict:
    from playwright.sync_api import sync_playwright

    dialogs, links, texts = [], {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            for path in paths:
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_timeout(200)  # an <img onerror> fires once its load has failed
                links[path] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                texts[path] = page.inner_text("body")
        finally:
            browser.close()
    return {"dialogs": dialogs, "links": links, "texts": texts}


def test_the_browser_check_sees_the_attack_when_it_is_raw(tmp_path):
    """The listener works: the same value written raw into a page fires its alert."""
    raw = write(tmp_path / "raw.html", f"<html><body><div>{HOSTILE_EMAIL}</div></body></html>")
    assert _open_pages([raw])["dialogs"] == ["14"]


def test_no_script_runs_from_the_workbench_s_or_the_pack_s_data_docs(attacked):
    pages = sorted(attacked["docs"].rglob("*.html")) + sorted((attacked["pack"] / "data-docs").rglob("*.html"))
    assert len(pages) > 10
    seen = _open_pages(pages)
    assert seen["dialogs"] == []
    crm = [text for path, text in seen["texts"].items() if path.name.endswith("quality.crm_records.html")]
    assert len(crm) == 2 and all("…@malin.se" in text for text in crm)   # the value is there, abbreviated


def test_no_script_runs_and_no_value_becomes_a_link_in_the_pack_s_html(attacked):
    html = attacked["pack"] / f"audit-{AS_OF[:4]}.html"
    seen = _open_pages([html])
    assert seen["dialogs"] == []
    assert [href for href in seen["links"][html] if "example.com" in href or "evil.example" in href] == []
    text = seen["texts"][html]
    assert LINK_ID in text and URL_ID in text      # shown, as text
    assert not re.search(r"<a\b[^>]*(example\.com|evil\.example)", html.read_text(encoding="utf-8"))


def test_data_docs_keep_counts_and_ids_and_abbreviate_the_rest(attacked):
    page = next(attacked["docs"].rglob("*quality.crm_records.html")).read_text(encoding="utf-8")
    assert "onerror" not in page and "<img src=x" not in page
    assert "“…@malin.se" in page                  # its first character, the domain; no markup
    assert "unclassified" in page                 # a code is shown in full (suites.SHOWN_IN_FULL)


# ---------------------------------------------------------------- personal values of the sample


_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NAME_COLUMNS = {"namn", "handlaggare", "createdby_name", "assistantname"}


def _sample_files():
    for path in sorted((SAMPLE / "exports").rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    yield name, archive.read(name)
        elif path.suffix == ".gz":
            yield path.stem, gzip.decompress(data)
        else:
            yield path.name, data


def _personal_values() -> dict[str, set[str]]:
    """Every e-mail, name, phone and IP address in the sample's exports."""
    from insyn.readers import decode_text, read_csv, read_json_events, read_xlsx
    from insyn.text import column_key

    found: dict[str, set[str]] = {"email": set(), "name": set(), "phone": set(), "ip": set()}
    for name, data in _sample_files():
        records = None
        if name.endswith(".xlsx"):
            records = read_xlsx(data, name)
        elif name.endswith(".csv"):
            records = read_csv(data, name)
        elif name.endswith((".json", ".jsonl")):
            for _, event in read_json_events(data, name, ()):
                found["email"].add(str(event.get("email", "")).lower())
                found["ip"].add(str(event.get("ip", "")))
            continue
        else:  # web logs: the client's address, and addresses in the request targets
            text, _ = decode_text(data, name)
            found["ip"] |= {line.split(" ", 1)[0] for line in text.splitlines() if line.strip()}
            found["email"] |= {e.lower() for e in _EMAIL.findall(urllib.parse.unquote(text))}
            continue
        keys = [column_key(h) for h in records.header]
        for row in records.rows:
            cells = {k: (v or "").strip() for k, v in zip(keys, row)}
            for key, value in cells.items():
                found["email"] |= {e.lower() for e in _EMAIL.findall(value)}
                if key in ("email", "email_address", "e_post") and value:
                    found["email"].add(value.lower())     # malformed addresses too (olof@@example.se)
                if ("phone" in key or key == "fax") and sum(c.isdigit() for c in value) >= 6:
                    found["phone"].add(value)
                if key.endswith("_ip") and value:
                    found["ip"].add(value)
                if key in _NAME_COLUMNS and " " in value:
                    found["name"].add(value)
            first = cells.get("firstname") or cells.get("first_name")
            last = cells.get("lastname") or cells.get("last_name")
            if first and last:
                found["name"].add(f"{first} {last}")
    found["ip"] = {ip for ip in found["ip"] if re.fullmatch(r"[0-9a-fA-F.:]+", ip) and len(ip) > 6}
    found["email"].discard("")
    return found


def _personal_values_in(text: str, values: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The values that occur in `text` in full: e-mails and IP addresses as whole tokens, phones within
    runs of digits, names as words (indexed first: the report holds plotly.js, megabytes of text)."""
    lower = text.lower()
    hits = [("email", v) for v in values["email"] & set(_EMAIL.findall(lower))]
    hits += [("email", v) for v in values["email"] if not _EMAIL.fullmatch(v) and v in lower]
    hits += [("ip", v) for v in values["ip"] & set(re.findall(r"[0-9A-Fa-f]*[.:][0-9A-Fa-f.:]*", text))]
    runs = "\n".join(re.findall(r"\+?\d[\d \-]*\d", text))
    hits += [("phone", v) for v in values["phone"] if v in runs]
    words = set(re.findall(r"\w+", lower))
    hits += [("name", v) for v in values["name"] if all(w in words for w in re.findall(r"\w+", v.lower()))
             and re.search(r"(?<!\w)" + re.escape(v) + r"(?!\w)", text)]
    return hits


def _pack_texts(attacked) -> dict[str, str]:
    """Every file of the pack as text (the PDF through pdftotext), and the workbench's Data Docs."""
    texts = {}
    folders = [attacked["pack"], attacked["docs"]]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix in (".png", ".gif", ".ico", ".otf", ".svg", ".css"):
                continue
            if path.suffix == ".pdf":
                text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                                      check=True).stdout
            else:
                text = path.read_text(encoding="utf-8")
            texts[str(path)] = text
    return texts


def test_no_file_of_the_pack_carries_a_personal_value_in_full(attacked):
    values = _personal_values()
    assert all(len(v) > 20 for v in values.values()), {k: len(v) for k, v in values.items()}
    texts = _pack_texts(attacked)
    names = {str(p.relative_to(attacked["pack"])) for p in attacked["pack"].rglob("*") if p.is_file()}
    assert {"manifest.json", "evidence/findings.csv", "data-docs/index.html"} <= names
    leaks = [f"{Path(file).name}: {kind} {value}" for file, text in texts.items()
             for kind, value in _personal_values_in(text, values)]
    assert leaks == []
    evidence = (attacked["pack"] / "evidence" / "findings.csv").read_text(encoding="utf-8")
    assert "…@" in evidence and HOSTILE_ID in evidence   # the rows are there: ids in full, addresses abbreviated


# ---------------------------------------------------------------- nothing outside the workbench (item 5)


def test_check_leaves_nothing_in_the_temporary_folder_or_beside_the_warehouse(attacked):
    for step in ("check", "audit"):
        assert list(attacked["tmp"][step].iterdir()) == [], step
    assert attacked["left_beside"] <= {"data-docs"}      # no private temporary folder of the run stays


def test_the_gx_run_alone_keeps_no_data_docs_site_in_the_temporary_folder(attacked, tmp_path):
    """GX gives an ephemeral context a Data Docs site in $TMPDIR/tmpXXXXXXXX: the runner has none."""
    root = attacked["root"]
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    docs = tmp_path / "docs"
    env = {**os.environ, "TMPDIR": str(tmpdir), "TEMP": str(tmpdir), "TMP": str(tmpdir)}
    done = subprocess.run(
        [sys.executable, "-m", "insyn.gx_runner", "--db", str(root / "data" / "warehouse" / "insyn.duckdb"),
         "--workbench", str(root), "--suites", str(root / "expectations" / "suites.py"),
         "--pipelines", str(root / "pipelines"), "--docs", str(docs), "--only", "quality.crm_records"],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)                       # results for check.py, as before
    assert (docs / "index.html").exists()
    assert list(tmpdir.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name not in ("tmp", "docs")] == []


# ---------------------------------------------------------------- the PDF printer loads the document alone


def test_the_pdf_printer_loads_no_other_local_file(tmp_path):
    from insyn.audit import html_pdf

    secret = write(tmp_path / "elsewhere" / "secret.txt", "TOPSECRET-7f3a")
    picture = write(tmp_path / "elsewhere" / "pixel.svg",
                    '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>TOPSECRET-svg</text></svg>')
    html = write(tmp_path / "report.html",
                 f'<html><body><h1>Report</h1><img src="{picture.as_uri()}"><img src="elsewhere/pixel.svg">'
                 f'<iframe src="{secret.as_uri()}"></iframe><link rel="stylesheet" href="file:///etc/passwd">'
                 '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                 '<img src="https://example.com/x.png"></body></html>')
    refused = html_pdf(html, tmp_path / "report.pdf")
    assert set(refused) == {picture.as_uri(), secret.as_uri(), "file:///etc/passwd", "https://example.com/x.png"}
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Report" in text and "TOPSECRET" not in text
