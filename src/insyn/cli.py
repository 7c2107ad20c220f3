"""The `insyn` command line: thin; the work is in the modules it calls.

Exit codes: 0 success; 1 a check failed or something was found; 2 usage or
input error; 3 the warehouse is busy with another writer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from . import __version__
from .config import WORKBENCH_ENV, Workbench
from .errors import InsynError

COMMANDS_HELP = """commands:
  demo      sample exports -> full run, in the demo's own warehouse
  load      load export files, folders or ZIP archives into the warehouse
  loads     list what has been loaded
  build     rebuild the models for an as-of date
  check     run the Great Expectations suites (quality and compliance)
  run       load + build + check
  findings  what the rules found, for people or programs
  docs      write the data dictionary
  audit     build the yearly audit pack (--year), or verify one (--verify DIR)
  schedule  run the scheduled jobs that are due (for cron)
  dsar      the requests: due (open ones, days left), report (the access
            report), erase (purge + suppress), check-import (suppression list)
  purge     delete raw snapshots and web log lines past their retention
  access-log who looked up, reported on or erased whom; dashboard logins
  dashboard serve the DPO's dashboard (a token or a login on loopback, a login elsewhere)
  user      dashboard logins: add (--role dpo|viewer), list, remove
  sql       run read-only SQL against the warehouse
"""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _err(message: str) -> None:
    print(f"insyn: {message}", file=sys.stderr)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Context:
    """What every command needs: the workbench, its warehouse, policy, sources."""

    def __init__(self, args: argparse.Namespace):
        root = Path(args.workbench or os.environ.get(WORKBENCH_ENV) or ".")
        self.workbench = Workbench.load(root)
        self.db_path = self.workbench.database(args.db)
        self.engine, self.lake_location = self.workbench.choose_engine(getattr(args, "engine", None),
                                                                       getattr(args, "lake", None))
        from .db import configure

        configure(self.workbench.duckdb)
        self._policy = None
        self._sources = None

    @property
    def policy(self):
        if self._policy is None:
            self._policy = self.workbench.policy()
        return self._policy

    @property
    def sources(self):
        if self._sources is None:
            from .sources import Sources

            self._sources = Sources.load(self.workbench.pipelines / "sources.toml")
        return self._sources

    @property
    def lake(self):
        from .lake import Lake

        return Lake(self.lake_location)

    def build_models(self, as_of: dt.date, progress=None) -> list:
        """Build the models for `as_of` on the chosen engine; the warehouse holds them after."""
        from .build import build

        stamp = None
        if self.engine == "spark":   # the warehouse is opened (and locked) only to serve the result
            from . import spark as on_spark

            session = on_spark.session(self.workbench.spark)
            try:
                stamp, _ = on_spark.build(session, self.lake, pipelines=self.workbench.pipelines,
                                          sources=self.sources, policy=self.policy, as_of=as_of,
                                          erasures=self.erasures(), progress=progress)
            finally:
                session.stop()
        con = self.connect()
        try:
            if stamp is not None:
                models = on_spark.serve(con, self.lake, stamp, pipelines=self.workbench.pipelines,
                                        sources=self.sources, policy=self.policy, as_of=as_of,
                                        erasures=self.erasures())
            else:
                models = build(con, pipelines=self.workbench.pipelines, sources=self.sources, policy=self.policy,
                               as_of=as_of, erasures=self.erasures(), progress=progress)
        finally:
            con.close()
        self.publish()
        return models

    def connect(self, read_only: bool = False):
        from .db import connect

        return connect(self.db_path, read_only=read_only)

    def erasures(self):
        """The ledger's erasures and the salt that recognises them."""
        from .ledger import Erasures

        return Erasures.of(self.db_path, self.workbench.secrets)

    def publish(self) -> None:
        """Give readers (the dashboard) a snapshot of what was just written."""
        from .snapshot import publish

        publish(self.db_path)

    def ensure_built(self, as_of: dt.date, progress=None) -> None:
        """Build the models for `as_of` unless they already are, after the last load."""
        from .findings import is_current

        if self.db_path.exists():
            con = self.connect(read_only=True)
            try:
                if is_current(con, as_of) and (self.engine == "duckdb" or self._served_lake_is_current(con)):
                    return
            finally:
                con.close()
        self.build_models(as_of, progress)

    def _served_lake_is_current(self, con) -> bool:
        """The warehouse was served from the lake's latest committed load."""
        served = con.execute("select max(load_id) from audit.loads").fetchone()[0]
        committed = self.lake.committed_loads()
        return (max(committed) if committed else None) == served


# ---------------------------------------------------------------- commands


def cmd_load(ctx: Context, args) -> int:
    from .load import load, parse_exported_at

    exported_at = parse_exported_at(args.exported_at) if args.exported_at else None
    policy, sources = ctx.policy, ctx.sources
    if ctx.engine == "spark":
        return _load_to_lake(ctx, args, exported_at)
    created = not ctx.db_path.exists()
    con = ctx.connect()
    try:
        report = load(con, [Path(p) for p in args.paths], root=ctx.workbench.root, sources=sources,
                      policy=policy, ignore=ctx.workbench.ignore, source=args.source,
                      erasures=ctx.erasures(), pipelines=ctx.workbench.pipelines,
                      bulk_min_bytes=ctx.workbench.bulk_min_bytes,
                      exported_at=exported_at, progress=None if args.quiet else _progress)
    except BaseException:
        con.close()
        if created:  # a refused first load leaves no warehouse behind
            for path in (ctx.db_path, ctx.db_path.with_name(ctx.db_path.name + ".wal")):
                path.unlink(missing_ok=True)
        raise
    con.close()
    if report.loaded:
        ctx.publish()
    _print_load_report(report)
    return 0


def _load_to_lake(ctx: Context, args, exported_at) -> int:
    """The same readers and checks, in a DuckDB in memory; the rows go to the lake."""
    from .build import create_macros
    from .lake import catalog, publish_load
    from .load import load

    lake = ctx.lake
    con = catalog(lake, ctx.sources)
    try:
        create_macros(con, ctx.workbench.pipelines)   # the erasure purge uses them
        report = load(con, [Path(p) for p in args.paths], root=ctx.workbench.root, sources=ctx.sources,
                      policy=ctx.policy, ignore=ctx.workbench.ignore, source=args.source,
                      erasures=ctx.erasures(), pipelines=ctx.workbench.pipelines,
                      bulk_min_bytes=ctx.workbench.bulk_min_bytes,
                      exported_at=exported_at, progress=None if args.quiet else _progress)
        publish_load(con, lake, report)
    finally:
        con.close()
    _print_load_report(report)
    return 0


def _print_load_report(report) -> None:
    for entry in report.loaded:
        extra = f", {entry['rejected']} lines rejected" if entry["rejected"] else ""
        print(f"loaded   {entry['file']}  ({entry['source']}, {entry['rows']} rows{extra}; "
              f"exported {entry['exported_at']:%Y-%m-%d %H:%M} UTC from {entry['exported_at_from']})")
    for name in report.duplicates:
        print(f"skipped  {name}  (already loaded: same SHA-256)")
    for name, why in report.unknown:
        print(f"skipped  {name}  ({why})")
    if report.purged:
        print(f"left out {sum(report.purged.values())} rows of erased people from exports taken on or before "
              "their erasure (see the ledger)")
    print(f"{len(report.loaded)} file(s) loaded, {len(report.duplicates)} already loaded, "
          f"{len(report.unknown)} not exports")


def cmd_loads(ctx: Context, args) -> int:
    from .load import loads_listing
    from .output import print_json, print_table

    if ctx.engine == "spark":
        from .lake import catalog

        con = catalog(ctx.lake, ctx.sources)
        try:
            entries = loads_listing(con)
        finally:
            con.close()
    elif not ctx.db_path.exists():
        entries = []
    else:
        con = ctx.connect(read_only=True)
        try:
            entries = loads_listing(con)
        finally:
            con.close()
    if args.format == "json":
        print_json(entries)
    else:
        cols = ["file_id", "file", "source", "exported_at", "exported_at_from", "rows", "rejected", "status", "sha256"]
        print_table(cols, [[e[c] if c != "sha256" else e[c][:12] for c in cols] for e in entries])
    return 0


def cmd_build(ctx: Context, args) -> int:
    as_of = args.as_of or dt.date.today()
    models = ctx.build_models(as_of, progress=None if args.quiet else _progress)
    con = ctx.connect(read_only=True)
    try:
        counts = [(m.table, con.execute(f"select count(*) from {m.layer}.{m.name}").fetchone()[0]) for m in models]
    finally:
        con.close()
    from .output import print_table

    print_table(["table", "rows"], counts)
    print(f"built {len(models)} models as of {as_of.isoformat()}")
    return 0


def cmd_findings(ctx: Context, args) -> int:
    from . import findings
    from .output import print_csv, print_json, print_table

    as_of = args.as_of or dt.date.today()
    ctx.ensure_built(as_of, progress=None if args.quiet else _progress)
    con = ctx.connect(read_only=True)
    try:
        known = findings.rule_ids(con)
        if args.rule and args.rule not in known:
            raise InsynError(f"--rule: unknown rule id {args.rule!r} (known: {', '.join(sorted(known))})")
        rows = findings.read(con, args.rule)
    finally:
        con.close()
    if args.format == "json":
        print_json(findings.as_json(rows, as_of))
    elif args.format == "csv":
        print_csv(findings.FINDING_COLUMNS, [[f[c] for c in findings.FINDING_COLUMNS] for f in rows])
    else:
        print_table(["rule", "record_id", "email", "source", "count", "detail"],
                    [[f["rule"], f["record_id"], f["email"], f["source"], f["count"], f["detail"]] for f in rows])
        print(f"as of {as_of.isoformat()}")
    return 0


def run_check(ctx: Context, as_of: dt.date, quiet: bool, docs: Path | None = None):
    from .check import CheckReport, record, run_gx

    progress = None if quiet else _progress
    ctx.ensure_built(as_of, progress=progress)
    docs = docs or ctx.db_path.parent / "data-docs"
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    if progress:
        progress(f"running the Great Expectations suites in {'Spark' if ctx.engine == 'spark' else 'DuckDB'} ...")
    results = run_gx(ctx.db_path, ctx.workbench.root, ctx.workbench.expectations / "suites.py",
                     ctx.workbench.pipelines, docs, lake=ctx.lake_location if ctx.engine == "spark" else None)
    con = ctx.connect()
    try:
        run_id = record(con, as_of, results, started, docs)
    finally:
        con.close()
    ctx.publish()
    return CheckReport(run_id, as_of, results, docs)


def print_check(report) -> None:
    from .output import print_table

    print_table(["suite", "expectations", "passed", "failed", "unexpected"], report.by_suite())
    failed = report.failed()
    if failed:
        print("\nfailed:")
        print_table(["suite", "check", "severity", "unexpected", "description"],
                    [[r["suite"], r["rule"] or r["check"] or r["expectation_type"], r["severity"],
                      r["unexpected_count"], r["exception"] or r["description"] or r["column"]] for r in failed])
    print(f"check run {report.check_run_id} as of {report.as_of.isoformat()}: "
          f"{'all expectations met' if report.success else f'{len(failed)} expectation(s) failed'}; "
          f"Data Docs in {report.data_docs}")


def cmd_check(ctx: Context, args) -> int:
    report = run_check(ctx, args.as_of or dt.date.today(), args.quiet)
    print_check(report)
    return 0 if report.success else 1


def cmd_run(ctx: Context, args) -> int:
    from .db import run_lock

    as_of = args.as_of or dt.date.today()
    with run_lock(ctx.db_path):
        if cmd_load(ctx, argparse.Namespace(paths=[args.inbox], source=None, exported_at=None,
                                            quiet=args.quiet)) != 0:
            return 2
        ctx.build_models(as_of, progress=None if args.quiet else _progress)
        return cmd_check(ctx, args)


def cmd_docs(ctx: Context, args) -> int:
    from .docs import write_dictionary

    ctx.ensure_built(_built_or_today(ctx), progress=None if args.quiet else _progress)
    out = Path(args.out) if args.out else ctx.db_path.parent / "docs"
    con = ctx.connect(read_only=True)
    try:
        written = write_dictionary(con, out, ctx.sources, ctx.workbench)
    finally:
        con.close()
    for path in written:
        print(f"wrote {path}")
    return 0


def _built_or_today(ctx: Context) -> dt.date:
    from .findings import built_as_of

    con = ctx.connect(read_only=True)
    try:
        return built_as_of(con) or dt.date.today()
    finally:
        con.close()


def cmd_audit(ctx: Context, args) -> int:
    from .audit import build_pack, default_as_of, verify_pack

    if args.verify:
        problems = verify_pack(Path(args.verify))
        for problem in problems:
            print(problem)
        print(f"{args.verify}: {'intact' if not problems else f'{len(problems)} problem(s)'}")
        return 1 if problems else 0
    if args.year is None:
        raise InsynError("audit: give --year YEAR (or --verify DIR)")
    as_of = args.as_of or default_as_of(args.year)
    pack = build_pack(ctx, year=args.year, as_of=as_of, language=args.lang or ctx.workbench.language,
                      out=Path(args.out) if args.out else ctx.workbench.audit_packs,
                      progress=None if args.quiet else _progress)
    print(f"audit pack for {args.year} as of {as_of}: {pack.path}")
    print(f"  {len(pack.manifest['files'])} files, run {pack.run_id}; verify with: insyn audit --verify {pack.path}")
    return 0


def cmd_schedule_run(ctx: Context, args) -> int:
    from .schedule import run_due

    now = _parse_now(args.now) if args.now else dt.datetime.now()
    ran = run_due(ctx, now, force=args.force, progress=None if args.quiet else _progress)
    if not ran:
        print("nothing due")
    for job, period, status, output in ran:
        print(f"{job} {period}: {status}{' -> ' + output if output else ''}")
    return 1 if any(status != "ok" for _, _, status, _ in ran) else 0


def _parse_now(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InsynError(f"--now: not an ISO date or date-time: {value!r}") from None


def cmd_dsar_due(ctx: Context, args) -> int:
    from .output import emit
    from .queries import rows as query_rows

    as_of = args.as_of or dt.date.today()
    ctx.ensure_built(as_of, progress=None if args.quiet else _progress)
    con = ctx.connect(read_only=True)
    try:
        names, found = query_rows(con, ctx.workbench.pipelines / "queries", "dsar_due")
    finally:
        con.close()
    columns = ["request_id", "request_type", "received_on", "applicable_due_on", "days_left",
               "days_to_policy_target", "days_to_legal_deadline", "days_to_extended_deadline", "is_overdue"]
    rows = [tuple(row[names.index(c)] for c in columns) for row in found]
    emit(columns, rows, args.format)
    if args.format == "table":
        print(f"{len(rows)} open request(s) as of {as_of.isoformat()}")
    return 0


def _duckdb_only(ctx: Context, command: str) -> None:
    """Commands that read or delete a person's raw rows: the lake's raw layer is not in the warehouse."""
    if ctx.engine == "spark":
        raise InsynError(f"{command}: not available with --engine spark yet (it reads the raw layer, which "
                         "stays in the lake); run it on a DuckDB warehouse loaded with the same exports")


def cmd_dsar_report(ctx: Context, args) -> int:
    from .access_report import default_name, produce
    from .accesslog import AccessLog, cli_user

    _duckdb_only(ctx, "dsar report")

    as_of = args.as_of or dt.date.today()
    ctx.ensure_built(as_of, progress=None if args.quiet else _progress)
    lang = args.lang or ctx.workbench.language
    log = AccessLog(ctx.db_path, ctx.workbench.secrets)
    con = ctx.connect(read_only=True)
    try:
        out = Path(args.out) if args.out else None
        if out is None:
            from .access_report import verified_request
            from .text import email_key

            found = verified_request(con, email_key(args.email) or "", as_of)
            out = ctx.db_path.parent / "reports" / default_name(found[0] if found else None, args.format)
        try:
            report = produce(con, email=args.email, as_of=as_of, lang=lang, fmt=args.format, out=out,
                             workbench=ctx.workbench, policy=ctx.policy, sources=ctx.sources, db_path=ctx.db_path,
                             vouched_by=args.identity_verified_by)
        except InsynError:   # refused (identity not verified, ...): the attempt is recorded too
            log.record("report", user=cli_user(), email=args.email, success=False)
            raise
    finally:
        con.close()
    identity = report["identity"]
    if identity["how"] == "vouched":
        log.record("vouch", user=cli_user(), email=args.email, success=True,
                   detail=f"ledger {identity['ledger_entry']}")
    log.record("report", user=cli_user(), email=args.email, success=True, detail=f"{args.format}, {lang}")
    how = (f"identity verified {identity['verified_on']} (register, request {identity['request_id']})"
           if identity["how"] == "register" else
           f"identity vouched for by {identity['vouched_by']} (ledger {identity['ledger_entry']})")
    counts = ", ".join(f"{c['category']} {c['records']}" for c in report["categories"]) or "nothing held"
    print(f"access report ({args.format}, {lang}) as of {as_of}: {out}")
    print(f"  {how}; records: {counts}")
    for c in report["categories"]:
        for r in c["recipients"]:
            if not r["valid"]:
                print(f"  note: the transfer to {r['name']} ({r['country']}) has no valid basis today "
                      "(transfer.invalid_mechanism); the report says so")
    return 0


def cmd_dsar_erase(ctx: Context, args) -> int:
    from .accesslog import AccessLog, cli_user
    from .erasure import erase

    _duckdb_only(ctx, "dsar erase")

    log = AccessLog(ctx.db_path, ctx.workbench.secrets)
    try:
        done = erase(ctx, args.email, request_id=args.request, on=args.on or dt.date.today(),
                     tasks_out=Path(args.tasks) if args.tasks else None, progress=None if args.quiet else _progress)
    except InsynError:
        log.record("erase", user=cli_user(), email=args.email, success=False)
        raise
    log.record("erase", user=cli_user(), email=args.email, success=True, detail=f"ledger {done.entry_id}")
    removed = sum(done.deleted.values())
    print(f"erasure {done.entry_id} on {done.erased_on}"
          + (f" for request {done.request_id}" if done.request_id else "")
          + f": {removed} rows purged from the warehouse ({len(done.crm_ids)} CRM ids)")
    for table, n in sorted(done.deleted.items()):
        print(f"  {table}: {n}")
    print(f"deletion tasks for the source systems ({done.task_count}): {done.tasks}")
    print("the address is kept only as a salted hash on the suppression list; exports taken after "
          f"{done.erased_on} that still hold the person raise erasure.not_executed")
    print(f"access reports of the person removed ({len(done.reports_removed)}):")
    for path in done.reports_removed:
        print(f"  {path}")
    for by, when in done.reports_downloaded:
        print(f"note: a report was downloaded from the dashboard by {by.removeprefix('dashboard:')} at {when}: "
              "delete that download too (the browser's copy is out of Insyn's reach)")
    if done.reports_unreachable:
        print(f"access reports NOT removed: they could not be reached; remove them by hand "
              f"({len(done.reports_unreachable)}):")
        for path, why in done.reports_unreachable:
            print(f"  {path} ({why})")
        return 1
    return 0


def cmd_dsar_check_import(ctx: Context, args) -> int:
    from .erasure import check_import
    from .output import emit

    read, hits = check_import(Path(args.file), ctx.erasures())
    emit(["line", "column", "why"], [(h.line, h.column, h.why) for h in hits], args.format)
    if args.format == "table":
        print(f"{args.file}: {read} rows read, {len(hits)} must not be imported (suppression list)")
    return 1 if hits else 0


def cmd_purge(ctx: Context, args) -> int:
    from . import purge
    from .db import table_exists
    from .output import print_json, print_table

    _duckdb_only(ctx, "purge")
    as_of = args.as_of or dt.date.today()
    if not ctx.db_path.exists():
        raise InsynError(f"{ctx.db_path}: no warehouse yet: nothing to purge")
    con = ctx.connect(read_only=args.dry_run)
    try:
        if not table_exists(con, "audit", "files"):
            raise InsynError(f"{ctx.db_path}: nothing loaded yet: nothing to purge")
        if not args.dry_run:
            purge.prepare(con, ctx.sources)
        the_plan = purge.plan(con, ctx.sources, ctx.policy, ctx.workbench.snapshot_months, as_of)
        purge_id = None
        if not args.dry_run and the_plan.rows + len(the_plan.files):
            purge_id = purge.purge(con, ctx.sources, the_plan)
    finally:
        con.close()
    if purge_id is not None:
        ctx.publish()
    files = purge.purge_files(ctx.db_path, ctx.workbench.secrets, ctx.workbench.retention, as_of, args.dry_run)
    code = 1 if files.unreachable else 0   # a copy past its retention is still somewhere: say so
    if args.format == "json":
        print_json({**the_plan.as_json(), "dry_run": args.dry_run, "purge_id": purge_id,
                    "retention": files.as_json()})
        return code
    rows = [[f["file_id"], f["file"], f["source"], f"{f['exported_at']:%Y-%m-%d}", f["rows_deleted"]]
            for f in the_plan.files + the_plan.weblog]
    print_table(["file_id", "file", "source", "exported", "rows"], rows)
    verb = "would delete" if args.dry_run else "deleted"
    horizon = f"snapshots exported before {the_plan.snapshots_before:%Y-%m-%d}" if the_plan.snapshots_before \
        else "no snapshot horizon ([purge] snapshot_months unset)"
    print(f"{verb} {the_plan.rows} raw rows as of {as_of.isoformat()}: {horizon} (the latest of each source kept), "
          f"web log lines before {the_plan.weblog_before:%Y-%m-%d %H:%M} UTC"
          + (f"; recorded as purge {purge_id} in audit.purges" if purge_id is not None else ""))
    for setting, what, count in (("access_log_days", "access-log entries", files.access_log_entries),
                                 ("reports_days", "access reports", len(files.reports)),
                                 ("deletion_tasks_days", "deletion-task files", len(files.deletion_tasks))):
        before = files.horizons.get(setting)
        print(f"{verb} {count} {what} written before {before:%Y-%m-%d} ([retention] {setting})" if before
              else f"{what}: kept for ever ([retention] {setting} unset)")
    for path in files.reports + files.deletion_tasks:
        print(f"  {path}")
    for path, why in files.unreachable:
        print(f"NOT deleted, could not be reached ({why}): {path}")
    return code


def cmd_access_log(ctx: Context, args) -> int:
    from .accesslog import FIELDS, AccessLog
    from .output import emit

    entries = AccessLog(ctx.db_path, ctx.workbench.secrets).entries(since=args.since)
    if args.event:
        entries = [e for e in entries if e["event"] == args.event]
    short = args.format == "table"   # a table shows the hash's start; json and csv the whole
    rows = [tuple((e[c] or "")[:12] if c == "subject" and short else e[c] for c in FIELDS) for e in entries]
    emit(list(FIELDS), rows, args.format)
    return 0


def _port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port (1-65535): {value!r}")
    return int(value)


def cmd_dashboard(ctx: Context, args) -> int:
    from . import serve

    app = serve.create(ctx.workbench, ctx.db_path, host=args.host, allow_http=args.allow_http)
    serve.run(app, args.host, args.port)
    return 0


def _user_store(ctx: Context):
    from .auth import UserStore
    from .serve import users_path

    return UserStore(users_path(ctx.workbench))


def cmd_user_add(ctx: Context, args) -> int:
    import getpass

    from .auth import AuthError

    if args.password_stdin:
        password = sys.stdin.readline()
        # One line's end exactly: "\r\n" (a CRLF file, a Windows pipe) or "\n"; nothing else is stripped.
        password = password[:-2] if password.endswith("\r\n") else password.removesuffix("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise InsynError("user add: the passwords differ")
    store = _user_store(ctx)
    try:
        store.add(args.name, password, role=args.role)
    except AuthError as exc:
        raise InsynError(f"user add: {exc}") from None
    print(f"dashboard user {args.name} saved, role {store.role(args.name)} (password stored hashed)")
    return 0


def cmd_user_list(ctx: Context, args) -> int:
    from .auth import AuthError
    from .output import print_table

    try:
        users = _user_store(ctx).listing()
    except AuthError as exc:
        raise InsynError(f"user list: {exc}") from None
    print_table(["name", "role", "created"], [(u["name"], u["role"], u["created_at"]) for u in users])
    return 0


def cmd_user_remove(ctx: Context, args) -> int:
    from .auth import AuthError

    try:
        removed = _user_store(ctx).remove(args.name)
    except AuthError as exc:
        raise InsynError(f"user remove: {exc}") from None
    if not removed:
        raise InsynError(f"user remove: no dashboard user {args.name!r} (see `insyn user list`)")
    print(f"dashboard user {args.name} removed (their sessions end at their next request)")
    return 0


def cmd_sql(ctx: Context, args) -> int:
    from .sqlshell import shell

    return shell(ctx, args.query, args.format)


def cmd_demo(ctx: Context, args) -> int:
    from .demo import run_demo

    return run_demo(ctx, quiet=args.quiet)


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from .access_report import FORMATS
    from .auth import ROLES

    parser = argparse.ArgumentParser(
        prog="insyn",
        description="Insyn: is the privacy policy kept? Evidence from the company's own exports.",
        epilog=COMMANDS_HELP + "\nexit codes: 0 ok, 1 found/failed, 2 usage or input error, 3 warehouse busy",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"insyn {__version__}")
    parser.add_argument("--workbench", metavar="DIR", help="folder holding insyn.toml (default: the current one, or $INSYN_WORKBENCH)")
    parser.add_argument("--db", metavar="FILE", help="warehouse file (default: from insyn.toml, or $INSYN_DB)")
    parser.add_argument("--engine", choices=("duckdb", "spark"),
                        help="where the models run (default: insyn.toml [engine], or $INSYN_ENGINE; duckdb)")
    parser.add_argument("--lake", metavar="LOCATION",
                        help="with Spark: the raw layer's folder or object-store URL (or $INSYN_LAKE)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress messages")
    add = sub.add_parser

    def add_parser(name, **kw):
        return add(name, parents=[common], **kw)

    sub.add_parser = add_parser

    p = sub.add_parser("demo", help="load the sample exports and run everything on them, with the sample's as-of date")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("load", help="load export files, folders or ZIP archives (one transaction)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders (searched recursively) or ZIP archives")
    p.add_argument("--source", metavar="KIND", help="the kind of every file named (e.g. salesforce.contact); default: detected")
    p.add_argument("--exported-at", metavar="TIME", help="when the export was taken (ISO date or date-time; no offset means UTC)")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("loads", help="what has been loaded: files, hashes, export times, counts")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_loads)

    p = sub.add_parser("build", help="rebuild the SQL models for an as-of date")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="run the Great Expectations suites in DuckDB; exit 1 when any fails")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("run", help="load an inbox folder, build and check")
    p.add_argument("inbox", metavar="INBOX", help="a folder (or file, or ZIP) of exports")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("findings", help="what the rules found (built for the as-of date if needed)")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    p.add_argument("--rule", metavar="ID", help="one rule id, e.g. retention.inactive_company_initiated")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_findings)

    p = sub.add_parser("docs", help="write the data dictionary (HTML and Markdown) of every table and column")
    p.add_argument("--out", metavar="DIR", help="folder to write to (default: docs/ beside the warehouse)")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("audit", help="build the yearly audit pack, or verify one against its manifest")
    p.add_argument("--year", type=int, metavar="YEAR", help="the calendar year audited")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="default: the year's last day or today, whichever is earlier")
    p.add_argument("--lang", choices=("sv", "en"), help="report language (default: insyn.toml)")
    p.add_argument("--out", metavar="DIR", help="where packs go (default: insyn.toml audit_packs)")
    p.add_argument("--verify", metavar="DIR", help="re-check a pack against its manifest; exit 1 naming what changed")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("schedule", help="scheduled jobs (for cron or a systemd timer)")
    schedule_sub = p.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    p_run = schedule_sub.add_parser("run", parents=[common], help="run whatever scheduled job is due and not yet done")
    p_run.add_argument("--now", metavar="TIME", help="pretend it is this time (ISO)")
    p_run.add_argument("--force", action="store_true", help="run due jobs again even if done")
    p_run.set_defaults(func=cmd_schedule_run)

    p = sub.add_parser("dsar", help="the data subject requests")
    dsar_sub = p.add_subparsers(dest="dsar_command", metavar="ACTION", required=True)
    p_due = dsar_sub.add_parser("due", parents=[common], help="open requests and the days left to each deadline")
    p_due.add_argument("--as-of", type=_date, metavar="DATE", help="the date to count from (default: today)")
    p_due.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p_due.set_defaults(func=cmd_dsar_due)
    p_report = dsar_sub.add_parser("report", parents=[common],
                                   help="the access report (GDPR art. 15) for one person, once identity is verified")
    p_report.add_argument("email", metavar="EMAIL")
    p_report.add_argument("--as-of", type=_date, metavar="DATE", help="the date of the report (default: today)")
    p_report.add_argument("--lang", choices=("sv", "en"), help="the person's language (default: insyn.toml)")
    p_report.add_argument("--format", choices=FORMATS, default="html")
    p_report.add_argument("--out", metavar="FILE", help="where to write it (default: reports/ beside the warehouse)")
    p_report.add_argument("--identity-verified-by", metavar="NAME",
                          help="you vouch that NAME verified the person's identity (recorded in the ledger)")
    p_report.set_defaults(func=cmd_dsar_report)
    p_erase = dsar_sub.add_parser("erase", parents=[common],
                                  help="erase a person: purge the warehouse, suppress, list the deletion tasks")
    p_erase.add_argument("email", metavar="EMAIL")
    p_erase.add_argument("--request", metavar="ID", help="the register's request id (Ärende-ID) this carries out")
    p_erase.add_argument("--on", type=_date, metavar="DATE", help="the date of the erasure (default: today)")
    p_erase.add_argument("--tasks", metavar="FILE", help="where to write the deletion tasks CSV "
                         "(default: deletion-tasks/ beside the warehouse)")
    p_erase.set_defaults(func=cmd_dsar_erase)
    p_check = dsar_sub.add_parser("check-import", parents=[common],
                                  help="rows of a file about to be imported that the suppression list forbids (exit 1)")
    p_check.add_argument("file", metavar="FILE", help="a CSV or XLSX file")
    p_check.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p_check.set_defaults(func=cmd_dsar_check_import)

    p = sub.add_parser("purge", help="delete raw snapshots and web log lines past their retention (audit.purges), "
                       "and access-log entries, access reports and deletion tasks past [retention]")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date horizons count from (default: today)")
    p.add_argument("--dry-run", action="store_true", help="say what would be deleted; change nothing")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_purge)

    from .accesslog import EVENTS

    p = sub.add_parser("access-log", help="who looked up, reported on or erased whom, and dashboard logins")
    p.add_argument("--since", type=_date, metavar="DATE", help="entries on or after this day (UTC)")
    p.add_argument("--event", choices=EVENTS, help="one kind of entry")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_access_log)

    p = sub.add_parser("dashboard", help="serve the dashboard (loopback by default, with a token or a login; "
                                         "a login elsewhere)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8050, help="port (default 8050)")
    p.add_argument("--allow-http", action="store_true",
                   help="send the login cookie over plain HTTP too (only on a trusted network; prefer TLS in front)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("user", help="dashboard logins")
    user_sub = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    p_add = user_sub.add_parser("add", parents=[common], help="add a user, or set a new password (asked twice, stored hashed)")
    p_add.add_argument("name", metavar="NAME")
    p_add.add_argument("--role", choices=ROLES,
                       help="dpo: everything; viewer: aggregates and findings, no person look-ups, reports or "
                            "personal lists (default: viewer for a new user, unchanged for an existing one)")
    p_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p_add.set_defaults(func=cmd_user_add)
    p_list = user_sub.add_parser("list", parents=[common], help="the dashboard users: name, role, created")
    p_list.set_defaults(func=cmd_user_list)
    p_remove = user_sub.add_parser("remove", parents=[common], help="remove a dashboard user; their sessions end")
    p_remove.add_argument("name", metavar="NAME")
    p_remove.set_defaults(func=cmd_user_remove)

    p = sub.add_parser("sql", help="read-only SQL; with no QUERY, statements from standard input or a prompt")
    p.add_argument("query", nargs="?", metavar="QUERY")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_sql)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # every file Insyn writes may hold personal data: owner only
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        ctx = Context(args)
        return args.func(ctx, args)
    except InsynError as exc:
        _err(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted; nothing of the unfinished command was kept")
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")
        return 0
    except Exception as exc:  # a bug: say so without a traceback (it could quote data)
        if os.environ.get("INSYN_DEBUG"):
            raise
        _err(f"internal error ({type(exc).__name__}); rerun with INSYN_DEBUG=1 to see where")
        return 70


if __name__ == "__main__":
    sys.exit(main())
