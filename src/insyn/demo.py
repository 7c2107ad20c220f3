"""`insyn demo`: the committed sample exports, end to end, in their own warehouse:
load, build, check, findings and the yearly audit pack, with the sample's own as-of."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import shutil
import sys
from pathlib import Path

from .errors import InsynError


def sample_as_of(sample_dir) -> dt.date:
    """The as-of date the sample was generated for (expected_findings.json)."""
    path = sample_dir / "expected_findings.json"
    try:
        return dt.date.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["as_of"])
    except (OSError, ValueError, KeyError) as exc:
        raise InsynError(f"{path}: cannot read the sample's as-of date ({exc.__class__.__name__})") from None


def sample_demo_person(sample_dir) -> str:
    """The e-mail address of the sample's demo person (expected_findings.json: demo_person)."""
    path = sample_dir / "expected_findings.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["demo_person"]["email"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InsynError(f"{path}: cannot read the sample's demo_person ({exc.__class__.__name__})") from None


def how_to_run_insyn() -> str:
    """The command that runs this Insyn from the shell the demo was started in: `insyn` when that is
    on the PATH, else the path it was started by (`make demo` runs .venv/bin/insyn with the virtual
    environment not active, where a bare `insyn` is not found)."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is None or started.name != "insyn":
        return f"{sys.executable} -m insyn"
    on_path = shutil.which("insyn")
    if on_path and Path(on_path).resolve() == started.resolve():
        return "insyn"
    return shlex.quote(str(started))


def run_demo(app, quiet: bool = False) -> int:
    """The demo on `app`, the application object on the demo's own warehouse
    (workbench.Workbench.for_demo())."""
    from .output import print_check, print_table

    settings, layout = app.settings, app.layout
    db_path = layout.warehouse
    # A fresh start: the demo's warehouse and its state, and an older Insyn's state beside it,
    # unless another warehouse of the folder shares that (its ledger holds their erasures).
    if any(w != db_path for w in layout.folder.glob("*.duckdb")):
        layout.refuse_legacy()
    for stale in (db_path, layout.wal, layout.state, *layout.old_state):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    as_of = sample_as_of(settings.sample)
    progress = None if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    print(f"Insyn demo: sample exports in {settings.sample}, as of {as_of}, warehouse {db_path}")
    exports = settings.sample / "exports"
    report = app.load([exports if exports.is_dir() else settings.sample], progress=progress)
    models = app.build(as_of, progress=progress)
    con = app.connect(read_only=True)
    try:
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

    report = app.check(as_of, progress=progress)
    print("\nChecks (Great Expectations, in DuckDB):")
    print_check(report)
    con = app.connect(read_only=True)
    try:
        from . import findings

        per_rule = findings.summary(con)
    finally:
        con.close()
    print(f"\nFindings as of {as_of} ({sum(n for _, n in per_rule)} in all):")
    print_table(["rule", "findings"], per_rule)

    pack = app.audit_pack(as_of.year, as_of, language=settings.language, progress=progress)
    print(f"\nAudit pack for {as_of.year} (as of {as_of}): {pack.path}")
    from .access_report import produce
    DEMO_PERSON_EMAIL = sample_demo_person(settings.sample)

    letter = layout.reports / f"access-report-demo-person-{as_of}.pdf"
    con = app.connect(read_only=True)
    try:
        produce(con, email=DEMO_PERSON_EMAIL, as_of=as_of, lang=settings.language, fmt="pdf", out=letter,
                workbench=settings, policy=app.policy, sources=app.sources, ledger=layout.ledger)
    finally:
        con.close()
    print(f"Access report (GDPR art. 15) for the demo person {DEMO_PERSON_EMAIL}: {letter}")
    insyn = how_to_run_insyn()
    print(f"\nNext: {insyn} --db {db_path} findings --as-of {as_of}")
    print(f"      {insyn} --db {db_path} dashboard")
    print(f"      {insyn} --db {db_path} lab          # the notebooks in JupyterLab, for analysts")
    print(f"      {insyn} audit --verify {pack.path}")
    print(f"      {insyn} --db {db_path} dsar report {DEMO_PERSON_EMAIL} --as-of {as_of} --lang en --format html")
    print(f"      {insyn} --db {db_path} sql \"select * from marts.fct_dsar_requests\"")
    return 0
