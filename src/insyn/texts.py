"""Every word a person reads, from the workbench's gettext catalogs.

The catalogs are content: `<workbench>/locale/<lang>/LC_MESSAGES/*.po` (Babel
reads them; translators' tools such as Poedit open them). Every `.po` file of a
language is merged, so a new source kind can bring its own (`hubspot.po`).
Message ids are symbolic (`access.category.crm`); the English catalog holds the
English words. The pseudo-language `PSEUDO` marks every catalog word, so a
test can find any visible word that did not come from the catalog.

Three kinds of message: words (`dashboard.nav.requests`), a value the data
carries (`value.<value>`: request types, statuses, severities, transfer
mechanisms; one place for the dashboard and the reports), and numbered
paragraphs (`letter.intro.1`, `letter.intro.2`, … read as one list by
`Catalog.section`). `{placeholders}` are filled with `str.format`.
"""

from __future__ import annotations

import io
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from .errors import InsynError

LANGUAGES = ("sv", "en")
PSEUDO = "qps"                 # the pseudo-language: English words, marked
PSEUDO_OPEN, PSEUDO_CLOSE = "⟦", "⟧"
SOURCE_LANGUAGE = "en"         # what the pseudo-language is made from
CHOOSABLE = LANGUAGES + (PSEUDO,)   # what a caller may ask for (the command line offers LANGUAGES)
VALUE_PREFIX = "value."


class MissingText(InsynError):
    """A message id with no words in the catalog: a content error, not a crash."""


# What a line of a .po file may be: a comment, a keyword with one quoted string, or a quoted
# continuation. Babel reads an unterminated string or a bare word without a complaint (and the
# words come out cut short), so each line is checked first.
_PO_LINE = re.compile(r'\s*(?:#.*|(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(?:[^"\\]|\\.)*"'
                      r'|"(?:[^"\\]|\\.)*")?\s*')


def _check_lines(path: Path, data: bytes) -> None:
    try:
        lines = data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InsynError(f"{path}: not UTF-8 (byte {exc.start})") from None
    for number, line in enumerate(lines, 1):
        if not _PO_LINE.fullmatch(line):
            raise InsynError(f"{path}:{number}: not a valid .po catalog (expected msgid \"…\", msgstr \"…\", "
                             "a quoted continuation or a # comment; a quote may be missing)")


def _read(path: Path) -> dict[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InsynError(f"{path}: cannot read ({exc.strerror})") from None
    _check_lines(path, data)
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except Exception as exc:   # babel's PoFileError and friends: name the file (and line when known)
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line + 1}" if isinstance(line, int) else str(path)
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InsynError(f"{where}: not a valid .po catalog ({why})") from None
    out = {}
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string:
            out[message.id] = message.string
    return out


def read_file(path: Path) -> dict[str, str]:
    """The messages of one .po file (a syntax error names the file and line)."""
    return _read(path)


def po_files(locale_dir: Path, lang: str) -> list[Path]:
    return sorted((locale_dir / lang / "LC_MESSAGES").glob("*.po"))


def read_catalog(locale_dir: Path, lang: str) -> dict[str, str]:
    """Every message of `lang`, merged from all its .po files; one id, one text."""
    merged: dict[str, str] = {}
    where: dict[str, Path] = {}
    for path in po_files(locale_dir, lang):
        for msgid, text in _read(path).items():
            if msgid in merged and merged[msgid] != text:
                raise InsynError(f"{path}: message {msgid!r} already has other words in {where[msgid]}")
            merged[msgid], where[msgid] = text, path
    return merged


@dataclass(frozen=True)
class Catalog:
    """The words of one language: `texts("access.category.crm")`, `texts("x.days", days=3)`."""

    lang: str
    messages: dict[str, str]

    @classmethod
    def load(cls, locale_dir: Path, lang: str) -> "Catalog":
        if lang == PSEUDO:
            source = read_catalog(locale_dir, SOURCE_LANGUAGE)
            return cls(lang, {k: pseudo(v) for k, v in source.items()})
        if lang not in LANGUAGES:
            raise InsynError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
        return cls(lang, read_catalog(locale_dir, lang))

    def __contains__(self, msgid: str) -> bool:
        return msgid in self.messages

    def __call__(self, msgid: str, **values) -> str:
        try:
            text = self.messages[msgid]
        except KeyError:
            raise MissingText(f"no {self.lang!r} text for message {msgid!r} (add it to a .po file under "
                              f"locale/{self.lang}/LC_MESSAGES/)") from None
        return text.format(**values) if values else text

    def value(self, value, missing: str = "") -> str:
        """A value the data carries (`access`, `open`, `high`, `dpf`) in words: `value.<value>`
        in the catalog, else the value as it is (a value nobody named stays readable);
        `missing` for None/NaN."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("NaT", "<NA>"):
            return missing
        msgid = VALUE_PREFIX + str(value)
        return self.messages[msgid] if msgid in self.messages else str(value)

    def section(self, prefix: str) -> dict:
        """Every `prefix.name` message as {name: text}: `prefix.a.b` as {a: {b: text}}, and numbered
        ones (`prefix.intro.1`, `.2`, …) as {intro: [text, …]} in their order. The access letter's
        template reads its words so."""
        out: dict = {}
        numbered: dict[tuple, dict[int, str]] = {}
        start = prefix + "."
        for msgid, text in self.messages.items():
            if not msgid.startswith(start):
                continue
            *path, last = msgid[len(start):].split(".")
            if path and last.isdigit():
                numbered.setdefault(tuple(path), {})[int(last)] = text
                continue
            table = out
            for part in path:
                table = table.setdefault(part, {})
            table[last] = text
        for path, parts in numbered.items():
            table = out
            for part in path[:-1]:
                table = table.setdefault(part, {})
            table[path[-1]] = [parts[i] for i in sorted(parts)]
        return out


def pseudo(text: str) -> str:
    """Mark a catalog text; `{placeholders}` stay as they are so formatting still works."""
    return f"{PSEUDO_OPEN}{text}{PSEUDO_CLOSE}"


def number_language(lang: str) -> str:
    """The language whose number and date conventions apply (the pseudo-language writes English ones)."""
    return lang if lang in LANGUAGES else SOURCE_LANGUAGE


LOCALE_FOLDER = "locale"
# The reference workbench this package comes with: its catalogs are the default where no
# workbench is named (a report made from Python, a figure in a test).
REFERENCE_WORKBENCH = Path(__file__).resolve().parents[2]


def locale_dir(workbench_root: Path) -> Path:
    """Where a workbench keeps its catalogs: `<workbench>/locale/`."""
    return Path(workbench_root) / LOCALE_FOLDER


def reference_locale() -> Path:
    return locale_dir(REFERENCE_WORKBENCH)


_cache: dict[tuple[str, str], tuple[tuple, Catalog]] = {}
_cache_lock = threading.Lock()


def cached(locale: Path | None, lang: str) -> Catalog:
    """`Catalog.load`, kept while no .po file of the language changes (a page asks for words
    hundreds of times a second; a translator's edit shows at the next request)."""
    locale = Path(locale) if locale is not None else reference_locale()
    source = SOURCE_LANGUAGE if lang == PSEUDO else lang
    files = po_files(locale, source)
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key = (str(locale), lang)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    catalog = Catalog.load(locale, lang)
    with _cache_lock:
        _cache[key] = (stamp, catalog)
    return catalog


def compare_languages(locale: Path, languages=LANGUAGES) -> list[str]:
    """Problems: a .po file one language has and another lacks, or a message id in one language's
    file missing from the same file of another. Empty when the languages agree."""
    problems = []
    names = {lang: {p.name: p for p in po_files(locale, lang)} for lang in languages}
    every = sorted(set().union(*names.values()))
    for name in every:
        ids = {}
        for lang in languages:
            path = names[lang].get(name)
            if path is None:
                problems.append(f"{locale / lang / 'LC_MESSAGES' / name}: missing ({name} exists in another language)")
                continue
            ids[lang] = set(_read(path))
        for lang, mine in ids.items():
            for other, theirs in ids.items():
                for msgid in sorted(theirs - mine):
                    problems.append(f"{names[lang][name]}: no message {msgid!r} (it is in {other})")
    return problems


def workbench_locale(workbench_root: Path) -> Path:
    """A workbench's catalogs; a workbench made before it had a locale/ folder reads the reference ones."""
    folder = locale_dir(workbench_root)
    return folder if folder.is_dir() else reference_locale()
