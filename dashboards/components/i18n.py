"""The dashboard's words, from the workbench's gettext catalogs (locale/*/LC_MESSAGES/dashboard.po
and values.po; insyn.texts reads them).

``t("dashboard.nav.requests", lang)`` is a text by its message id; ``label(value, lang)``
a value the data carries (request types, statuses, severities, transfer mechanisms) by
its ``value.<value>`` message, else the value as it is. A message missing in a language
shows in English, else as its id: never an error on a page (the pseudo-language test
and tests/test_texts.py find it). A text's ``{n}`` is filled here: ``t(msgid, lang, n=3)``
(insyn.texts.fill, never ``str.format`` on catalog text).

The catalogs are the workbench's: ``create_app`` calls ``configure`` with its locale folder.
"""

from __future__ import annotations

from pathlib import Path

from insyn import texts

SHOWN = texts.LANGUAGES          # the languages the switch offers
LANGUAGES = texts.CHOOSABLE      # the languages a page may be asked for (the pseudo-language too)
OFFERED = "insyn.languages"      # app.server.extensions: the languages this app's switch offers
EXTENSION = "insyn.texts"        # the app's locale folder on its Flask server

_last: dict = {}                 # the last configured: for figures and pages called outside a request


def configure(server, locale_dir: Path | None) -> None:
    """Read this app's words from `locale_dir` (None: the reference workbench's catalogs)."""
    folder = Path(locale_dir) if locale_dir is not None else texts.reference_locale()
    server.extensions[EXTENSION] = folder
    _last["locale"] = folder


def _locale() -> Path:
    import flask

    if flask.has_app_context():
        folder = flask.current_app.extensions.get(EXTENSION)
        if folder is not None:
            return folder
    return _last.get("locale") or texts.reference_locale()


def catalog(lang: str) -> texts.Catalog:
    return texts.cached(_locale(), lang if lang in LANGUAGES else texts.SOURCE_LANGUAGE)


def t(msgid: str, lang: str, **values) -> str:
    """The words of message `msgid` in `lang` with `values` in its placeholders; English when that
    language lacks it, else the id itself."""
    words = catalog(lang)
    if msgid in words:
        return words(msgid, **values)
    english = catalog(texts.SOURCE_LANGUAGE)
    return english(msgid, **values) if msgid in english else msgid


def in_language(frame, lang: str, column: str = "detail"):
    """Findings (or a deletion list) with their `detail` in the page's language, from each row's
    detail_id and facts (insyn.findings.detail); a frame without facts as it is."""
    from insyn import findings

    if frame.empty or "detail_id" not in frame.columns:
        return frame
    words = catalog(lang)
    return frame.assign(**{column: [findings.detail(row, words) for row in frame.to_dict("records")]})


def reasons_in(frame, lang: str, column: str = "invalid_reason"):
    """A column of reasons in English words (dim_subprocessors.invalid_reason) in the page's language."""
    from insyn import findings

    if frame.empty or column not in frame.columns:
        return frame
    words = catalog(lang)
    return frame.assign(**{column: [findings.reason(v, words) or None for v in frame[column]]})


def label(value, lang: str) -> str:
    """A value of the data (`access`, `open`, `high`, `dpf`) in words; a value without words as it is."""
    return catalog(lang).value(value)


def suite_label(suite, lang: str) -> str:
    """A check suite by its name (report.suite.<suite>, the audit pack's words), else as a value."""
    key = f"report.suite.{suite}"
    return t(key, lang) if key in catalog(lang) else label(suite, lang)


def check_title(suite, check, description, lang: str) -> str:
    """A check in words: a rule's title (compliance), else the audit pack's report.check.<name>,
    else the suite's own description, else its name."""
    from insyn.findings import title_id

    words = catalog(lang)
    for key in ((title_id(check),) if suite == "compliance" else ()) + (f"report.check.{check}",):
        if key in words:
            return words(key)
    return description if isinstance(description, str) and description else str(check)


def source_label(kind, lang: str) -> str:
    """A source kind ("salesforce.contact", "mailchimp.subscribed") by its name in words: the name
    sources.toml gives it (a message of sources.po), else its `source.<kind>` message, else as a value."""
    from dashboards import data

    if kind is None or not isinstance(kind, str):
        return label(kind, lang)
    words = catalog(lang)
    try:
        report = data.sources()[kind].report
    except (KeyError, LookupError):
        report = None
    for msgid in ((report.name,) if report is not None else ()) + (f"source.{kind}",):
        if msgid in words:
            return words(msgid)
    return label(kind, lang)
