"""Normalisation shared by every rule, the same in Python and SQL.

The SQL twins are the macros in pipelines/macros.sql; tests check that both
agree character by character.
"""

from __future__ import annotations

import re

# Every character for which str.isspace() is true: what "trim" removes at both
# ends (non-breaking spaces included). pipelines/macros.sql uses the same set.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_INNER_WS = re.compile("[" + re.escape(WHITESPACE) + "]+")


def trim(value: str | None) -> str | None:
    """Remove all Unicode white space at both ends."""
    if value is None:
        return None
    return value.strip(WHITESPACE)


def email_key(value: str | None) -> str | None:
    """The e-mail identity: trimmed, lower-cased; blank means no e-mail."""
    trimmed = trim(value)
    return trimmed.lower() if trimmed else None


def sfid15(value: str | None) -> str | None:
    """The case-sensitive 15-character form of a Salesforce id (18 → 15)."""
    trimmed = trim(value)
    return trimmed[:15] if trimmed else None


def squish(value: str | None) -> str | None:
    """Inner white space collapsed to one space, trimmed, lower-cased."""
    trimmed = trim(value)
    if trimmed is None:
        return None
    return _INNER_WS.sub(" ", trimmed).lower()


_NON_WORD = re.compile(r"[^\w]+")


def column_key(header: str) -> str:
    """A header cell as a column name: lower-cased, other characters as "_"."""
    key = _NON_WORD.sub("_", trim(header.lstrip("\ufeff")) or "").strip("_").lower()
    return key


# Characters that reorder what follows them on screen (Unicode bidi embeddings, overrides and
# isolates, and the marks): "\u202eek.lnkpets@dehlundr" would read as another address. Where Insyn
# shows or writes a value for a person, each is replaced by its visible name.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def show_controls(value: str) -> str:
    """`value` with each bidi control character written out as <U+XXXX>."""
    return _BIDI_CONTROLS.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", value)
