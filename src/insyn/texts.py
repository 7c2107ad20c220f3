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
`Catalog.section`). A text's `{placeholders}` are plain names, filled by `fill` (never
`str.format`: a translation is content, and `{x.__class__}` must not reach Python's
internals); `{{` and `}}` write a brace. Every text's placeholders are checked when its
catalog is read, so a broken one stops Insyn naming the file, line and message.
"""

from __future__ import annotations

import functools
import io
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from babel.messages.pofile import read_po

from .errors import InsynError
from .reference import reference_root

LANGUAGES = ("sv", "en")
PSEUDO = "qps"                 # the pseudo-language: English words, marked
PSEUDO_OPEN, PSEUDO_CLOSE = "⟦", "⟧"
SOURCE_LANGUAGE = "en"         # what the pseudo-language is made from
CHOOSABLE = LANGUAGES + (PSEUDO,)   # what a caller may ask for (the command line offers LANGUAGES)
VALUE_PREFIX = "value."


class MissingText(InsynError):
    """A message id with no words in the catalog, or a placeholder given no value: a content
    error, not a crash."""


# ---------------------------------------------------------------- placeholders

# A brace pair `{{` / `}}`, a field `{…}`, or a brace on its own.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PlaceholderError(ValueError):
    """A text whose braces are not plain `{name}` placeholders or `{{`/`}}`."""


@functools.lru_cache(maxsize=8192)
def parse(text: str) -> tuple[tuple[str, str | None], ...]:
    """`text` as (words, placeholder name) pairs, the last with no name. Only a plain `{name}` is a
    placeholder: no attribute (`.`), index (`[`), conversion (`!r`) or format spec (`:`), as no
    message needs one and a translation must not reach further than the value it is given."""
    pieces, words, pos = [], [], 0
    for match in _TOKEN.finditer(text):
        words.append(text[pos:match.start()])
        pos = match.end()
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            words.append(token[0])
        elif name is None:
            raise PlaceholderError(f"a lone {token!r} at character {match.start() + 1} "
                                   f"(write {token * 2} for the brace itself)")
        elif not _NAME.fullmatch(name):
            raise PlaceholderError(f"{token} is not a plain {{name}} placeholder (a name of letters, digits "
                                   "and _; no '.', '[', '!' or ':')")
        else:
            pieces.append(("".join(words), name))
            words = []
    words.append(text[pos:])
    pieces.append(("".join(words), None))
    return tuple(pieces)


def placeholders(text: str) -> set[str]:
    """The placeholder names of `text` (a PlaceholderError when its braces are broken)."""
    return {name for _, name in parse(text) if name is not None}


def fill(text: str, values: Mapping | None = None, *, msgid: str = "",
         escape: Callable[[str], str] | None = None) -> str:
    """`text` with each `{name}` replaced by `values[name]` (None as nothing) and `{{`/`}}` as one
    brace: the one way catalog text is filled. `escape`, when given, is applied to the text's own
    words and not to the values (a page's markup goes in as it is). A placeholder with no value
    is a MissingText naming the message."""
    values = values or {}
    try:
        pieces = parse(text)
    except PlaceholderError as exc:
        raise InsynError(f"message {msgid!r}: {exc}") from None
    out = []
    for words, name in pieces:
        out.append(escape(words) if escape is not None else words)
        if name is None:
            continue
        if name not in values:
            raise MissingText(f"message {msgid!r} names {{{name}}} but is given no such value "
                              f"(given: {', '.join(sorted(values)) or 'none'}); the placeholders of a "
                              "message are the same in every language")
        value = values[name]
        out.append("" if value is None else str(value))
    return "".join(out)


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
            try:
                parse(message.string)
            except PlaceholderError as exc:   # a broken text stops the reading, not a page later
                where = f"{path}:{message.lineno}" if isinstance(message.lineno, int) else str(path)
                raise InsynError(f"{where}: message {message.id!r}: {exc}") from None
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

    def _text(self, msgid: str) -> str:
        try:
            return self.messages[msgid]
        except KeyError:
            raise MissingText(f"no {self.lang!r} text for message {msgid!r} (add it to a .po file under "
                              f"locale/{self.lang}/LC_MESSAGES/)") from None

    def __call__(self, msgid: str, /, **values) -> str:
        return fill(self._text(msgid), values, msgid=msgid)

    def markup(self, msgid: str, escape: Callable[[str], str], /, **markup) -> str:
        """The message with its own words through `escape` (html.escape) and its placeholders
        filled with `markup` as given: a page puts its `<code>` in once, unescaped."""
        return fill(self._text(msgid), markup, msgid=msgid, escape=escape)

    def value(self, value, missing: str = "") -> str:
        """A value the data carries (`access`, `open`, `high`, `dpf`) in words: `value.<value>`
        in the catalog, else the value as it is (a value nobody named stays readable);
        `missing` for None/NaN."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("NaT", "<NA>"):
            return missing
        msgid = VALUE_PREFIX + str(value)
        return self(msgid) if msgid in self.messages else str(value)

    def section(self, prefix: str) -> dict:
        """Every `prefix.name` message as {name: text}: `prefix.a.b` as {a: {b: text}}, and numbered
        ones (`prefix.intro.1`, `.2`, …) as {intro: [text, …]} in their order. The access letter's
        template reads its words so. A text without placeholders comes filled (`{{` as `{`); one
        with placeholders as a `Template`, for its reader to `fill` (filled once, never twice)."""
        out: dict = {}
        numbered: dict[tuple, dict[int, str]] = {}
        start = prefix + "."
        for msgid, text in self.messages.items():
            if not msgid.startswith(start):
                continue
            text = Template(text) if placeholders(text) else fill(text, msgid=msgid)
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


class Template(str):
    """A catalog text with placeholders, as `Catalog.section` gives it: still to be filled."""


def pseudo(text: str) -> str:
    """Mark a catalog text; `{placeholders}` stay as they are so formatting still works."""
    return f"{PSEUDO_OPEN}{text}{PSEUDO_CLOSE}"


def number_language(lang: str) -> str:
    """The language whose number and date conventions apply (the pseudo-language writes English ones)."""
    return lang if lang in LANGUAGES else SOURCE_LANGUAGE


LOCALE_FOLDER = "locale"


def locale_dir(workbench_root: Path) -> Path:
    """Where a workbench keeps its catalogs: `<workbench>/locale/`."""
    return Path(workbench_root) / LOCALE_FOLDER


def reference_locale() -> Path:
    """The catalogs of the reference workbench this package comes with (package data in a wheel,
    else the clone): the default where no workbench is named (a report made from Python, a figure
    in a test)."""
    return locale_dir(reference_root())


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
    """Problems: a .po file one language has and another lacks, a message id in one language's
    file missing from the same file of another, or a message whose placeholders differ between
    languages (a `{dayz}` would only fail when the text is used). Empty when the languages agree."""
    problems = []
    names = {lang: {p.name: p for p in po_files(locale, lang)} for lang in languages}
    every = sorted(set().union(*names.values()))
    for name in every:
        texts = {}
        for lang in languages:
            path = names[lang].get(name)
            if path is None:
                problems.append(f"{locale / lang / 'LC_MESSAGES' / name}: missing ({name} exists in another language)")
                continue
            texts[lang] = _read(path)
        for lang, mine in texts.items():
            for other, theirs in texts.items():
                for msgid in sorted(set(theirs) - set(mine)):
                    problems.append(f"{names[lang][name]}: no message {msgid!r} (it is in {other})")
        # the placeholders are the source language's; a translation that differs is named
        source = SOURCE_LANGUAGE if SOURCE_LANGUAGE in texts else next(iter(texts), None)
        for lang in texts:
            for msgid in sorted(set(texts[source]) & set(texts[lang])) if lang != source else ():
                want, have = placeholders(texts[source][msgid]), placeholders(texts[lang][msgid])
                if want != have:
                    problems.append(f"{names[lang][name]}: message {msgid!r} has the placeholders "
                                    f"{_braced(have)}, in {source} {_braced(want)}")
    return problems


def _braced(names: set[str]) -> str:
    return ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"


def workbench_locale(workbench_root: Path) -> Path:
    """A workbench's catalogs; a workbench made before it had a locale/ folder reads the reference ones."""
    folder = locale_dir(workbench_root)
    return folder if folder.is_dir() else reference_locale()
