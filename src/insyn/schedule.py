"""`insyn schedule run`: run whatever scheduled job is due and not yet done.

Jobs live in insyn.toml under [schedule.<name>]: `every = "month"` (on `day`)
runs the monthly retention review notebook for that month; `every = "year"`
(on `month`/`day`) builds the yearly audit pack for the year before. Each run
is recorded in audit.schedule_runs, so running the command twice runs a due
job once (`--force` runs it again). Meant for cron or a systemd timer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, InsynError
from .schema import ensure_audit
from .texts import workbench_locale

@dataclass(frozen=True)
class Job:
    name: str
    every: str
    day: int
    month: int | None
    notebook: str | None

    def due(self, now: dt.datetime) -> tuple[str, dt.date] | None:
        """(period, as-of) of the latest occurrence on or before `now`, if any."""
        today = now.date()
        if self.every == "month":
            if today < dt.date(today.year, today.month, self.day):
                return None
            return f"{today.year:04d}-{today.month:02d}", today   # reviewed as of the day it runs
        due_on = dt.date(today.year, self.month, self.day)
        if today < due_on:
            return None
        return str(today.year - 1), dt.date(today.year - 1, 12, 31)


def jobs(settings) -> list[Job]:
    out = []
    where = str(settings.root / "insyn.toml")
    for name, spec in sorted(settings.schedule.items()):
        every = spec.get("every")
        if every not in ("month", "year"):
            raise ConfigError(where, f"schedule.{name}.every", "expected 'month' or 'year'")
        day = spec.get("day")
        if not isinstance(day, int) or not 1 <= day <= 28:
            raise ConfigError(where, f"schedule.{name}.day", "expected a day of the month, 1 to 28")
        month = spec.get("month")
        if every == "year" and (not isinstance(month, int) or not 1 <= month <= 12):
            raise ConfigError(where, f"schedule.{name}.month", "expected a month, 1 to 12")
        notebook = spec.get("notebook")
        if every == "month" and not isinstance(notebook, str):
            raise ConfigError(where, f"schedule.{name}.notebook", "expected the notebook to run")
        out.append(Job(name, every, day, month, notebook))
    return out


def _done(app, job: str, period: str) -> bool:
    con = app.connect()
    try:
        ensure_audit(con)
        return con.execute("select count(*) from audit.schedule_runs where job = $job and period = $period "
                           "and status = 'ok'", {"job": job, "period": period}).fetchone()[0] > 0
    finally:
        con.close()


def _record(app, job, period, as_of, started, status, output) -> None:
    con = app.connect()
    try:
        ensure_audit(con)
        con.execute("insert into audit.schedule_runs values ($job, $period, $as_of, $started, $finished, "
                    "$status, $output)",
                    {"job": job, "period": period, "as_of": as_of, "started": started,
                     "finished": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                     "status": status, "output": output})
    finally:
        con.close()
    app.publish()


def run_monthly(app, job: Job, period: str, as_of: dt.date) -> Path:
    from . import snapshot
    from .audit import execute_notebook, notebook_html

    app.ensure_built(as_of)
    wb = app.settings
    out = wb.audit_packs / "monthly" / period
    out.mkdir(parents=True, exist_ok=True)
    executed = out / f"retention-review-{period}.ipynb"
    execute_notebook(wb.root / job.notebook, executed, {
        "review_month": period, "as_of": as_of.isoformat(),
        "warehouse": str(snapshot.current(app.layout.published) or app.publish()),
        "queries": str(wb.pipelines / "queries"), "locale": str(workbench_locale(wb.root)),
        "language": wb.language, "run_id": uuid.uuid4().hex,
    }, cwd=wb.root)
    notebook_html(executed, out / f"retention-review-{period}.html")
    return out


def run_due(app, now: dt.datetime, *, force: bool = False, progress=None) -> list[tuple[str, str, str, str]]:
    """Run every due job not yet done (or every due job, with force); `app` is the application
    object (workbench.Workbench)."""
    say = progress or (lambda m: None)
    ran = []
    for job in jobs(app.settings):
        due = job.due(now)
        if due is None:
            continue
        period, as_of = due
        if not force and _done(app, job.name, period):
            continue
        say(f"{job.name} {period}: due, running ...")
        started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        try:
            if job.every == "month":
                output = str(run_monthly(app, job, period, as_of))
            else:
                output = str(app.audit_pack(int(period), as_of, progress=progress).path)
            status = "ok"
        except InsynError as exc:
            output, status = exc.message, "failed"
        _record(app, job.name, period, as_of, started, status, output)
        ran.append((job.name, period, status, output))
    return ran
