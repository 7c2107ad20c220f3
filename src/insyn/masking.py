"""Personal values abbreviated for whatever leaves the company or reaches a viewer: the yearly
and retention reports, the audit pack's evidence, the Data Docs, the dashboard's tables.

An address keeps the first letter of its local part and its domain, an IP address its network
(81.224.x.x), any other personal value its first letter; `plain` makes text no HTML page reads
as markup.
"""

from __future__ import annotations

import ipaddress
import re

import pandas as pd

from .text import show_controls

_AT_SIGNS = str.maketrans({"＠": "@", "﹫": "@"})   # the full-width and small @ read as one by people
_EMAIL_IN_TEXT = re.compile(r"[^\s@＠﹫]*[@＠﹫]\S+")
_IP_CANDIDATE = re.compile(r"(?<![\w.:])[0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*(?![\w.:])")
# Characters that could start markup in HTML (an element, an attribute, an entity), as look-alikes.
_MARKUP = str.maketrans({"<": "‹", ">": "›", "&": "＆", '"': "“", "'": "’", "`": "’"})


def mask_email(address) -> str:
    """'anna.ek@example.se' -> 'a…@example.se'; text that is no address is shortened to its first letter."""
    if address is None or pd.isna(address) or not str(address).strip():
        return "–"
    address = show_controls(str(address).strip().translate(_AT_SIGNS))
    local, at, domain = address.rpartition("@")
    if not at:
        return address[:1] + "…"
    return f"{local[:1]}…@{domain}"


def mask_ip(address) -> str | None:
    """'81.224.10.7' -> '81.224.x.x', '2001:db8::1f' -> '2001:db8:…'; None when the text is no IP address."""
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return None
    if ip.version == 4:
        return ".".join(str(ip).split(".")[:2]) + ".x.x"
    return ":".join(group.lstrip("0") or "0" for group in ip.exploded.split(":")[:2]) + ":…"


def mask_in_text(value) -> str:
    """Free text with every e-mail and IP address in it abbreviated (the rest unchanged)."""
    s = show_controls("" if value is None else str(value))
    s = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), s)
    return _IP_CANDIDATE.sub(lambda m: mask_ip(m.group(0)) or m.group(0), s)


def plain(value) -> str:
    """Text that no HTML page can read as markup: the characters that start markup replaced by look-alikes."""
    return ("" if value is None else str(value)).translate(_MARKUP)


def abbreviate(value) -> str:
    """A personal value shortened: an e-mail as 'a…@example.se', an IP address as '81.224.x.x',
    anything else (a name, a phone number) as its first letter; markup characters replaced."""
    s = "" if value is None else str(value).strip()
    if not s:
        return s
    if "@" in s:
        return plain(mask_email(s))
    return plain(mask_ip(s) or s[:1] + "…")
