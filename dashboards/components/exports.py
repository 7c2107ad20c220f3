"""Which export a rule's list was judged from: the latest export of each source kind the rule
reads (its yml meta `needs`, insyn.findings.needs: the one place that says what a rule reads),
by file name and date (pipelines/queries/latest_export_files.sql). The overview's work queue
and /erasures say it under their lists."""

from __future__ import annotations

import functools
from pathlib import Path

from insyn import findings

from .. import data
from .i18n import t


@functools.lru_cache(maxsize=4)
def _needs(pipelines: Path) -> dict[str, tuple[str, ...]]:
    from insyn.build import discover

    return {spec["rule"]: tuple(kind for group in findings.needs(spec) for kind in group)
            for spec in findings.rule_specs(discover(pipelines))}


def rule_sources(rule: str) -> tuple[str, ...]:
    """The source kinds `rule` reads (its `needs`)."""
    return _needs(data.pipelines()).get(rule, ())


def _file_name(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]   # a file by its name, a zip member by its own


def judged_from(rule: str, lang: str) -> str | None:
    """The exports `rule`'s list was judged from, in words: the latest export of each source kind
    it reads that was loaded, by file name (three at most, then how many more) and export date;
    None when none of them was loaded."""
    exports = data.q("latest_export_files")
    by_date: dict[str, list[str]] = {}
    for kind in rule_sources(rule):
        row = exports[exports["source"] == kind]
        if not row.empty:
            day = data.to_date(row["exported_at"].iloc[0]).isoformat()
            by_date.setdefault(day, []).extend(_file_name(f) for f in str(row["files"].iloc[0]).split(", "))
    parts = []
    for day, files in sorted(by_date.items(), reverse=True):
        shown = ", ".join(files[:3]) + (f" (+{len(files) - 3})" if len(files) > 3 else "")
        parts.append(t("dashboard.queue.export", lang, files=shown, date=day))
    return "; ".join(parts) or None
