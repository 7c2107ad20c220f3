"""The access letter (GDPR art. 15) states only what is so, in full, in words a person can read.

On a private copy of the demo warehouse, with the sample's demo person (who is in every source):
each recipient's transfer is stated from the sub-processor register as it stands at as-of (the
mechanism recorded, the assessment's date or that none is recorded, the certification's end), never
a safeguard the register does not hold; the letter has art. 15(1)(h) (automated decisions and
profiling, from policy.toml), the right to data portability and the right to object to direct
marketing; and its visible text holds no column name of any source kind, no English status in the
Swedish letter, and no value split across lines in the PDF.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser

import duckdb
import pytest

from insyn import texts
from insyn.cli import main
from insyn.sources import Sources
from insyn.text import column_key
from sample import DEMO_PERSON_EMAIL

from helpers import REPO, copy_workbench, write

AS_OF = "2026-11-24"
FOLDERS = ("pipelines", "expectations", "templates", "locale")
REGISTER_HEADER = "name,country_iso2,role,transfer_mechanism,dpf_certified_until,tia_on,dpa_on\n"


@pytest.fixture
def bench(demo, tmp_path):
    """A private workbench (its own catalogs) on a copy of the demo warehouse; run(*args) -> (code, out, err)."""
    wb, _ = demo
    root, db = copy_workbench(tmp_path / "wb", folders=FOLDERS, warehouse=wb / "data" / "demo" / "insyn.duckdb")

    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--workbench", str(root), "--db", str(db), "-q", *map(str, args)])
        return code, out.getvalue(), err.getvalue()

    run.root, run.db = root, db
    return run


def letter(bench, tmp_path, lang: str = "sv", fmt: str = "html"):
    out = tmp_path / f"letter-{lang}.{fmt}"
    code, printed, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--lang", lang,
                               "--format", fmt, "--out", out)
    assert code == 0, err
    return out, printed


class Visible(HTMLParser):
    """The letter's visible text: every text node of the body, with whether it is inside an
    element marked data-value (a value of the data, not a word of the letter), and each table
    cell's text as a whole."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.nodes: list[tuple[str, bool]] = []
        self.cells: list[tuple[str, str, bool]] = []    # (class, text, data-value)
        self._cell: list[str] | None = None
        self._cell_attrs: tuple[str, bool] = ("", False)
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        inside = (self.stack[-1][1] if self.stack else False) or "data-value" in attrs
        if tag in ("meta", "br", "link"):
            return
        self.stack.append((tag, inside))
        if tag in ("style", "head", "title", "script"):
            self.hidden += 1
        if tag in ("td", "th"):
            self._cell, self._cell_attrs = [], (attrs.get("class") or "", inside)

    def handle_endtag(self, tag):
        while self.stack:
            name, _ = self.stack.pop()
            if name in ("style", "head", "title", "script"):
                self.hidden -= 1
            if name in ("td", "th") and self._cell is not None:
                self.cells.append((self._cell_attrs[0], " ".join("".join(self._cell).split()), self._cell_attrs[1]))
                self._cell = None
            if name == tag:
                break

    def handle_data(self, data):
        if self.hidden or not data.strip():
            return
        self.nodes.append((data, self.stack[-1][1] if self.stack else False))
        if self._cell is not None:
            self._cell.append(data)


def visible(html: str) -> Visible:
    parser = Visible()
    parser.feed(html)
    return parser


def column_names(db) -> set[str]:
    """Every column of every source kind: as sources.toml declares them, and as the raw tables hold them."""
    sources = Sources.load(REPO / "pipelines" / "sources.toml")
    names = set()
    for kind in sources.kinds.values():
        for group in (kind.required, kind.any_of, kind.signature, kind.columns, kind.timestamps, kind.loader_columns,
                      kind.person_email, kind.person_ids, kind.person_text):
            names.update(column_key(c) for c in group)
        if kind.report:
            names.update(column_key(f) for f, _ in kind.report.fields)
            names.update(kind.report.hide)
    con = duckdb.connect(str(db), read_only=True)
    try:
        names.update(c for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'raw'").fetchall())
    finally:
        con.close()
    return {n.strip("_") for n in names if n.strip("_")}


def catalog_words(lang: str) -> set[str]:
    """Every word the language's catalogs hold: a label that is one is the letter's own word."""
    catalog = texts.Catalog.load(REPO / "locale", lang)
    return {w.casefold() for text in catalog.messages.values() for w in re.findall(r"[\w-]+", text)}


def tokens(text: str) -> list[str]:
    return [t.casefold() for t in re.findall(r"[A-Za-z0-9_ÅÄÖåäö-]+", text)]


# ---------------------------------------------------------------- 1. transfers from the register


def test_transfers_state_what_the_register_records_and_no_safeguard_it_does_not(bench, tmp_path):
    register = write(tmp_path / "inbox" / "subprocessors.csv", REGISTER_HEADER +
                     "Acme Mail Inc,US,Nyhetsbrev (ESP),scc_2021,,,2024-01-10\n"       # no assessment
                     "Certly LLC,US,E-postkö (ESP),dpf,2026-09-30,,2024-01-10\n"       # certification lapsed
                     "Assessed Mail Inc,US,Nyhetsbrev (ESP),scc_2021,,2026-01-15,2024-01-10\n"
                     "Later Mail Inc,US,Nyhetsbrev (ESP),scc_2021,,2026-12-01,2024-01-10\n"  # assessed after as-of
                     "Current Mail LLC,US,Nyhetsbrev (ESP),dpf,2027-06-30,,2024-01-10\n"
                     "Nordic Mail AB,SE,Nyhetsbrev (ESP),none,,,2024-01-10\n"
                     "Odd Mail Inc,US,Nyhetsbrev (ESP),standard_contractual_clauses,,,2024-01-10\n")
    code, _, err = bench("load", register, "--exported-at", "2026-11-20")
    assert code == 0, err
    out, printed = letter(bench, tmp_path)
    words = texts.Catalog.load(REPO / "locale", "sv")
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", out.read_text(encoding="utf-8"), re.S):
        found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if len(found) == 4:
            cells[re.sub(r"<[^>]+>", "", found[0]).strip()] = " ".join(re.sub(r"<[^>]+>", "", found[3]).split())
    scc = words("letter.transfer.recorded", mechanism=words("letter.transfer.name.scc_2021"))
    dpf = words("letter.transfer.recorded", mechanism=words("letter.transfer.name.dpf"))
    assert cells["Acme Mail Inc"] == f"{scc} {words('letter.transfer.no_tia')}"
    assert cells["Certly LLC"] == f"{dpf} {words('letter.transfer.certification_ended', date='2026-09-30')}"
    assert cells["Assessed Mail Inc"] == f"{scc} {words('letter.transfer.tia_on', date='2026-01-15')}"
    assert cells["Later Mail Inc"] == f"{scc} {words('letter.transfer.no_tia')}"     # not made yet at as-of
    assert cells["Current Mail LLC"] == f"{dpf} {words('letter.transfer.certified_until', date='2027-06-30')}"
    assert cells["Nordic Mail AB"] == words("letter.transfer.within_eea")
    # a code the policy does not list is quoted as recorded, never named as a safeguard
    assert cells["Odd Mail Inc"] == words("letter.transfer.unclassified", mechanism="standard_contractual_clauses")
    assert "Ingen konsekvensbedömning" in cells["Acme Mail Inc"] and "upphörde 2026-09-30" in cells["Certly LLC"]
    for name in ("Acme Mail Inc", "Certly LLC", "Later Mail Inc", "Odd Mail Inc"):     # no safeguard the register does not hold
        for claim in ("med konsekvensbedömning", "certifierad mottagare", "gjord", "gäller till", "ser nu över"):
            assert claim not in cells[name], (name, claim)
    # the DPO is told which statements rest on a transfer Insyn finds invalid (transfer.invalid_mechanism)
    notes = [line for line in printed.splitlines() if "transfer.invalid_mechanism" in line]
    assert {n for n in cells if any(n in line for line in notes)} == {"Acme Mail Inc", "Certly LLC", "Later Mail Inc",
                                                                          "Odd Mail Inc"}


def test_the_english_letter_states_the_same_facts(bench, tmp_path):
    out, _ = letter(bench, tmp_path, "en")
    text = " ".join(t for t, _ in visible(out.read_text(encoding="utf-8")).nodes)
    text = " ".join(text.split())
    # the sample's register: Mailchimp on the 2021 SCCs without an assessment, SendGrid's DPF lapsed on 2026-10-31
    assert "EU standard contractual clauses (2021/914). No transfer impact assessment is recorded." in text
    assert "certification ended on 2026-10-31" in text
    assert "with a transfer impact assessment" not in text and "certified recipient" not in text
    assert "We are reviewing" not in text


# ---------------------------------------------------------------- 2. art. 15 in full


def test_letter_has_automated_decisions_profiling_portability_and_the_objection_to_marketing(bench, tmp_path):
    out, _ = letter(bench, tmp_path)
    html = out.read_text(encoding="utf-8")
    text = " ".join(" ".join(t for t, _ in visible(html).nodes).split())
    words = texts.Catalog.load(REPO / "locale", "sv")
    for msgid in ("letter.automated.none", "letter.profiling.member_rating", "letter.profiling.open_tracking",
                  "letter.direct_marketing", "letter.complaint_heading"):
        assert " ".join(words(msgid).split()) in text, msgid
    assert "(artikel 20)" in text and "artikel 21.2 och 21.3" in text
    assert re.search(r'<p class="notice" id="direct-marketing">', html)   # art. 21(4): separately, clearly


def test_an_automated_decision_the_policy_names_without_words_is_exit_2(bench, tmp_path):
    policy = bench.root / "policy.toml"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "automated_decisions = []", 'automated_decisions = ["credit_check"]'), encoding="utf-8")
    code, _, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--out", tmp_path / "x.html")
    assert code == 2 and "policy.toml" in err and "access_report.automated_decisions" in err
    assert "letter.automated_decision.credit_check" in err and "Traceback" not in err


# ---------------------------------------------------------------- 3. a letter a person can read


def test_no_column_name_of_any_source_kind_in_either_letter(bench, tmp_path):
    columns = column_names(bench.db)
    assert {"hasoptedoutoffax", "confirm_time", "optin_ip", "gmtoff", "request_id"} <= columns   # read, not listed
    for lang in ("sv", "en"):
        out, _ = letter(bench, tmp_path, lang)
        page = visible(out.read_text(encoding="utf-8"))
        own = catalog_words(lang)
        # the letter's own words (labels, headings): a column name there is a raw field name
        raw_labels = {t for text, data in page.nodes if not data for t in tokens(text) if t in columns and t not in own}
        assert not raw_labels, (lang, raw_labels)
        # a value that is itself a column name (a history row's changed field) is shown by its label
        raw_values = {text for _, text, data in page.cells if data and text.casefold() in columns
                      and text.casefold() not in own}
        assert not raw_values, (lang, raw_values)


def test_the_swedish_letter_has_no_english_status(bench, tmp_path):
    # the statuses of the sources the letter shows (a status, an event, a role in a deal), as exported
    reported = [k.table for k in Sources.load(REPO / "pipelines" / "sources.toml").reported()]
    con = duckdb.connect(str(bench.db), read_only=True)
    try:
        statuses = set()
        for table, column in con.execute(
                "select table_name, column_name from duckdb_columns() where schema_name = 'raw' "
                "and table_name in (select unnest($tables)) "
                "and column_name in ('status', '_status', 'event', 'role', 'stagename')",
                {"tables": reported}).fetchall():
            statuses.update(v for (v,) in con.execute(f'select distinct "{column}" from raw."{table}"').fetchall()
                            if v and re.search(r"[A-Za-z]", v))
    finally:
        con.close()
    assert {"Responded", "Completed", "open", "delivered", "subscribed"} <= statuses
    out, _ = letter(bench, tmp_path, "sv")
    page = visible(out.read_text(encoding="utf-8"))
    shown = {text for _, text, _ in page.cells}
    assert not shown & statuses, shown & statuses
    assert {"Svarade", "Utförd", "Öppnat", "Levererat", "Prenumererar"} <= shown


def test_every_table_has_its_header_in_a_thead(bench, tmp_path):
    out, _ = letter(bench, tmp_path)
    html = out.read_text(encoding="utf-8")
    assert re.search(r"thead\s*\{[^}]*display:\s*table-header-group", html)
    for table in re.findall(r"<table[^>]*>(.*?)</table>", html, re.S):
        if "<th" in table:
            assert re.match(r"\s*<thead>", table), table[:120]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_pdf_keeps_each_value_on_one_line_and_shows_no_column_name(bench, tmp_path):
    html, _ = letter(bench, tmp_path, "sv", "html")
    page = visible(html.read_text(encoding="utf-8"))
    addresses = {t for _, t, _ in page.cells if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", t)}
    assert addresses
    pdf, _ = letter(bench, tmp_path, "sv", "pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for address in addresses:                      # the web log's and the sign-up's IP address
        assert re.search(rf"(?<![\d.]){re.escape(address)}(?![\d.])", text), address
    for date in set(re.findall(r"\d{4}-\d\d-\d\d", " ".join(t for t, _ in page.nodes))):
        assert date in text, date
    data = {t for value, is_data in page.nodes if is_data for t in tokens(value)}
    raw = {t for t in tokens(text) if t in column_names(bench.db) and t not in catalog_words("sv") and t not in data}
    assert not raw, raw


def test_a_column_nobody_named_is_left_out_of_the_letter_and_the_dpo_told(bench, tmp_path):
    export = write(tmp_path / "inbox" / "subscribed_members_export.csv",
                   "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,LEID,EUID,Nps Score\n"
                   f"{DEMO_PERSON_EMAIL},Åsa,Öhrström,4,2025-09-16 13:12:18,40518273,7c2e91b04f,kanske-senare\n")
    code, _, err = bench("load", export, "--source", "mailchimp.subscribed", "--exported-at", "2026-11-24")
    assert code == 0, err
    out, printed = letter(bench, tmp_path)
    html = out.read_text(encoding="utf-8")
    page = " ".join(t for t, _ in visible(html).nodes)
    assert "nps_score" not in page.casefold() and "nps score" not in page.casefold() and "kanske-senare" not in page
    words = texts.Catalog.load(REPO / "locale", "sv")
    assert words("letter.hidden_fields", count=1) in " ".join(page.split())
    assert "mailchimp.audience: 1 field(s) without a label" in printed and "nps_score" in printed
    copy = tmp_path / "copy.json"
    assert bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", AS_OF, "--format", "json", "--out", copy)[0] == 0
    assert "kanske-senare" in copy.read_text(encoding="utf-8")          # the machine-readable copy keeps it


def test_no_register_at_as_of_is_not_no_recipients_and_the_dpo_is_told(bench, tmp_path):
    # the sample's register was exported on 2026-11-01: on 2026-10-31 there is none
    out = tmp_path / "early.html"
    code, printed, err = bench("dsar", "report", DEMO_PERSON_EMAIL, "--as-of", "2026-10-31", "--out", out,
                               "--identity-verified-by", "Test DPO")
    assert code == 0, err
    assert "no sub-processor register export on or before 2026-10-31" in printed
    words = texts.Catalog.load(REPO / "locale", "sv")
    html = out.read_text(encoding="utf-8")
    assert " ".join(words("letter.no_recipients").split()) not in html
