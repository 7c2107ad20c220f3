"""The text catalogs (insyn.texts, locale/*/LC_MESSAGES/*.po): the languages agree, every message id
the code asks for exists, and a broken catalog is named, never a traceback."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

from insyn import texts
from insyn.errors import InsynError

from helpers import REPO, copy_workbench

LOCALE = texts.locale_dir(REPO)
# The modules whose words are in the catalogs, and the prefixes of the message ids they use.
CODE = [REPO / "dashboards", REPO / "src" / "insyn" / "report.py", REPO / "src" / "insyn" / "auth.py",
        REPO / "src" / "insyn" / "access_report.py"]
MSGID = re.compile(r"(?:dashboard|report|letter|web|value)\.[A-Za-z0-9_.]*[A-Za-z0-9_]")


def _python_files() -> list[Path]:
    return [p for root in CODE for p in ([root] if root.is_file() else sorted(root.rglob("*.py")))]


def literal_ids(path: Path) -> set[str]:
    """Every string constant of a module that is a whole message id, and the fixed start of every
    f-string that builds one (`f"report.month.{m}"` gives "report.month.*")."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and MSGID.fullmatch(node.value) \
                and id(node) not in parts:
            found.add(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            head = str(node.values[0].value)
            if re.fullmatch(r"(?:dashboard|report|letter|web|value)\.[A-Za-z0-9_.]*", head):
                found.add(head + "*")
    return found


@pytest.fixture(scope="module")
def catalogs():
    return {lang: texts.Catalog.load(LOCALE, lang) for lang in texts.LANGUAGES}


def test_swedish_and_english_have_the_same_message_ids_in_every_file():
    assert texts.po_files(LOCALE, "sv") and texts.compare_languages(LOCALE) == []


def test_compare_languages_names_the_file_and_the_missing_id(tmp_path):
    for lang, body in (("sv", 'msgid "a.one"\nmsgstr "ett"\n'), ("en", 'msgid "a.one"\nmsgstr "one"\n\n'
                                                                       'msgid "a.two"\nmsgstr "two"\n')):
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / lang / "LC_MESSAGES" / "x.po").write_text(body, encoding="utf-8")
    (tmp_path / "en" / "LC_MESSAGES" / "only.po").write_text('msgid "b"\nmsgstr "b"\n', encoding="utf-8")
    problems = texts.compare_languages(tmp_path)
    assert any("sv/LC_MESSAGES/x.po" in p and "'a.two'" in p for p in problems), problems
    assert any("sv/LC_MESSAGES/only.po: missing" in p for p in problems), problems
    assert len(problems) == 2


def test_every_message_id_the_code_names_is_in_both_catalogs(catalogs):
    used = set()
    for path in _python_files():
        used |= {(path, msgid) for msgid in literal_ids(path)}
    assert len(used) > 200       # the scan sees the code's ids (a broken pattern would find none)
    for lang, catalog in catalogs.items():
        missing = []
        for path, msgid in sorted(used):
            if msgid.endswith("*"):   # the start of an id built at run time: some message must begin so
                ok = any(m.startswith(msgid[:-1]) for m in catalog.messages)
            else:
                ok = msgid in catalog
            if not ok:
                missing.append(f"{path.relative_to(REPO)}: {msgid}")
        assert not missing, f"{lang}: " + "; ".join(missing)


def test_ids_built_at_run_time_exist(catalogs):
    """The ids the code puts together: pages, severities, deadline statuses, months, formats."""
    import dash  # noqa: F401 - the pages register with Dash

    from insyn.access_report import FORMATS
    from insyn.style import SEVERITIES

    pages = [p.stem for p in (REPO / "dashboards" / "pages").glob("*.py")]
    built = ([f"dashboard.nav.{p}" for p in pages] + [f"report.{s}" for s in SEVERITIES]
             + [f"report.status_{s}" for s in ("met", "missed", "missed_open", "pending")]
             + [f"report.month.{m}" for m in range(1, 13)] + [f"report.month_short.{m}" for m in range(1, 13)]
             + [f"dashboard.people.format.{f}" for f in FORMATS])
    for catalog in catalogs.values():
        assert [m for m in built if m not in catalog] == []


def test_the_letter_template_s_words_are_in_the_catalog(catalogs):
    template = (REPO / "templates" / "access_report.html.j2").read_text(encoding="utf-8")
    names = set(re.findall(r"\bw\.([a-z_]+)", template))
    assert {"subtitle", "intro", "rights_heading", "closing"} <= names
    for catalog in catalogs.values():
        words = catalog.section("letter")
        assert sorted(names - set(words)) == []
        assert isinstance(words["intro"], list) and len(words["intro"]) == 2
        assert {"title", "greeting", "greeting_no_name", "footer", "exported", "yes", "no", "how_to",
                "complaint"} <= set(words)


def test_value_labels_are_one_set_for_the_dashboard_and_the_reports():
    import sys

    sys.path.insert(0, str(REPO))
    from dashboards.components import i18n

    from insyn import report

    for lang in texts.LANGUAGES:
        for value in ("access", "partly_done", "dpf", "salesforce.contact", "high"):
            assert i18n.label(value, lang) == report.label(value, lang) == texts.cached(None, lang)(f"value.{value}")
        assert i18n.label("not-a-known-value", lang) == "not-a-known-value"   # data without words shows as is
    assert report.label("erasure", "sv") == "Radering" and report.label(None, "en") == "–"


def test_one_palette_for_the_dashboard_and_the_reports():
    import sys

    sys.path.insert(0, str(REPO))
    from dashboards.components import figures

    from insyn import report, style

    assert figures.SEVERITY_COLOURS is style.SEVERITY_COLOURS and figures.COLORWAY is style.COLORWAY
    source = (REPO / "src" / "insyn" / "report.py").read_text(encoding="utf-8")
    assert not re.search(r'"#[0-9A-Fa-f]{6}"', source)      # no colour of its own
    assert report.REQUEST_TYPES is style.REQUEST_TYPES


def test_the_pseudo_language_marks_every_english_word_and_keeps_placeholders():
    en = texts.Catalog.load(LOCALE, "en")
    qps = texts.Catalog.load(LOCALE, texts.PSEUDO)
    assert set(qps.messages) == set(en.messages)
    assert qps("report.of", n=1, d=2) == "⟦1 of 2⟧"
    assert all(t.startswith("⟦") and t.endswith("⟧") for t in qps.messages.values())


def test_a_missing_message_is_an_error_naming_the_id(catalogs):
    with pytest.raises(texts.MissingText, match="dashboard.no.such"):
        catalogs["sv"]("dashboard.no.such")


def test_section_reads_nested_and_numbered_messages():
    catalog = texts.Catalog("en", {"l.a": "A", "l.x.2": "second", "l.x.1": "first", "l.t.none": "N", "m.a": "no"})
    assert catalog.section("l") == {"a": "A", "x": ["first", "second"], "t": {"none": "N"}}


BROKEN = 'msgid "letter.title"\nmsgstr "Registerutdrag"\n\nmsgid "letter.subtitle"\nmsgstr "unterminated\n'


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    folder = tmp_path / "sv" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "letter.po").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(InsynError) as caught:
        texts.Catalog.load(tmp_path, "sv")
    assert f"{folder / 'letter.po'}:5: not a valid .po catalog" in caught.value.message
    (folder / "letter.po").write_text('msgid "a"\nmsgstr "x"\nmsgid "b"\n', encoding="utf-8")   # no msgstr
    with pytest.raises(InsynError, match=r"letter\.po:\d+: not a valid \.po catalog"):
        texts.Catalog.load(tmp_path, "sv")
    (folder / "letter.po").write_text('msgid "a"\nmsgstr "x"\n\nmsgid "a"\nmsgstr "y"\n', encoding="utf-8")
    (folder / "other.po").write_text('msgid "b"\nmsgstr "x"\n', encoding="utf-8")
    (folder / "more.po").write_text('msgid "b"\nmsgstr "z"\n', encoding="utf-8")
    with pytest.raises(InsynError, match=r"other\.po: message 'b' already has other words in .*more\.po"):
        texts.Catalog.load(tmp_path, "sv")


def test_a_broken_catalog_stops_the_command_with_exit_2_naming_the_file(demo, tmp_path):
    """`insyn dsar report` on a workbench whose letter.po is broken: exit 2, the file named, no traceback."""
    from insyn.cli import main
    from sample import DEMO_PERSON_EMAIL

    wb, _ = demo
    root, db = copy_workbench(tmp_path / "wb", folders=("pipelines", "expectations", "templates", "locale"),
                              warehouse=wb / "data" / "demo" / "insyn.duckdb")
    broken = texts.locale_dir(root) / "sv" / "LC_MESSAGES" / "letter.po"
    broken.write_text(BROKEN, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), "-q", "dsar", "report", DEMO_PERSON_EMAIL,
                     "--as-of", "2026-11-24", "--format", "html", "--lang", "sv", "--out", str(tmp_path / "r.html")])
    assert code == 2, err.getvalue()
    assert str(broken) in err.getvalue() and "Traceback" not in err.getvalue()
    assert not (tmp_path / "r.html").exists()
    shutil.rmtree(root)


# ---------------------------------------------------------------- placeholders: plain names, filled once


def _with_text(locale: Path, lang: str, file: str, msgid: str, text: str) -> Path:
    """`locale`'s `file` of `lang` with message `msgid` saying `text` (as a translator would write it)."""
    path = locale / lang / "LC_MESSAGES" / file
    body = path.read_text(encoding="utf-8")
    pattern = re.compile(rf'(msgid "{re.escape(msgid)}"\nmsgstr )"(?:[^"\\]|\\.)*"')
    assert pattern.search(body), msgid
    path.write_text(pattern.sub(lambda m: m.group(1) + '"' + text.replace('"', '\\"') + '"', body, count=1),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("text, why", [
    ("Hej {name.__class__.__mro__},", r"\{name\.__class__\.__mro__\} is not a plain \{name\} placeholder"),
    ("Hej {name,", r"a lone '\{'"),
    ("Hej {name!r},", r"\{name!r\} is not a plain \{name\} placeholder"),
    ("Hej }{name},", r"a lone '\}'"),
])
def test_a_translation_that_is_not_a_plain_placeholder_is_refused_when_read(tmp_path, text, why):
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale)
    path = _with_text(locale, "sv", "letter.po", "letter.greeting", text)
    line = path.read_text(encoding="utf-8").splitlines().index('msgid "letter.greeting"') + 1
    with pytest.raises(InsynError, match=rf"{re.escape(str(path))}:{line}: message 'letter\.greeting': {why}"):
        texts.Catalog.load(locale, "sv")


@pytest.mark.parametrize("text", ["Hej {name.__class__.__mro__},", "broken {name"])
def test_a_broken_placeholder_stops_the_command_with_exit_2_naming_file_and_message(demo, tmp_path, text):
    """Not Python's internals in a letter and not a crash (exit 70) at use: exit 2 before anything is written."""
    from insyn.cli import main
    from sample import DEMO_PERSON_EMAIL

    wb, _ = demo
    root, db = copy_workbench(tmp_path / "wb", folders=("pipelines", "expectations", "templates", "locale"),
                              warehouse=wb / "data" / "demo" / "insyn.duckdb")
    broken = _with_text(texts.locale_dir(root), "sv", "letter.po", "letter.greeting", text)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), "-q", "dsar", "report", DEMO_PERSON_EMAIL,
                     "--as-of", "2026-11-24", "--format", "html", "--lang", "sv", "--out", str(tmp_path / "r.html")])
    assert code == 2, err.getvalue()
    assert str(broken) in err.getvalue() and "'letter.greeting'" in err.getvalue()
    assert "Traceback" not in err.getvalue() and "mro" not in out.getvalue()
    assert not (tmp_path / "r.html").exists()
    shutil.rmtree(root)


def test_a_placeholder_named_differently_in_swedish_fails_compare_languages(tmp_path):
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale)
    assert texts.compare_languages(locale) == []
    path = _with_text(locale, "sv", "reports.po", "report.policy_met", "Inom {dayz} dagar")
    problems = texts.compare_languages(locale)
    assert problems == [f"{path}: message 'report.policy_met' has the placeholders {{dayz}}, in en {{days}}"]


def test_braces_doubled_are_one_brace_and_a_missing_value_names_the_message():
    catalog = texts.Catalog("en", {"x.set": "a {{set}} of {n}", "x.plain": "{{literally}}", "x.days": "{days} days"})
    assert catalog("x.set", n=3) == "a {set} of 3"
    assert catalog("x.plain") == "{literally}"
    assert catalog.section("x") == {"set": "a {{set}} of {n}", "plain": "{literally}", "days": "{days} days"}
    assert texts.fill(catalog.section("x")["set"], {"n": 3}) == "a {set} of 3"
    with pytest.raises(texts.MissingText, match=r"message 'x\.days' names \{days\} but is given no such value"):
        catalog("x.days", dayz=3)
    assert catalog.markup("x.set", lambda s: s.upper(), n="<b>3</b>") == "A {SET} OF <b>3</b>"


def test_a_finding_s_detail_is_filled_by_the_safe_formatter():
    from insyn import findings

    catalog = texts.Catalog("en", {"rule.x.detail": "{{{first_text}}} after {first_number} days"})
    row = {"detail_id": "rule.x.detail", "first_text": "{first_number.__class__}", "first_number": 5}
    # a value is put in as it is, never read as a template
    assert findings.detail(row, catalog) == "{{first_number.__class__}} after 5 days"


def test_the_login_page_renders_a_doubled_brace_in_the_token_hint(tmp_path):
    from insyn import auth

    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale)
    for lang in auth.LOGIN_LANGUAGES:
        _with_text(locale, lang, "web.po", "web.login.token_hint", "Run {command} and open {{x}} <here>.")
    words = auth.login_words([texts.Catalog.load(locale, lang) for lang in auth.LOGIN_LANGUAGES])
    page = auth.login_page(words, csrf="c" * 32, token_hint=True)
    assert "Run <code>insyn dashboard</code> and open {x} &lt;here&gt;." in page
    assert "token_hint" not in page


def test_markup_in_a_report_translation_stays_text_in_the_audit_pack():
    """The catalog's words may carry Markdown but never HTML: a translator cannot put script into
    the pack that an auditor opens (values are escaped where they are put in)."""
    from insyn import report
    from insyn.texts import Catalog

    words = Catalog("sv", {"report.yearly_title": "<script>alert(1)</script> **{year}** & co"})
    assert report.text("report.yearly_title", words, year=2026) == \
        "&lt;script&gt;alert(1)&lt;/script&gt; **2026** &amp; co"
