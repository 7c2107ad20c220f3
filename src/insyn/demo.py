"""`insyn demo`: the committed sample exports, end to end, in their own warehouse:
load, build, check, findings and the yearly audit pack, with the sample's own as-of."""

from __future__ import annotations

import datetime as dt
import json
import sys

from .errors import InsynError


def sample_as_of(sample_dir) -> dt.date:
    """The as-of date the sample was generated for (expected_findings.json)."""
    path = sample_dir / "expected_findings.json"
    try:
        return dt.date.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["as_of"])
    except (OSError, ValueError, KeyError) as exc:
        raise InsynError(f"{path}: cannot read the sample's as-of date ({exc.__class__.__name__})") from None


def run_demo(ctx, quiet: bool = False) -> int:
    from .build import build
    from .db import connect
    from .load import load
    from .output import print_table

    wb = ctx.workbench
    db_path = wb.demo_warehouse
    from .accesslog import access_log_path
    from .ledger import ledger_path

    for stale in (db_path, db_path.with_name(db_path.name + ".wal"), ledger_path(db_path), access_log_path(db_path)):
        stale.unlink(missing_ok=True)
    as_of = sample_as_of(wb.sample)
    progress = None if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    print(f"Insyn demo: sample exports in {wb.sample}, as of {as_of}, warehouse {db_path}")
    con = connect(db_path)
    try:
        exports = wb.sample / "exports"
        report = load(con, [exports if exports.is_dir() else wb.sample], root=wb.root, sources=ctx.sources, policy=ctx.policy,
                      bulk_min_bytes=wb.bulk_min_bytes,
                      ignore=wb.ignore, progress=progress)
        models = build(con, pipelines=wb.pipelines, sources=ctx.sources, policy=ctx.policy,
                       as_of=as_of, progress=progress)
        by_source = con.execute(
            "select source, count(*) as files, sum(rows) as rows, sum(rejected) as rejected "
            "from audit.files group by source order by source").fetchall()
        counts = [(m.table, con.execute(f"select count(*) from {m.layer}.{m.name}").fetchone()[0]) for m in models]
    finally:
        con.close()
    print(f"\nLoaded {len(report.loaded)} files ({len(report.unknown)} other files skipped):")
    print_table(["source", "files", "rows", "rejected"], by_source)
    print(f"\nBuilt {len(models)} models as of {as_of}:")
    print_table(["table", "rows"], counts)

    from .cli import print_check, run_check

    ctx.db_path = db_path          # from here on, the demo's own warehouse
    report = run_check(ctx, as_of, quiet)
    print("\nChecks (Great Expectations, in DuckDB):")
    print_check(report)
    con = connect(db_path, read_only=True)
    try:
        from . import findings

        per_rule = findings.summary(con)
    finally:
        con.close()
    print(f"\nFindings as of {as_of} ({sum(n for _, n in per_rule)} in all):")
    print_table(["rule", "findings"], per_rule)
    from .audit import build_pack

    pack = build_pack(ctx, year=as_of.year, as_of=as_of, language=wb.language, out=db_path.parent / "audit-packs",
                      progress=progress)
    print(f"\nAudit pack for {as_of.year} (as of {as_of}): {pack.path}")
    from .access_report import produce
    from .sample import DEMO_PERSON_EMAIL

    letter = db_path.parent / "reports" / f"access-report-demo-person-{as_of}.pdf"
    con = connect(db_path, read_only=True)
    try:
        produce(con, email=DEMO_PERSON_EMAIL, as_of=as_of, lang=wb.language, fmt="pdf", out=letter, workbench=wb,
                policy=ctx.policy, sources=ctx.sources, db_path=db_path)
    finally:
        con.close()
    print(f"Access report (GDPR art. 15) for the demo person {DEMO_PERSON_EMAIL}: {letter}")
    print(f"\nNext: insyn --db {db_path} findings --as-of {as_of}")
    print(f"      insyn --db {db_path} dashboard")
    print(f"      insyn audit --verify {pack.path}")
    print(f"      insyn --db {db_path} dsar report {DEMO_PERSON_EMAIL} --as-of {as_of} --lang en --format html")
    print(f"      insyn --db {db_path} sql \"select * from marts.fct_dsar_requests\"")
    return 0
