"""`insyn docs`: the data dictionary, written from the warehouse's own descriptions.

Every model's description and columns come from pipelines/<layer>/_models.yml
(kept in audit.model_docs and audit.column_docs by each build); raw tables are
described from pipelines/sources.toml. Output: one self-contained HTML page
(no external requests) and the same as Markdown.
"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb

LAYER_INTRO = {
    "raw": "Exports as delivered (text), one table per source kind, with lineage on every row.",
    "staging": "Typed and normalised; every export snapshot kept.",
    "marts": "Joined facts about people, requests and systems, judged at the as-of date.",
    "rules": "One table per rule id: one row per finding, the same columns for every rule.",
    "params": "The run's as-of date and the policy file's values, for models to join.",
    "audit": "Loads, files, rejected lines, builds, checks and their results.",
}
LINEAGE_DOC = {
    "_load_id": "The load (audit.loads) that brought the row in.",
    "_file_id": "The file (audit.files) the row came from.",
    "_record_no": "The record's position in its file, 1-based.",
    "_line_no": "The physical line (or sheet row) where the record starts.",
    "_exported_at": "When the export was taken (UTC).",
}


def _tables(con: duckdb.DuckDBPyConnection) -> list[dict]:
    out = []
    docs = {(s, t): (d, f) for s, t, d, f in con.execute(
        "select table_schema, table_name, description, source_file from audit.model_docs").fetchall()}
    col_docs = {(s, t, c): d for s, t, c, d in con.execute(
        "select table_schema, table_name, column_name, description from audit.column_docs").fetchall()}
    for schema, table, comment in con.execute(
            "select schema_name, table_name, comment from duckdb_tables() "
            "where schema_name in ('raw', 'staging', 'marts', 'rules', 'params', 'audit') "
            "order by case schema_name when 'raw' then 1 when 'staging' then 2 when 'marts' then 3 "
            "when 'rules' then 4 when 'params' then 5 else 6 end, table_name").fetchall():
        description, source_file = docs.get((schema, table), (comment or "", None))
        columns = []
        for name, typ, col_comment in con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where schema_name = $s and table_name = $t order by column_index", {"s": schema, "t": table}).fetchall():
            text = col_docs.get((schema, table, name)) or col_comment or LINEAGE_DOC.get(name, "")
            if not text and schema == "raw":
                text = ("the same column as UTC, parsed by the loader" if name.endswith("__utc")
                        else "as delivered in the export (text)")
            columns.append((name, typ, text))
        out.append({"schema": schema, "table": table, "description": description or "",
                    "source_file": source_file, "columns": columns})
    return out


def _raw_descriptions(sources) -> dict[str, str]:
    kinds: dict[str, list[str]] = {}
    for name in sources.names():
        kinds.setdefault(sources[name].table, []).append(name)
    described = {table: "Raw rows of " + ", ".join(names) + " exports." for table, names in kinds.items()}
    for kind, column, child in sources.split_tables():   # a list column's elements, one row each
        described[child] = f"The elements of the {column} list of {kind.name} exports, one row each."
    return described


def write_dictionary(con: duckdb.DuckDBPyConnection, out: Path, sources, workbench) -> list[Path]:
    tables = _tables(con)
    raw = _raw_descriptions(sources)
    for t in tables:
        if t["schema"] == "raw" and not t["description"]:
            t["description"] = raw.get(t["table"], "")
    out.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out / "data-dictionary.md", out / "index.html"
    md_path.write_text(_markdown(tables), encoding="utf-8")
    html_path.write_text(_html(tables), encoding="utf-8")
    return [html_path, md_path]


def _markdown(tables: list[dict]) -> str:
    lines = ["# Insyn data dictionary", "",
             "Every table of the warehouse, by layer. Query with `insyn sql` or any DuckDB client.", ""]
    layer = None
    for t in tables:
        if t["schema"] != layer:
            layer = t["schema"]
            lines += [f"## {layer}", "", LAYER_INTRO.get(layer, ""), ""]
        lines += [f"### {t['schema']}.{t['table']}", "", t["description"], ""]
        if t["source_file"]:
            lines += [f"Model: `pipelines/{t['source_file']}`", ""]
        lines += ["| column | type | description |", "|---|---|---|"]
        lines += [f"| `{n}` | {typ} | {d.replace('|', '/')} |" for n, typ, d in t["columns"]]
        lines.append("")
    return "\n".join(lines)


def _html(tables: list[dict]) -> str:
    e = html.escape
    toc, body, layer = [], [], None
    for t in tables:
        anchor = f"{t['schema']}.{t['table']}"
        if t["schema"] != layer:
            layer = t["schema"]
            body.append(f"<h2 id='{e(layer)}'>{e(layer)}</h2><p>{e(LAYER_INTRO.get(layer, ''))}</p>")
            toc.append(f"<li><a href='#{e(layer)}'>{e(layer)}</a></li>")
        rows = "".join(f"<tr><td><code>{e(n)}</code></td><td>{e(typ)}</td><td>{e(d)}</td></tr>"
                       for n, typ, d in t["columns"])
        model = f"<p class='src'>pipelines/{e(t['source_file'])}</p>" if t["source_file"] else ""
        body.append(f"<h3 id='{e(anchor)}'>{e(anchor)}</h3><p>{e(t['description'])}</p>{model}"
                    f"<table><tr><th>column</th><th>type</th><th>description</th></tr>{rows}</table>")
    style = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
             "table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}td,th{border:1px solid #ccc;"
             "padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eef}code{font-size:.9em}"
             ".src{color:#666;font-size:.85em}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Insyn data dictionary</title>"
            f"<style>{style}</style></head><body><h1>Insyn data dictionary</h1>"
            f"<ul>{''.join(toc)}</ul>{''.join(body)}</body></html>")
