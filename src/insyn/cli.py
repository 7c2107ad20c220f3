"""The `insyn` command line: parse the arguments, call the application
(workbench.Workbench), print. Nothing else imports this module.

Exit codes: 0 success; 1 a check failed or something was found; 2 usage or
input error; 3 the warehouse is busy with another writer; 4 (findings, check,
run, audit) some rule could not be evaluated because the exports it needs were
never loaded (1 wins over 4, 4 over 0).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from . import __version__
from .dates import outside_years
from .errors import InsynError
from .workbench import Workbench

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
  lab       JupyterLab on the notebooks (loopback, a token, a read-only copy of the warehouse)
  user      dashboard logins: add (--role dpo|viewer), list, remove
  sql       run read-only SQL against the warehouse
  init      a new workbench for a company, in a new folder
"""


def _date(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    if outside_years(day):
        raise argparse.ArgumentTypeError(outside_years(day))
    return day


def _err(message: str) -> None:
    print(f"insyn: {message}", file=sys.stderr)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- commands (app: workbench.Workbench)


def _progress_of(args):
    return None if args.quiet else _progress


def cmd_load(app: Workbench, args) -> int:
    from .load import parse_exported_at

    exported_at = parse_exported_at(args.exported_at) if args.exported_at else None
    report = app.load([Path(p) for p in args.paths], source=args.source, exported_at=exported_at,
                      progress=_progress_of(args))
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


def cmd_loads(app: Workbench, args) -> int:
    from .output import print_json, print_table

    entries = app.loads()
    if args.format == "json":
        print_json(entries)
    else:
        cols = ["file_id", "file", "source", "exported_at", "exported_at_from", "rows", "rejected", "status", "sha256"]
        print_table(cols, [[e[c] if c != "sha256" else e[c][:12] for c in cols] for e in entries])
    return 0


def cmd_build(app: Workbench, args) -> int:
    from .output import print_table

    as_of = args.as_of or dt.date.today()
    models = app.build(as_of, progress=_progress_of(args), full=args.full)
    con = app.connect(read_only=True)
    try:
        counts = [(m.table, con.execute(f"select count(*) from {m.layer}.{m.name}").fetchone()[0]) for m in models]
    finally:
        con.close()
    print_table(["table", "rows"], counts)
    print(f"built {len(models)} models as of {as_of.isoformat()}")
    return 0


def _full_option(p) -> None:
    p.add_argument("--full", action="store_true",
                   help="compute every model anew (default: add the files loaded since the last build "
                        "to the incremental models; the Spark engine always builds in full)")


NOT_EVALUATED = 4   # exit code: some rule could not be evaluated (its exports were never loaded)


def _not_evaluated_exit(unable) -> int:
    return NOT_EVALUATED if unable else 0


def _print_not_evaluated(unable, nothing_loaded: bool) -> None:
    """The rules not evaluated, after the findings or the check summary."""
    from .output import print_table

    if not unable:
        return
    print("\nnothing is loaded yet: no rule was evaluated" if nothing_loaded else
          "\nnot evaluated (what they need was never loaded; no finding is given, none is passed):")
    print_table(["rule", "missing_sources", "detail"],
                [[e["rule"], " ".join(e["missing_sources"]) or e.get("source"), e["detail"]] for e in unable])


def cmd_findings(app: Workbench, args) -> int:
    from . import findings
    from .output import print_csv, print_json, print_table

    as_of = args.as_of or dt.date.today()
    rows = app.findings(as_of, args.rule, progress=_progress_of(args))
    unable = app.not_evaluated(as_of, args.rule, progress=_progress_of(args))
    if args.format == "json":
        print_json(findings.as_json(rows, as_of, unable))
    elif args.format == "csv":
        print_csv(findings.FINDING_COLUMNS, findings.as_rows(rows, unable))
    else:
        print_table(["rule", "record_id", "email", "source", "count", "detail"],
                    [[f["rule"], f["record_id"], f["email"], f["source"], f["count"], f["detail"]] for f in rows])
        _print_not_evaluated(unable, app.nothing_loaded())
        print(f"as of {as_of.isoformat()}")
    return _not_evaluated_exit(unable)


def _check_exit(report) -> int:
    """Print the check; 1 when an expectation failed, else 4 when something was not evaluated, else 0."""
    from .output import print_check

    print_check(report)
    _print_not_evaluated(report.unable, report.check_run_id is None)
    return 1 if not report.success else NOT_EVALUATED if not report.complete else 0


def cmd_check(app: Workbench, args) -> int:
    return _check_exit(app.check(args.as_of or dt.date.today(), progress=_progress_of(args)))


def cmd_run(app: Workbench, args) -> int:
    _, report = app.run(Path(args.inbox), args.as_of or dt.date.today(), progress=_progress_of(args),
                        on_loaded=_print_load_report, full=args.full)
    return _check_exit(report)


def cmd_docs(app: Workbench, args) -> int:
    for path in app.docs(Path(args.out) if args.out else None, progress=_progress_of(args)):
        print(f"wrote {path}")
    return 0


def cmd_audit_verify(args) -> int:
    """Needs no workbench: an auditor verifies a pack they were sent, on their own machine."""
    from .audit import check_pack
    from .signing import grouped, parse_fingerprint

    key = parse_fingerprint(args.key) if args.key else None
    result = check_pack(Path(args.verify), key=key, previous=Path(args.previous) if args.previous else None)
    for line in result.notes + result.problems:
        print(line)
    problems = result.problems
    if problems:
        print(f"{args.verify}: {len(problems)} problem(s)")
    elif result.signer_checked:
        print(f"{args.verify}: intact")
    else:   # a forger can sign with a key of their own: say so in the verdict, not only above it
        print(f"{args.verify}: intact as signed by key {grouped(result.signer)}, which was NOT checked "
              "(pass --key FINGERPRINT or --previous DIR)")
    return 1 if problems else 0


def cmd_audit(app: Workbench, args) -> int:
    from .signing import KEY_FILE, grouped

    if args.key or args.previous:
        raise InsynError("audit: --key and --previous go with --verify DIR")
    if args.rotate_key:
        old, new = app.rotate_signing_key()
        print(f"audit signing key replaced: {new.path} (the old one kept as {KEY_FILE}.retired-"
              f"{old.fingerprint[:16]} beside it); the next pack carries the hand-over, signed by the old key")
        print(f"  old key {grouped(old.fingerprint)}\n  new key {grouped(new.fingerprint)}")
        if args.year is None:
            return 0
    if args.year is None:
        raise InsynError("audit: give --year YEAR (or --verify DIR, or --rotate-key)")
    pack = app.audit_pack(args.year, args.as_of, language=args.lang, out=Path(args.out) if args.out else None,
                          progress=_progress_of(args))
    as_of = dt.date.fromisoformat(pack.manifest["as_of"])
    print(f"audit pack for {args.year} as of {as_of}: {pack.path}")
    print(f"  {len(pack.manifest['files'])} files, run {pack.run_id}; verify with: insyn audit --verify {pack.path}")
    signer, previous = pack.manifest["signer"], pack.manifest["previous"]
    if pack.key_created:
        print(f"  a new audit signing key was created: {app.settings.secrets / KEY_FILE} (owner-only; "
              "back it up with the secrets folder: without it the next pack cannot continue the chain)")
    print(f"  signed by key {grouped(signer['fingerprint'])} (give this fingerprint to the auditor once, out of band)")
    print(f"  follows the pack of {previous['year']} (run {previous['run_id']})" if previous
          else "  the first pack of its chain")
    # what the pack's own check found not evaluated (the manifest lists the same), not a second look
    _print_not_evaluated(pack.unable, False)
    return _not_evaluated_exit(pack.unable)


def cmd_schedule_run(app: Workbench, args) -> int:
    now = _parse_now(args.now) if args.now else dt.datetime.now()
    ran = app.schedule_run(now, force=args.force, progress=_progress_of(args))
    if not ran:
        print("nothing due")
    for job, period, status, output in ran:
        print(f"{job} {period}: {status}{' -> ' + output if output else ''}")
    return 1 if any(status != "ok" for _, _, status, _ in ran) else 0


def _parse_now(value: str) -> dt.datetime:
    try:
        now = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InsynError(f"--now: not an ISO date or date-time: {value!r}") from None
    if outside_years(now):
        raise InsynError(f"--now: {outside_years(now)}")
    return now


def cmd_dsar_due(app: Workbench, args) -> int:
    from .output import emit

    as_of = args.as_of or dt.date.today()
    names, found = app.dsar_due(as_of, progress=_progress_of(args))
    columns = ["request_id", "request_type", "received_on", "applicable_due_on", "days_left",
               "days_to_policy_target", "days_to_legal_deadline", "days_to_extended_deadline", "is_overdue"]
    rows = [tuple(row[names.index(c)] for c in columns) for row in found]
    emit(columns, rows, args.format)
    if args.format == "table":
        print(f"{len(rows)} open request(s) as of {as_of.isoformat()}")
    return 0


def cmd_dsar_report(app: Workbench, args) -> int:
    from .accesslog import cli_user

    as_of = args.as_of or dt.date.today()
    lang = args.lang or app.settings.language
    report, out = app.access_report(args.email, as_of=as_of, lang=lang, fmt=args.format,
                                    out=Path(args.out) if args.out else None,
                                    vouched_by=args.identity_verified_by, user=cli_user(),
                                    progress=_progress_of(args))
    identity = report["identity"]
    how = (f"identity verified {identity['verified_on']} (register, request {identity['request_id']})"
           if identity["how"] == "register" else
           f"identity vouched for by {identity['vouched_by']} (ledger {identity['ledger_entry']})")
    counts = ", ".join(f"{c['category']} {c['records']}" for c in report["categories"]) or "nothing held"
    print(f"access report ({args.format}, {lang}) as of {as_of}: {out}")
    print(f"  {how}; records: {counts}")
    for c in report["categories"]:
        for r in c["recipients"]:
            if not r["valid"]:
                print(f"  note: the transfer to {r['name']} ({r['country']}) has no valid basis at the as-of date "
                      "(transfer.invalid_mechanism); the letter states what the register records of it "
                      "(check it before sending)")
    if not report.get("subprocessor_register", True):
        print(f"  note: no sub-processor register export on or before {as_of}: the letter cannot name the "
              "recipients (load register.subprocessors before sending it)")
    for source, fields in report.get("fields_without_label", {}).items():
        print(f"  note: {source}: {len(fields)} field(s) without a label in sources.toml are left out of the "
              f"letter (the JSON copy has them): {', '.join(fields)}")
    return 0


def cmd_dsar_erase(app: Workbench, args) -> int:
    from .accesslog import cli_user

    done = app.erase(args.email, request_id=args.request, on=args.on or dt.date.today(),
                     tasks_out=Path(args.tasks) if args.tasks else None, user=cli_user(),
                     progress=_progress_of(args))
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


def cmd_dsar_check_import(app: Workbench, args) -> int:
    from .output import emit

    read, hits = app.check_import(Path(args.file))
    emit(["line", "column", "why"], [(h.line, h.column, h.why) for h in hits], args.format)
    if args.format == "table":
        print(f"{args.file}: {read} rows read, {len(hits)} must not be imported (suppression list)")
    return 1 if hits else 0


def cmd_purge(app: Workbench, args) -> int:
    from .output import print_json, print_table

    as_of = args.as_of or dt.date.today()
    the_plan, purge_id, files, finished = app.purge(as_of, dry_run=args.dry_run, progress=_progress_of(args))
    earlier = [n for n in finished if n != purge_id]   # left unfinished by a failure, or by an older Insyn
    code = 1 if files.unreachable else 0   # a copy past its retention is still somewhere: say so
    if args.format == "json":
        print_json({**the_plan.as_json(), "dry_run": args.dry_run, "purge_id": purge_id,
                    "finished_earlier_purges": earlier, "retention": files.as_json()})
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
    if earlier:
        print(f"finished purge {', '.join(map(str, earlier))}: models rebuilt without its rows, the warehouse file "
              "rewritten and the dashboard's snapshots replaced")
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


def cmd_access_log(app: Workbench, args) -> int:
    from .accesslog import FIELDS
    from .output import emit

    entries = app.access_log().entries(since=args.since)
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


def cmd_dashboard(app: Workbench, args) -> int:
    from . import serve

    dash = serve.create(app, host=args.host, allow_http=args.allow_http)
    serve.run(dash, args.host, args.port)
    return 0


def _any_port(value: str) -> int:
    if not (value.isascii() and value.isdigit() and 0 <= int(value) <= 65535):
        raise argparse.ArgumentTypeError(f"not a port (0-65535; 0: any free one): {value!r}")
    return int(value)


def cmd_lab(app: Workbench, args) -> int:
    app.lab(args.host, args.port, announce=lambda note: print(note, flush=True))
    return 0


def cmd_user_add(app: Workbench, args) -> int:
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
    store = app.user_store()
    try:
        store.add(args.name, password, role=args.role)
    except AuthError as exc:
        raise InsynError(f"user add: {exc}") from None
    print(f"dashboard user {args.name} saved, role {store.role(args.name)} (password stored hashed)")
    return 0


def cmd_user_list(app: Workbench, args) -> int:
    from .auth import AuthError
    from .output import print_table

    try:
        users = app.user_store().listing()
    except AuthError as exc:
        raise InsynError(f"user list: {exc}") from None
    print_table(["name", "role", "created"], [(u["name"], u["role"], u["created_at"]) for u in users])
    return 0


def cmd_user_remove(app: Workbench, args) -> int:
    from .auth import AuthError

    try:
        removed = app.user_store().remove(args.name)
    except AuthError as exc:
        raise InsynError(f"user remove: {exc}") from None
    if not removed:
        raise InsynError(f"user remove: no dashboard user {args.name!r} (see `insyn user list`)")
    print(f"dashboard user {args.name} removed (their sessions end at their next request)")
    return 0


def cmd_sql(app: Workbench, args) -> int:
    from .sqlshell import shell

    return shell(app, args.query, args.format)


def cmd_demo(app: Workbench, args) -> int:
    from .demo import run_demo

    return run_demo(app.for_demo(), quiet=args.quiet)


def cmd_init(args) -> int:
    """No workbench yet: `insyn init DIR` makes one (insyn.init, from the package's content)."""
    from .init import POLICY_TEXT, init_workbench

    dest = Path(args.dir)
    written = init_workbench(dest)
    parts: dict[str, int] = {}
    for path in written:   # one line per part, not one per file
        top = path.relative_to(dest).parts[0]
        parts[top] = parts.get(top, 0) + 1
    print(f"workbench made in {dest} ({len(written)} files, readable by you only):")
    for top, count in sorted(parts.items()):
        print(f"  {top}{'/' if (dest / top).is_dir() else ''}" + (f"  ({count} files)" if count > 1 else ""))
    print(f"\nNext: 1. replace {dest / POLICY_TEXT} with your privacy policy's text\n"
          f"      2. check every value in {dest / 'policy.toml'} against it, and the paths in {dest / 'insyn.toml'}\n"
          f"      3. cd {dest} && insyn run data/inbox   (after putting your exports in data/inbox)")
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from .access_report import FORMATS
    from .auth import ROLES

    parser = argparse.ArgumentParser(
        prog="insyn",
        description="Insyn: is the privacy policy kept? Evidence from the company's own exports.",
        epilog=COMMANDS_HELP + "\nexit codes: 0 ok, 1 found/failed, 2 usage or input error, 3 warehouse busy, "
               "4 some rule not evaluated (its exports never loaded)",
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
    _full_option(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="run the Great Expectations suites in DuckDB; exit 1 when any fails")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("run", help="load an inbox folder, build and check")
    p.add_argument("inbox", metavar="INBOX", help="a folder (or file, or ZIP) of exports")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    _full_option(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("findings", help="what the rules found (built for the as-of date if needed)")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="the date to evaluate for (default: today)")
    p.add_argument("--rule", metavar="ID", help="one rule id, e.g. retention.inactive_company_initiated")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_findings)

    p = sub.add_parser("docs", help="write the data dictionary (HTML and Markdown) of every table and column")
    p.add_argument("--out", metavar="DIR", help="folder to write to (default: docs/ in the warehouse's own folder, "
                   "<warehouse>.d/)")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("audit", help="build the yearly audit pack, or verify one against its manifest")
    p.add_argument("--year", type=int, metavar="YEAR", help="the calendar year audited")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="default: the year's last day or today, whichever is earlier")
    p.add_argument("--lang", choices=("sv", "en"), help="report language (default: insyn.toml)")
    p.add_argument("--out", metavar="DIR", help="where packs go (default: insyn.toml audit_packs)")
    p.add_argument("--verify", metavar="DIR", help="re-check a pack against its manifest and signature; exit 1 "
                   "naming what changed (needs no workbench)")
    p.add_argument("--key", metavar="FINGERPRINT", help="with --verify: the DPO's key fingerprint, given out of band; "
                   "the pack must be signed by it or by a key it handed over to")
    p.add_argument("--previous", metavar="DIR", help="with --verify: the pack issued before this one (last year's); "
                   "it must be intact and signed, and this pack must follow exactly it")
    p.add_argument("--rotate-key", action="store_true", help="replace the audit signing key; the old key signs the "
                   "hand-over, which the next pack carries")
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
    p_report.add_argument("--out", metavar="FILE", help="where to write it (default: reports/ in the warehouse's own "
                          "folder, <warehouse>.d/)")
    p_report.add_argument("--identity-verified-by", metavar="NAME",
                          help="you vouch that NAME verified the person's identity (recorded in the ledger)")
    p_report.set_defaults(func=cmd_dsar_report)
    p_erase = dsar_sub.add_parser("erase", parents=[common],
                                  help="erase a person: purge the warehouse, suppress, list the deletion tasks")
    p_erase.add_argument("email", metavar="EMAIL")
    p_erase.add_argument("--request", metavar="ID", help="the register's request id (Ärende-ID) this carries out")
    p_erase.add_argument("--on", type=_date, metavar="DATE", help="the date of the erasure (default: today)")
    p_erase.add_argument("--tasks", metavar="FILE", help="where to write the deletion tasks CSV "
                         "(default: deletion-tasks/ in the warehouse's own folder, <warehouse>.d/)")
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

    p = sub.add_parser("lab", help="JupyterLab on the workbench's notebooks, offline, on this computer only, with a "
                                   "token; notebooks read a private read-only copy of the warehouse")
    p.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=_any_port, default=8888, help="port (default 8888; 0: any free one)")
    p.set_defaults(func=cmd_lab)

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

    p = sub.add_parser("init", help="create a new workbench for a company in DIR (new or empty): insyn.toml, "
                                    "policy.toml, pipelines and templates to adapt")
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=cmd_init, workbench_free=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # every file Insyn writes may hold personal data: owner only
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "workbench_free", False):
            return args.func(args)
        if args.func is cmd_audit and args.verify:
            return cmd_audit_verify(args)
        app = Workbench.open(args.workbench, db=args.db, engine=args.engine, lake=args.lake)
        return args.func(app, args)
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
