"""The application: what every entry point (the command line, the dashboard, the
scheduler, the demo, tests) does with a workbench and one of its warehouses.

`Workbench.open()` reads insyn.toml (config.Settings), chooses the warehouse
and the engine once (engines.py), and lays out the warehouse's paths (Layout);
its methods load, build, check, run, publish and answer. Printing is the
caller's. Modules below this one take the Workbench as an argument or plain
paths from its Layout; none of them imports it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

from .accesslog import ACCESS_LOG_FILE
from .config import WORKBENCH_ENV, Settings
from .errors import InsynError, PurgeUnfinished
from .ledger import LEDGER_FILE

STATE_SUFFIX = ".d"              # a warehouse's own state: <folder>/<warehouse file name>.d/
PUBLISHED = "published"
REPORTS = "reports"
DELETION_TASKS = "deletion-tasks"
DATA_DOCS = "data-docs"
DOCS = "docs"
ISSUED_PACKS = "issued-packs.jsonl"   # the audit packs issued, each chained to the one before


@dataclass(frozen=True)
class Layout:
    """Every path of one warehouse, and the workbench-wide ones it uses, in one place.

    A warehouse keeps its state in a folder of its own beside it, named after its
    file (`insyn.duckdb.d/`): its published snapshots, DSAR ledger, access log,
    access reports, deletion tasks, Data Docs and data dictionary. Two warehouses
    in one folder share none of it."""

    warehouse: Path
    secrets: Path | None = None        # workbench-wide (insyn.toml); None: a warehouse's own paths only
    audit_packs: Path | None = None

    @classmethod
    def of(cls, warehouse: Path, settings: Settings, audit_packs: Path | None = None) -> "Layout":
        return cls(warehouse, settings.secrets, audit_packs or settings.audit_packs)

    @property
    def folder(self) -> Path:
        return self.warehouse.parent

    @property
    def wal(self) -> Path:
        return self.warehouse.with_name(self.warehouse.name + ".wal")

    @property
    def state(self) -> Path:
        return self.warehouse.with_name(self.warehouse.name + STATE_SUFFIX)

    @property
    def published(self) -> Path:
        return self.state / PUBLISHED

    @property
    def ledger(self) -> Path:
        return self.state / LEDGER_FILE

    @property
    def access_log(self) -> Path:
        return self.state / ACCESS_LOG_FILE

    @property
    def reports(self) -> Path:
        return self.state / REPORTS

    @property
    def deletion_tasks(self) -> Path:
        return self.state / DELETION_TASKS

    @property
    def data_docs(self) -> Path:
        return self.state / DATA_DOCS

    @property
    def docs(self) -> Path:
        return self.state / DOCS

    @property
    def issued_packs(self) -> Path:
        return self.state / ISSUED_PACKS

    @property
    def users(self) -> Path:
        return self.secrets / "users.json"

    @property
    def session_key(self) -> Path:
        return self.secrets / "session.key"

    @property
    def old_state(self) -> list[Path]:
        """Where an older Insyn kept the state of every warehouse of a folder, beside them: its
        DSAR ledger, access log, published snapshots and Data Docs (names only Insyn uses)."""
        return [self.folder / name for name in (LEDGER_FILE, ACCESS_LOG_FILE, PUBLISHED, DATA_DOCS)]

    def make_state(self) -> None:
        """The warehouse's state folder, owner-only (whatever the umask)."""
        self.state.mkdir(mode=0o700, parents=True, exist_ok=True)

    def legacy(self) -> list[Path]:
        """State of the old per-folder layout still beside the warehouse."""
        return [old for old in self.old_state if old.exists()]

    def refuse_legacy(self) -> None:
        """Refuse to work beside state of the old layout: a ledger left unread would let erased
        people back in, and old Data Docs would escape an erasure's scrubbing. The old ledger was
        every warehouse's of the folder: each gets a copy, then it goes; the rest moves here."""
        found = self.legacy()
        if not found:
            return
        problem = (f"{', '.join(str(p) for p in found)}: state of an older Insyn beside the warehouse "
                   f"{self.warehouse}; this version keeps each warehouse's own in {self.state}/ and would not "
                   "see it (recorded erasures would be ignored, old Data Docs not scrubbed)")
        old_ledger = self.folder / LEDGER_FILE
        if old_ledger.exists() and self.ledger.exists():
            raise InsynError(f"{problem}. Both {old_ledger} and {self.ledger} exist: add the old entries the "
                             "new one lacks to it by hand, then remove the old one")
        q = shlex.quote
        # every warehouse of the folder shared the old ledger: each needs a copy of it
        sharing = sorted({self.warehouse, *self.folder.glob("*.duckdb")})
        states = [w.with_name(w.name + STATE_SUFFIX) for w in sharing]
        steps = [f"mkdir -m 700 -p {' '.join(q(str(st)) for st in states)}"]
        if old_ledger.exists():
            steps += [f"cp -p {q(str(old_ledger))} {q(str(st))}/" for st in states]
        # reports and deletion tasks go along: the ledger records them relative to its folder
        movable = [self.folder / name for name in (ACCESS_LOG_FILE, PUBLISHED, REPORTS, DELETION_TASKS, DATA_DOCS,
                                                   DOCS)
                   if (self.folder / name).exists() and not (self.state / name).exists()]
        if movable:
            steps.append(f"mv {' '.join(q(str(p)) for p in movable)} {q(str(self.state))}/")
        if old_ledger.exists():
            steps.append(f"rm {q(str(old_ledger))}")
        raise InsynError(f"{problem}. Move it there first: {' && '.join(steps)} (a warehouse of that folder "
                         "not named *.duckdb needs its own copy of the old ledger too)")


class Purged(NamedTuple):
    plan: object            # purge.PurgePlan
    purge_id: int | None
    files: object           # purge.FilePurge
    finished: list          # purge ids whose clean-up this purge did (its own, and any a failure left)


class Workbench:
    """The application object: a workbench's settings, one warehouse's Layout, the engine."""

    def __init__(self, settings: Settings, layout: Layout, engine):
        self.settings = settings
        self.layout = layout
        self.engine = engine
        self._policy = None
        self._sources = None
        self._publish_held = False     # inside run(): one snapshot at the end, not one per step
        self._publish_wanted = False

    @classmethod
    def open(cls, root: Path | str | None = None, db: Path | str | None = None, engine: str | None = None,
             lake: str | None = None) -> "Workbench":
        """The workbench in `root` (else $INSYN_WORKBENCH, else the current folder), its warehouse
        `db` (else $INSYN_DB, else insyn.toml's) and engine (else $INSYN_ENGINE, else insyn.toml's)."""
        from .db import configure
        from .engines import choose

        settings = Settings.load(Path(root or os.environ.get(WORKBENCH_ENV) or "."))
        layout = Layout.of(settings.database(str(db) if db else None), settings)
        chosen = choose(settings, engine, lake)
        configure(settings.duckdb)
        layout.refuse_legacy()
        return cls(settings, layout, chosen)

    def for_demo(self) -> "Workbench":
        """The same workbench on the demo's own warehouse (DuckDB; its audit packs beside it)."""
        from .engines import DuckDB

        warehouse = self.settings.demo_warehouse
        demo = Workbench(self.settings, Layout.of(warehouse, self.settings, warehouse.parent / "audit-packs"),
                         DuckDB())
        demo._policy, demo._sources = self._policy, self._sources
        return demo

    # ------------------------------------------------------------ what it is made of

    @property
    def policy(self):
        if self._policy is None:
            self._policy = self.settings.policy()
        return self._policy

    @property
    def sources(self):
        if self._sources is None:
            from .sources import Sources

            self._sources = Sources.load(self.settings.pipelines / "sources.toml")
        return self._sources

    def connect(self, read_only: bool = False):
        from .db import connect

        return connect(self.layout.warehouse, read_only=read_only)

    def erasures(self):
        """The ledger's erasures and the salt that recognises them."""
        from .ledger import Erasures

        return Erasures.of(self.layout.ledger, self.settings.secrets)

    def access_log(self):
        from .accesslog import AccessLog

        return AccessLog(self.layout.access_log, self.settings.secrets)

    def user_store(self):
        from .auth import UserStore

        return UserStore(self.layout.users)

    def publish(self) -> Path | None:
        """Give readers (the dashboard) a snapshot of what was just written; its path (None while
        a run holds its publishing to its end). With $INSYN_TIMINGS naming a file, each publish
        appends its seconds and bytes there as a JSON line (benchmarks/run.py reads it)."""
        import json
        import time

        from .snapshot import publish

        if self._publish_held:
            self._publish_wanted = True
            return None
        self.layout.make_state()
        started = time.perf_counter()
        path = publish(self.layout.warehouse, self.layout.published)
        timings = os.environ.get("INSYN_TIMINGS")
        if timings:
            with open(timings, "a", encoding="utf-8") as out:
                out.write(json.dumps({"step": "publish", "seconds": round(time.perf_counter() - started, 3),
                                      "bytes": path.stat().st_size}) + "\n")
        return path

    def readable(self) -> Path:
        """The file a reader outside the pipeline opens read-only (a notebook): the published
        snapshot, else the warehouse itself; nothing is written for it."""
        from .snapshot import current

        found = current(self.layout.published) or self.layout.warehouse
        if not found.exists():
            raise InsynError(f"{self.layout.warehouse}: no warehouse yet (run `insyn run INBOX` or `insyn demo` first)")
        return found

    def lab(self, host: str, port: int, announce=print) -> None:
        """JupyterLab (lab.py) on the workbench's notebooks over a private read-only copy of the
        published snapshot (published first when there is none), until stopped."""
        from . import lab
        from .snapshot import current

        lab.require_jupyterlab()
        lab.check_address(host, port)
        snapshot = current(self.layout.published)
        if snapshot is None:
            self.readable()   # says so when there is no warehouse
            snapshot = self.publish()
        lab.run(snapshot, workbench=self.settings.root, host=host, port=port, announce=announce)

    # ------------------------------------------------------------ the pipeline

    def load_options(self, *, source: str | None = None, exported_at: dt.datetime | None = None,
                     progress=None) -> dict:
        """The arguments of load.load that come from this workbench (engines use them)."""
        settings = self.settings
        return dict(root=settings.root, sources=self.sources, policy=self.policy, ignore=settings.ignore,
                    source=source, erasures=self.erasures(), pipelines=settings.pipelines,
                    bulk_min_bytes=settings.bulk_min_bytes, exported_at=exported_at, progress=progress)

    def load(self, paths: list[Path], *, source: str | None = None, exported_at: dt.datetime | None = None,
             progress=None):
        """Load export files, folders or archives in one batch; the load.LoadReport.
        A refused first load leaves no warehouse."""
        return self.engine.load(self, [Path(p) for p in paths], source=source, exported_at=exported_at,
                                progress=progress)

    def build(self, as_of: dt.date, progress=None, full: bool = False) -> list:
        """Build the models for `as_of` on the engine, and publish; `full`: every model computed
        anew (else incremental models get only the files loaded since the last build)."""
        models = self.engine.build(self, as_of, progress, full=full)
        self.publish()
        return models

    def ensure_built(self, as_of: dt.date, progress=None) -> None:
        """Build the models for `as_of` unless they already are, after the last load."""
        from .findings import is_current

        if self.layout.warehouse.exists():
            con = self.connect(read_only=True)
            try:
                if is_current(con, as_of) and self.engine.serves_current(self, con):
                    return
            finally:
                con.close()
        self.build(as_of, progress)

    def first_export_year(self) -> int | None:
        """The year of the earliest export loaded, or None (no warehouse, or nothing loaded)."""
        from .db import table_exists

        if not self.layout.warehouse.exists():
            return None
        con = self.connect(read_only=True)
        try:
            if not table_exists(con, "audit", "files"):
                return None
            first = con.execute("select min(exported_at) from audit.files").fetchone()[0]
        finally:
            con.close()
        return first.year if first else None

    def built_as_of(self) -> dt.date | None:
        """The as-of the models were last built for (the warehouse must exist)."""
        from .findings import built_as_of

        con = self.connect(read_only=True)
        try:
            return built_as_of(con)
        finally:
            con.close()

    def check(self, as_of: dt.date, docs: Path | None = None, progress=None):
        """Run the Great Expectations suites for `as_of` (built first if needed), record them,
        write their Data Docs (default: the warehouse's) and publish; the check.CheckReport."""
        from . import findings
        from .check import CheckReport, record, run_gx

        if self.nothing_loaded():   # nothing to check: no run recorded, no warehouse made
            return CheckReport(None, as_of, [], None, self.not_evaluated(as_of))
        self.ensure_built(as_of, progress=progress)
        self.layout.make_state()
        docs = docs or self.layout.data_docs
        started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        con = self.connect(read_only=True)
        try:
            available = findings.available_sources(con, as_of, self.sources, self.policy.text_path)
            unable = findings.not_evaluated(con)
            judged = {rule for (rule,) in con.execute("select distinct rule from audit.current_findings").fetchall()}
        finally:
            con.close()
        if progress:
            progress(f"running the Great Expectations suites in {self.engine.label} ...")
        # a rule that could judge nothing (its sources missing, or its rows all "could not judge") is not
        # checked: its expectation would pass on nothing; one that judged part of its records is
        results = run_gx(self.layout.warehouse, self.settings.root, self.settings.expectations / "suites.py",
                         self.settings.pipelines, docs, lake=self.engine.lake, scratch=self.layout.state,
                         available=available,
                         unable=[e for e in unable if e["missing_sources"] or e["rule"] not in judged])
        con = self.connect()
        try:
            run_id = record(con, as_of, results, started, docs)
        finally:
            con.close()
        self.publish()
        return CheckReport(run_id, as_of, results, docs, unable)

    def run(self, inbox: Path, as_of: dt.date, progress=None,
            on_loaded: Callable[[object], None] | None = None, full: bool = False):
        """Load an inbox, build (`full`: every model anew) and check, one run at a time per
        warehouse (else WarehouseBusy), and publish once, at the end (also when a step fails, for
        what the steps before it committed); `on_loaded` sees the load report before the build
        starts. (load report, check report)."""
        from .db import run_lock

        with run_lock(self.layout.warehouse), self._publishing_once():
            loaded = self.load([Path(inbox)], progress=progress)
            if on_loaded:
                on_loaded(loaded)
            self.build(as_of, progress=progress, full=full)
            return loaded, self.check(as_of, progress=progress)

    @contextlib.contextmanager
    def _publishing_once(self):
        """The publishes the steps inside ask for, made once when they end (also when one fails:
        what the steps before it committed; the step's own error is the one raised)."""
        self._publish_held, self._publish_wanted = True, False
        try:
            yield
        except BaseException:
            self._publish_held = False
            if self._publish_wanted:
                with contextlib.suppress(Exception):
                    self.publish()
            raise
        self._publish_held = False
        if self._publish_wanted:
            self.publish()

    # ------------------------------------------------------------ answers

    def loads(self) -> list[dict]:
        return self.engine.loads(self)

    def findings(self, as_of: dt.date, rule: str | None = None, progress=None) -> list[dict]:
        """What the rules found as of `as_of` (built first if needed), for one rule or all; nothing,
        and no warehouse made, before anything is loaded (see not_evaluated)."""
        from . import findings

        self._known_rule(rule)
        if self.nothing_loaded():
            return []
        self.ensure_built(as_of, progress=progress)
        con = self.connect(read_only=True)
        try:
            return findings.read(con, rule)
        finally:
            con.close()

    # ------------------------------------------------------------ rules not evaluated

    def rule_specs(self) -> list[dict]:
        """Every rule's spec from its yml (findings.rule_specs), its needs checked against sources.toml."""
        from .build import discover
        from .findings import check_needs, rule_specs

        specs = rule_specs(discover(self.settings.pipelines))
        check_needs(specs, set(self.sources.names()))
        return specs

    def _known_rule(self, rule: str | None) -> None:
        known = {spec["rule"] for spec in self.rule_specs()}
        if rule and rule not in known:
            raise InsynError(f"--rule: unknown rule id {rule!r} (known: {', '.join(sorted(known))})")

    def nothing_loaded(self) -> bool:
        """No export loaded yet (no warehouse, or no file in it): no rule can be evaluated."""
        return not self.loads()

    def not_evaluated(self, as_of: dt.date, rule: str | None = None, lang: str = "en", progress=None) -> list[dict]:
        """The rules that could not be evaluated as of `as_of` because what they need was never
        loaded (findings.not_evaluated; built first if needed), with their detail in `lang`.
        Before anything is loaded: every rule, and no warehouse is made."""
        from . import findings
        from .texts import cached, workbench_locale

        self._known_rule(rule)
        words = cached(workbench_locale(self.settings.root), lang)
        if self.nothing_loaded():
            specs = [s for s in self.rule_specs() if rule in (None, s["rule"])]
            available = {findings.POLICY_TEXT} if findings.policy_text_problem(self.policy.text_path) is None \
                else set()
            return findings.with_details(findings.nothing_loaded(specs, available), words)
        self.ensure_built(as_of, progress=progress)
        con = self.connect(read_only=True)
        try:
            return findings.with_details(findings.not_evaluated(con, rule), words)
        finally:
            con.close()

    def dsar_due(self, as_of: dt.date, progress=None) -> tuple[list[str], list[tuple]]:
        """The open requests and the days left (the named query dsar_due): names and rows."""
        from .queries import rows

        self.ensure_built(as_of, progress=progress)
        con = self.connect(read_only=True)
        try:
            return rows(con, self.settings.pipelines / "queries", "dsar_due")
        finally:
            con.close()

    def docs(self, out: Path | None = None, progress=None) -> list[Path]:
        """Write the data dictionary (default: the warehouse's docs folder); the files written."""
        from .docs import write_dictionary

        self.ensure_built(self.built_as_of() or dt.date.today(), progress=progress)
        self.layout.make_state()
        con = self.connect(read_only=True)
        try:
            return write_dictionary(con, out or self.layout.docs, self.sources, self.settings)
        finally:
            con.close()

    # ------------------------------------------------------------ the people's rights

    def access_report(self, email: str, *, as_of: dt.date, lang: str, fmt: str, out: Path | None = None,
                      vouched_by: str | None = None, user: str, progress=None) -> tuple[dict, Path]:
        """The access report (art. 15) for one person, identity first, written to `out` (default:
        the warehouse's reports folder); every attempt goes in the access log as `user`."""
        from .access_report import default_name, produce, verified_request
        from .text import email_key

        self.engine.require_raw_layer("dsar report")
        self.ensure_built(as_of, progress=progress)
        self.layout.make_state()
        log = self.access_log()
        con = self.connect(read_only=True)
        try:
            if out is None:
                found = verified_request(con, email_key(email) or "", as_of)
                out = self.layout.reports / default_name(found[0] if found else None, fmt)
            try:
                report = produce(con, email=email, as_of=as_of, lang=lang, fmt=fmt, out=out,
                                 workbench=self.settings, policy=self.policy, sources=self.sources,
                                 ledger=self.layout.ledger, vouched_by=vouched_by)
            except InsynError:   # refused (identity not verified, ...): the attempt is recorded too
                log.record("report", user=user, email=email, success=False)
                raise
        finally:
            con.close()
        identity = report["identity"]
        if identity["how"] == "vouched":
            log.record("vouch", user=user, email=email, success=True, detail=f"ledger {identity['ledger_entry']}")
        log.record("report", user=user, email=email, success=True, detail=f"{fmt}, {lang}")
        return report, out

    def erase(self, email: str, *, request_id: str | None, on: dt.date, tasks_out: Path | None = None,
              user: str, progress=None):
        """Erase a person (erasure.erase); the attempt goes in the access log as `user`."""
        from .db import run_lock
        from .erasure import erase

        self.engine.require_raw_layer("dsar erase")
        self.layout.make_state()
        log = self.access_log()
        try:
            # it rebuilds and rewrites the warehouse: not beside an `insyn run` or a purge (exit 3)
            with run_lock(self.layout.warehouse, "insyn dsar erase"):
                done = erase(self, email, request_id=request_id, on=on, tasks_out=tasks_out, progress=progress)
        except InsynError:
            log.record("erase", user=user, email=email, success=False)
            raise
        log.record("erase", user=user, email=email, success=True, detail=f"ledger {done.entry_id}")
        return done

    def check_import(self, path: Path):
        """(rows read, rows the suppression list forbids) of a file about to be imported."""
        from .erasure import check_import

        return check_import(Path(path), self.erasures())

    def purge(self, as_of: dt.date, dry_run: bool = False, progress=None) -> Purged:
        """The workbench's own retention: raw rows past it (purge.py), then files past [retention].
        Not beside an `insyn run` (it would rebuild under the run's steps): refused, as a second run is."""
        from . import purge
        from .db import run_lock, table_exists

        self.engine.require_raw_layer("purge")
        warehouse = self.layout.warehouse
        if not warehouse.exists():
            raise InsynError(f"{warehouse}: no warehouse yet: nothing to purge")
        with contextlib.nullcontext() if dry_run else run_lock(warehouse, "insyn purge"):
            con = self.connect(read_only=dry_run)
            try:
                if not table_exists(con, "audit", "files"):
                    raise InsynError(f"{warehouse}: nothing loaded yet: nothing to purge")
                if not dry_run:
                    purge.prepare(con, self.sources)
                the_plan = purge.plan(con, self.sources, self.policy, self.settings.snapshot_months, as_of)
                purge_id, unsettled = None, []
                if not dry_run and the_plan.rows + len(the_plan.files):
                    purge_id = purge.purge(con, self.sources, the_plan)
                if not dry_run:
                    unsettled = purge.unsettled(con)   # this one, or an earlier one a failure left
            finally:
                con.close()
            try:
                if unsettled:
                    self._after_purge(unsettled, progress or (lambda message: None))
            finally:   # the files past [retention] go whatever the models' clean-up did
                files = purge.purge_files(ledger=self.layout.ledger, access_log=self.layout.access_log,
                                          secrets=self.settings.secrets, reports=self.layout.reports,
                                          deletion_tasks=self.layout.deletion_tasks,
                                          retention=self.settings.retention, as_of=as_of, dry_run=dry_run)
        return Purged(the_plan, purge_id, files, unsettled)

    def _after_purge(self, purge_ids: list[int], say) -> None:
        """As after an erasure, nothing readers can open keeps what was purged: the models built
        from it are rebuilt (at the as-of they were built for), the warehouse is rewritten so that
        freed pages keep nothing, and every earlier snapshot makes way for a fresh one. The purges
        are settled only then: if a step fails, the next `insyn purge` does them again."""
        from .erasure import compact
        from .purge import settle
        from .snapshot import remove_published

        try:
            as_of = self.built_as_of()
            if as_of is not None:
                say(f"rebuilding the models as of {as_of} without the purged rows ...")
                self.engine.build(self, as_of)
            say("rewriting the warehouse file and replacing the dashboard's snapshots ...")
            compact(self.layout.warehouse)
            remove_published(self.layout.published)
            con = self.connect()
            try:
                settle(con, purge_ids)
            finally:
                con.close()
        except (Exception, KeyboardInterrupt) as exc:
            # the deletions stay committed: say so, and how to finish (a message, never a value)
            why = ("interrupted" if isinstance(exc, KeyboardInterrupt)
                   else exc.message if isinstance(exc, InsynError) else type(exc).__name__)
            raise PurgeUnfinished(
                f"purge {', '.join(map(str, purge_ids))}: the rows are deleted, but rebuilding the models, "
                f"rewriting the warehouse file or replacing the dashboard's snapshots did not finish ({why}); "
                "run `insyn purge` again to finish it") from None
        self.publish()   # no snapshot is left that holds the purged rows; any later command publishes too

    # ------------------------------------------------------------ outputs

    def audit_pack(self, year: int, as_of: dt.date | None, language: str | None = None, out: Path | None = None,
                   progress=None):
        """The yearly audit pack (audit.build_pack) under `out` (default: the layout's audit packs),
        for a year from the earliest export loaded to this one (`--year 26` is no year audited)."""
        from .audit import build_pack

        first = self.first_export_year()
        if first is None:
            raise InsynError(f"{self.layout.warehouse}: nothing loaded yet: no year to audit")
        this_year = dt.date.today().year
        if not first <= year <= this_year:
            raise InsynError(f"--year {year}: expected a year from {first} (the earliest export loaded) "
                             f"to {this_year}")
        if as_of is None:   # (after the check: `--year 0` has no last day to default to)
            from .audit import default_as_of
            as_of = default_as_of(year)

        return build_pack(self, year=year, as_of=as_of, language=language or self.settings.language,
                          out=out or self.layout.audit_packs, progress=progress)

    def rotate_signing_key(self):
        """A new audit signing key, handed over from the old one by a statement the old one signs
        (signing.rotate); the next pack carries it. Returns (old, new)."""
        from .signing import rotate

        return rotate(self.settings.secrets)

    def schedule_run(self, now: dt.datetime, force: bool = False, progress=None) -> list[tuple[str, str, str, str]]:
        """Run the scheduled jobs that are due (schedule.run_due)."""
        from .schedule import run_due

        return run_due(self, now, force=force, progress=progress)
