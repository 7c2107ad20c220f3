"""Helpers shared by the tests: paths and small export builders."""

from __future__ import annotations

from pathlib import Path

import json

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
EXPECTED = json.loads((SAMPLE / "expected_findings.json").read_text(encoding="utf-8"))


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def sf_csv(header: list[str], rows: list[list[str]], *, newline: str = "\r\n", encoding: str = "utf-8",
           bom: bool = False, upper: bool = False) -> bytes:
    """A Salesforce-style CSV: every value quoted, quotes doubled."""

    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    head = [h.upper() if upper else h for h in header]
    text = newline.join(",".join(q(c) for c in row) for row in [head, *rows]) + newline
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


CONTACT_HEADER = ["Id", "IsDeleted", "AccountId", "FirstName", "LastName", "Email", "LeadSource",
                  "HasOptedOutOfEmail", "CreatedDate", "LastActivityDate", "Description", "Lawful_Basis__c"]


def contact_row(id_: str, email: str = "anna.ek@example.se", lead_source: str = "Web Research",
                created: str = "2024-03-01T12:00:00.000Z", **kw) -> list[str]:
    values = {"Id": id_, "IsDeleted": "false", "AccountId": "0015g00000XyZaBAAV", "FirstName": "Anna",
              "LastName": "Ek", "Email": email, "LeadSource": lead_source, "HasOptedOutOfEmail": "false",
              "CreatedDate": created, "LastActivityDate": "", "Description": "", "Lawful_Basis__c": ""}
    values.update(kw)
    return [values[h] for h in CONTACT_HEADER]


def copy_workbench(root: Path, *, folders: tuple[str, ...] = ("pipelines", "expectations"),
                   warehouse: Path | None = None) -> tuple[Path, Path]:
    """A private workbench at `root`: the repository's config files and `folders`,
    and, when given, a copy of `warehouse` as its warehouse. Returns (root, warehouse path)."""
    import shutil

    root.mkdir(parents=True, exist_ok=True)
    for name in ("insyn.toml", "policy.toml"):
        shutil.copy(REPO / name, root / name)
    for folder in folders:
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    db = root / "data" / "warehouse" / "insyn.duckdb"
    if warehouse is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(warehouse, db)
    return root, db
