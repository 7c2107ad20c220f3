"""The yearly audit pack as a document an auditor checks on their own: its PDF's title, page numbers and
table of contents, charts that fit the page and name rules by title, the failed quality checks named,
and Data Docs that open offline."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from helpers import EXPECTED, copy_workbench
from insyn import report
from insyn.cli import main

pytestmark = pytest.mark.notebook
YEAR = int(EXPECTED["as_of"][:4])


@pytest.fixture(scope="module")
def pack(demo, tmp_path_factory):
    """One pack (Swedish) of the demo warehouse, whose sample holds known quality defects
    (two blank and two malformed CRM addresses, an unreadable register date, junk log lines)."""
    wb, _ = demo
    root, db = copy_workbench(tmp_path_factory.mktemp("document") / "wb",
                              folders=("pipelines", "expectations", "notebooks", "data/sample/policy"),
                              warehouse=wb / "data" / "demo" / "insyn.duckdb")
    out = root / "packs"
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), "-q", "audit", "--year", str(YEAR),
                     "--as-of", EXPECTED["as_of"], "--lang", "sv", "--out", str(out)])
    assert code == 0, err.getvalue()
    [folder] = list(out.iterdir())
    return folder


def _pdf_pages(folder: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(folder / f"audit-{YEAR}.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def test_the_pdf_is_titled_as_the_report(pack):
    info = subprocess.run(["pdfinfo", str(pack / f"audit-{YEAR}.pdf")], capture_output=True, text=True,
                          check=True).stdout
    title = re.search(r"^Title:\s*(.*)$", info, re.M)[1].strip()
    assert title == f"Årlig dataskyddsgranskning {YEAR}"
    html = (pack / f"audit-{YEAR}.html").read_text(encoding="utf-8")
    assert f"<title>{title}</title>" in html and '<html lang="sv">' in html


def test_every_page_carries_its_number_of_the_total(pack):
    pages = _pdf_pages(pack)
    assert len(pages) > 3
    for n, page in enumerate(pages, start=1):
        assert re.search(rf"\b{n} / {len(pages)}\s*$", page.rstrip()), f"page {n} has no number"


def test_the_contents_name_each_section_with_the_page_it_starts_on(pack):
    pages = _pdf_pages(pack)
    first = pages[0]
    assert "Innehåll" in first and "Sammanfattning" in first   # the first page is not left blank
    sections = [report.text(key, "sv") for key in report.YEARLY_SECTIONS]
    html = (pack / f"audit-{YEAR}.html").read_text(encoding="utf-8")
    for title in sections:
        line = re.search(rf"^\s*{re.escape(title)}\s+(\d+)\s*$", first, re.M)
        assert line, f"{title}: not in the contents with a page number"
        page = int(line[1])
        assert re.search(rf"^\s*{re.escape(title)}\s*$", pages[page - 1], re.M), f"{title} is not on page {page}"
        assert f'href="#{report.heading_anchor(title)}"' in html and f'id="{report.heading_anchor(title)}"' in html


def _table_after(html: str, heading_id: str) -> list[list[str]]:
    """The cells (text only) of the first table after the heading with `heading_id`."""
    part = html[html.index(f'id="{heading_id}"'):]
    table = part[:part.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cell_text = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in row] for row in cell_text]


def test_the_failed_quality_checks_are_named_with_what_and_how_many(pack):
    html = (pack / f"audit-{YEAR}.html").read_text(encoding="utf-8")
    rows = _table_after(html, report.heading_anchor("Underkända kontroller"))
    assert rows[0] == ["Kontroll", "Granskat", "Kolumn", "Underkända rader"]
    named = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert len(named) == 7                                   # the sample's seven failed quality checks
    assert re.fullmatch(r"2 av \d+", named["E-postadress ifylld", "CRM-poster (Contact och Lead)", "email_key"])
    assert re.fullmatch(r"2 av \d+", named["E-postadressen är giltigt skriven", "CRM-poster (Contact och Lead)",
                                           "email_key"])
    assert re.fullmatch(r"1 av \d+", named["Datumen går att läsa", "Registret över begäranden",
                                           "has_unreadable_date"])
    assert named["Varje rad i varje inläst fil gick att tolka", "Inlästa filer", "–"].isdigit()
    assert not any("_" in r[0] for r in rows)                # titles, not check names such as blank_email
    pdf = re.sub(r"\s+", " ", "\n".join(_pdf_pages(pack)))
    assert re.search(r"\d+ av \d+ förväntningar underkända, 7 kvalitetskontroller och \d+ regler", pdf)
    assert "E-postadress ifylld" in pdf


def test_the_charts_fit_the_page(pack):
    """The requests chart's last month and the axes are inside the printed page (not cut at its edge)."""
    pages = _pdf_pages(pack)
    chart = next(p for p in pages if "Inkomna begäranden per månad" in p)
    months = [line for line in chart.splitlines() if re.search(r"\bjan\b.*\bnov\b", line)]
    assert months and re.search(r"\bdec\b", months[0])


def test_the_findings_chart_names_rules_by_their_titles():
    rules = pd.DataFrame({"rule": ["dsar.legal_deadline_missed", "optout.not_synced"], "severity": ["high", "medium"],
                          "findings": [3, 4], "items": [3, 4]})
    fig = report.figure_findings_by_rule(rules, dt.date(2026, 11, 24), "sv")
    labels = [label.replace("<br>", " ") for trace in fig.data for label in trace.y]
    assert sorted(labels) == sorted(report.rule_title(r, "sv") for r in rules["rule"])
    assert not any("." in label and "_" in label for label in labels)     # no rule ids
    assert sorted(fig.layout.yaxis.categoryarray) == sorted(label for trace in fig.data for label in trace.y)


def test_the_data_docs_open_offline_without_the_newsletter_or_a_remote_logo(pack):
    pages = list((pack / "data-docs").rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"https?://", html), page
        assert "Subscribe" not in html and "newsletter" not in html, page
        assert ".card-header{" in html          # styled by a stylesheet of its own (no Bootstrap from a CDN)
        logo = re.search(r'<img[^>]*src="([^"]+logo[^"]*)"', html)
        if logo:
            assert (page.parent / logo[1]).is_file(), logo[1]
    index = (pack / "data-docs" / "index.html").read_text(encoding="utf-8")
    assert 'href="validations/' in index        # the results listed without the CDN's table script


def test_the_transfer_reasons_in_the_evidence_start_as_sentences(pack):
    import csv

    with (pack / "evidence" / "subprocessors.csv").open(encoding="utf-8", newline="") as fh:
        reasons = [row["invalid_reason"] for row in csv.DictReader(fh) if row["invalid_reason"]]
    assert reasons and all(not r[0].islower() for r in reasons), reasons
