"""Everything Insyn writes may hold personal data: owner-only files and folders (0600/0700)."""

from __future__ import annotations

import stat


def test_every_file_the_demo_writes_is_readable_by_its_owner_only(demo):
    wb, _ = demo
    written = [p for p in (wb / "data").rglob("*") if "sample" not in p.relative_to(wb / "data").parts[:1]]
    kinds = {p.suffix for p in written if p.is_file()}
    # the warehouse, its published snapshot, the audit pack (HTML, PDF, notebook, manifest), Data Docs
    assert {".duckdb", ".html", ".pdf", ".ipynb", ".json"} <= kinds, kinds
    assert [f"{p} {stat.filemode(p.stat().st_mode)}" for p in written if p.stat().st_mode & 0o077] == []
