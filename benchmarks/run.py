"""Insyn at scale, side by side with raw DuckDB and a pandas baseline, in one run.

    python benchmarks/run.py --contacts 500000 --events 5000000 [--weeks 4] --json out.json
    python benchmarks/run.py --scale-series [--contacts 1000000 --events 4000000]

The base is --weeks weekly CRM and audience snapshots up to AS_OF (two years of
e-mail events, the web logs and the register with the last); the weekly run
then loads the week after (NEXT_WEEK) into the warehouse holding them, and a
full rebuild loads all of them into a new one.

Every figure is measured here, in this run, next to its baseline, and
reported as a ratio: this machine has two cores and other work on it, so a
time alone says little. Each step runs as its own process (as an operator
runs it), timed by the wall clock, its peak memory (the process and its
children) sampled. benchmarks/README.md explains the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import pandas_baseline  # noqa: E402

PYTHON = sys.executable
INSYN = str(Path(sys.executable).with_name("insyn"))
AS_OF = dt.date(2026, 11, 24)
NEXT_WEEK = AS_OF + dt.timedelta(days=7)


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    stdout: str


def measure(command: list[str], *, env: dict | None = None, cwd: Path | None = None,
            ok: tuple[int, ...] = (0,)) -> Measured:
    """Run a command to its end: wall time, and the peak resident memory of it and its children."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, cwd=cwd)
    peak = _PeakSampler(proc.pid)
    peak.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    peak.stop()
    if proc.returncode not in ok:
        raise SystemExit(f"benchmark step failed ({proc.returncode}): {' '.join(command)}\n{err[-3000:]}")
    return Measured(seconds, peak.mb, out)


class _PeakSampler(threading.Thread):
    """Samples the resident memory of a process tree every 50 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                self.peak = max(self.peak, sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                return
            self._done.wait(0.05)

    def stop(self) -> None:
        self._done.set()
        self.join()

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


# ---------------------------------------------------------------- set-up


def workbench(work: Path, memory_limit: str, threads: int) -> Path:
    """A workbench of its own (insyn.toml) on the repository's policy and models, with DuckDB's limits."""
    folder = work / "workbench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "insyn.toml").write_text(textwrap.dedent(f"""\
        [workbench]
        language = "sv"
        policy = "{REPO / 'policy.toml'}"
        pipelines = "{REPO / 'pipelines'}"
        expectations = "{REPO / 'expectations'}"
        templates = "{REPO / 'templates'}"
        warehouse = "{work / 'warehouse.duckdb'}"
        demo_warehouse = "{work / 'demo.duckdb'}"
        inbox = "{work / 'inbox'}"
        sample = "{REPO / 'data' / 'sample'}"
        audit_packs = "{work / 'audit-packs'}"
        secrets = "{work / 'secrets'}"

        [load]
        ignore = [".*"]

        [duckdb]
        memory_limit = "{memory_limit}"
        threads = {threads}
        temp_directory = "{work / 'spill'}"
        """), encoding="utf-8")
    for part in ("dashboards", "notebooks"):   # found beside insyn.toml, as in a real workbench
        if not (folder / part).exists():
            (folder / part).symlink_to(REPO / part)
    return folder


def exports(work: Path, contacts: int, events: int, seed: int, weeks: int) -> tuple[Path, Path, float]:
    """The base exports (`weeks` weekly snapshots up to AS_OF) and the following week's, in two folders."""
    base, extra = work / "exports", work / "extra-week"
    started = time.perf_counter()
    generate.generate(base, contacts, events, seed=seed, as_of=AS_OF, weeks=weeks, extra_week=True)
    seconds = time.perf_counter() - started
    extra.mkdir(exist_ok=True)
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and p.name > AS_OF.isoformat()):
        folder.rename(extra / folder.name)
    return base, extra, seconds


def linked_inbox(folders: list[Path], inbox: Path) -> Path:
    """One folder holding every file of `folders` as hard links under the same relative paths (their
    dated folders carry the export dates): `insyn run` takes one inbox, and a copy would cost GBs."""
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            target = inbox / path.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)   # the same name twice is an error: two exports would be one
    return inbox


def full_flag() -> list[str]:
    """`--full` when this Insyn's `insyn run` has it (a rebuild of every model, nothing kept)."""
    help_text = subprocess.run([INSYN, "run", "--help"], capture_output=True, text=True).stdout
    return ["--full"] if "--full" in help_text else []


def publishes(timings: Path) -> dict:
    """The publishes a process logged to its INSYN_TIMINGS file: seconds, count and MB; None each
    when it wrote no file (an Insyn without INSYN_TIMINGS)."""
    if not timings.exists():
        return {"seconds": None, "count": None, "mb": None}
    lines = [json.loads(line) for line in timings.read_text(encoding="utf-8").splitlines() if line.strip()]
    mine = [line for line in lines if line.get("step") == "publish"]
    return {"seconds": round(sum(line["seconds"] for line in mine), 3), "count": len(mine),
            "mb": round(sum(line.get("bytes", 0) for line in mine) / 2**20, 1)}


def findings_differ(weekly: str, full: str, folders: list[Path]) -> list[str]:
    """What two `insyn findings --format json` outputs do not share, the rules not evaluated included;
    [] when equal. Facts aside (they name loaded files, which two warehouses number differently), and
    the export folders' paths (a web log's findings name its file) read as one."""
    def keyed(text: str) -> set[str]:
        for folder in folders:
            text = text.replace(f"{folder}{os.sep}", f"EXPORTS{os.sep}")
        document = json.loads(text)
        return ({json.dumps({k: v for k, v in f.items() if k != "facts"}, sort_keys=True, ensure_ascii=False)
                 for f in document["findings"]}
                | {f"not evaluated: {e['rule']}" for e in document["not_evaluated"]})

    mine, theirs = keyed(weekly), keyed(full)
    return ([f"only weekly: {k}" for k in sorted(mine - theirs)][:10]
            + [f"only full: {k}" for k in sorted(theirs - mine)][:10])


def _split(folder: Path) -> tuple[list[Path], list[Path]]:
    """The CRM, audience and event files, CSV and JSON (timed against raw DuckDB), and the rest:
    web logs, and the DPO's register (small, and saved by Excel in cp1252, which raw DuckDB cannot read)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    tabular = [p for p in files if p.suffix.lower() in (".csv", ".json", ".jsonl") and "register" not in p.parts]
    return tabular, [p for p in files if p not in tabular]


# The fair limit of `insyn load`: DuckDB loading the same files into a persistent file with every
# column as text (the raw layer keeps every cell as the export wrote it), same memory and threads.
# CSV: all_varchar; JSON has no such switch, so its columns (as DuckDB detects them) are named VARCHAR.
RAW_DUCKDB = """
import sys, duckdb
db, memory_limit, threads, *files = sys.argv[1:]
con = duckdb.connect(db, config={"memory_limit": memory_limit, "threads": threads})
for n, path in enumerate(files):
    if path.endswith((".json", ".jsonl")):
        names = [r[0] for r in con.execute("describe select * from read_json(?)", [path]).fetchall()]
        relation = con.read_json(path, columns={name: "VARCHAR" for name in names})
    else:
        relation = con.read_csv(path, all_varchar=True)
    relation.create(f"t{n}")
con.close()
"""

# The same expectations as plain DuckDB queries, in one process: for each, how many rows fail it and
# the first few of them (what a check reports), every value a bound parameter. Written by plain_checks().
CHECKS_PLAIN_SQL = """
import json, sys, duckdb
db, memory_limit, threads, checks = sys.argv[1:]
con = duckdb.connect(db, read_only=True, config={"memory_limit": memory_limit, "threads": threads})
for check in json.loads(open(checks, encoding="utf-8").read()):
    con.execute("select count(*) from (" + check["failing"] + ")", check["params"]).fetchall()
    con.execute(check["failing"] + " limit 20", check["params"]).fetchall()
"""


def plain_checks(bench: Path, out: Path) -> int:
    """Every expectation of every suite `insyn check` runs (quality and compliance), as the SQL of its
    failing rows over its suite's query, written to `out` as JSON; returns how many. A kind of
    expectation without a translation here stops the benchmark (the baseline must be the same checks)."""
    from insyn import gx_runner
    from insyn.config import Settings
    from insyn.db import ident

    module = gx_runner.load_suites_module(REPO / "expectations" / "suites.py")
    suites = (module.quality_suites(Settings.load(bench).policy())
              + [module.compliance_suite(gx_runner.rule_specs(REPO / "pipelines"))])
    checks = []
    for suite in suites:
        batch = f"({suite['query']}) as batch"
        for expectation in suite["expectations"]:
            kind = type(expectation).__mro__
            names = {k.__name__ for k in kind}
            column = ident(expectation.column) if hasattr(expectation, "column") else None
            if "UnexpectedRowsExpectation" in names:
                failing, params = expectation.unexpected_rows_query.replace("{batch}", batch), {}
            elif "ExpectColumnValuesToNotBeNull" in names:
                failing, params = f"select * from {batch} where {column} is null", {}
            elif "ExpectColumnValuesToBeUnique" in names:
                failing = (f"select * from {batch} where {column} in (select {column} from {batch} "
                           f"where {column} is not null group by {column} having count(*) > 1)")
                params = {}
            elif "ExpectColumnValuesToMatchRegex" in names:
                failing = f"select * from {batch} where {column} is not null and not regexp_matches({column}, $v)"
                params = {"v": expectation.regex}
            elif "ExpectColumnValuesToBeInSet" in names:
                failing = f"select * from {batch} where {column} is not null and not list_contains($v, {column})"
                params = {"v": list(expectation.value_set)}
            elif "ExpectColumnValuesToNotBeInSet" in names:
                failing = f"select * from {batch} where {column} is not null and list_contains($v, {column})"
                params = {"v": list(expectation.value_set)}
            else:
                raise SystemExit(f"no plain SQL for {type(expectation).__name__} in suite {suite['name']}")
            checks.append({"failing": failing, "params": params})
    out.write_text(json.dumps(checks), encoding="utf-8")
    return len(checks)


# ---------------------------------------------------------------- one run


def run_once(contacts: int, events: int, *, work: Path, memory_limit: str, threads: int, seed: int,
             dashboard_requests: int, weeks: int = 4) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    bench = workbench(work, memory_limit, threads)
    base, extra, generate_s = exports(work, contacts, events, seed, weeks)
    tabular, rest = _split(base)
    db = work / "main" / "insyn.duckdb"

    def insyn(*args, db_path: Path = db, ok=(0,), timings: Path | None = None) -> Measured:
        env = {"INSYN_TIMINGS": str(timings)} if timings else None
        return measure([INSYN, "--workbench", str(bench), "--db", str(db_path), *map(str, args)], ok=ok, env=env)

    def pandas(*folders: Path, as_of: dt.date, out: Path) -> Measured:
        return measure([PYTHON, str(HERE / "pandas_baseline.py"), *map(str, folders), "--as-of", as_of.isoformat(),
                        "--json", str(out)])

    def agree_with_pandas(pandas_out: Path, insyn_out: str) -> None:
        problems = pandas_baseline.compare(_read_json(pandas_out), json.loads(insyn_out))
        if problems:
            raise SystemExit("the pandas baseline disagrees with Insyn:\n" + "\n".join(problems[:20]))

    steps: dict[str, Measured] = {}
    steps["raw"] = measure([PYTHON, "-c", RAW_DUCKDB, str(work / "raw.duckdb"), memory_limit, str(threads),
                            *map(str, tabular)])
    (work / "raw.duckdb").unlink()   # disk: at 5 M contacts each warehouse is several GB
    steps["ingest"] = insyn("load", "--quiet", *tabular)
    steps["load_rest"] = insyn("load", "--quiet", *rest)
    steps["build"] = insyn("build", "--quiet", "--as-of", AS_OF)
    steps["findings"] = insyn("findings", "--as-of", AS_OF, "--format", "json")
    # the first load's pandas: the base weeks as of AS_OF
    steps["pandas_first_load"] = pandas(base, as_of=AS_OF, out=work / "pandas-first-load.json")
    agree_with_pandas(work / "pandas-first-load.json", steps["findings"].stdout)

    expectations = plain_checks(bench, work / "checks.json")
    steps["checks"] = measure([PYTHON, "-m", "insyn.gx_runner", "--db", str(db), "--workbench", str(bench),
                               "--suites", str(REPO / "expectations" / "suites.py"),
                               "--pipelines", str(REPO / "pipelines")])
    steps["checks_raw"] = measure([PYTHON, "-c", CHECKS_PLAIN_SQL, str(db), memory_limit, str(threads),
                                   str(work / "checks.json")])
    steps["check_all"] = insyn("check", "--as-of", AS_OF, ok=(0, 1))   # 1: there are findings
    dashboard = dashboard_latency(bench, db, dashboard_requests)
    steps["audit_pack"] = insyn("audit", "--year", AS_OF.year, "--as-of", AS_OF, "--out", work / "audit-packs")

    _progress(work, steps, dashboard=dashboard)

    # The weekly run: the next week into the warehouse built and checked as of AS_OF (in place, as
    # an operator's), in one process (load, build, check, publish; exit 1: there are findings).
    steps["weekly_run"] = insyn("run", extra, "--as-of", NEXT_WEEK, ok=(0, 1), timings=work / "weekly.timings")
    steps["weekly_findings"] = insyn("findings", "--as-of", NEXT_WEEK, "--format", "json")
    weekly_findings = steps["weekly_findings"].stdout
    shutil.rmtree(db.parent)   # disk: at 5 M contacts each warehouse is several GB
    _progress(work, steps, dashboard=dashboard)

    # The analyst's weekly script reads every export again, the new week's with them.
    steps["pandas_weekly"] = pandas(base, extra, as_of=NEXT_WEEK, out=work / "pandas-weekly.json")
    agree_with_pandas(work / "pandas-weekly.json", weekly_findings)

    # The full rebuild: every export of every week into a new warehouse, the same steps.
    full_db = work / "full" / "insyn.duckdb"
    inbox = linked_inbox([base, extra], work / "full-inbox")
    flag = full_flag()
    steps["full_rebuild"] = insyn("run", inbox, "--as-of", NEXT_WEEK, *flag, ok=(0, 1), db_path=full_db,
                                  timings=work / "full.timings")
    steps["full_findings"] = insyn("findings", "--as-of", NEXT_WEEK, "--format", "json", db_path=full_db)
    shutil.rmtree(full_db.parent)
    shutil.rmtree(inbox)

    full_differences = findings_differ(weekly_findings, steps["full_findings"].stdout, [base, extra, inbox])
    s = {name: m.seconds for name, m in steps.items()}
    pipeline = s["ingest"] + s["load_rest"] + s["build"] + s["findings"]
    weekly = s["weekly_run"] + s["weekly_findings"]
    weekly_publish, full_publish = publishes(work / "weekly.timings"), publishes(work / "full.timings")
    baselines = ("raw", "checks_raw", "pandas_first_load", "pandas_weekly")
    insyn_steps = [m for name, m in steps.items() if name not in baselines]
    return {
        "contacts": contacts, "events": events, "memory_limit": memory_limit, "threads": threads,
        "weeks": weeks, "as_of": AS_OF.isoformat(), "next_week": NEXT_WEEK.isoformat(),
        "generate_s": round(generate_s, 2),
        "input_mb": round(sum(p.stat().st_size for p in tabular + rest) / 2**20, 1),
        "extra_week_mb": round(sum(p.stat().st_size for p in extra.rglob("*") if p.is_file()) / 2**20, 1),
        "ingest_s": round(s["ingest"], 2), "ingest_raw_duckdb_s": round(s["raw"], 2),
        "ingest_ratio": round(s["ingest"] / s["raw"], 2),
        "pipeline_s": round(pipeline, 2), "build_s": round(s["build"], 2),
        "pandas_first_load_s": round(s["pandas_first_load"], 2),
        "speedup_vs_pandas_first_load": round(s["pandas_first_load"] / pipeline, 2),
        "weekly_s": round(weekly, 2), "weekly_findings_s": round(s["weekly_findings"], 2),
        "pandas_baseline_s": round(s["pandas_weekly"], 2), "speedup_vs_pandas": round(s["pandas_weekly"] / weekly, 2),
        "pandas_peak_rss_mb": max(steps["pandas_first_load"].peak_rss_mb, steps["pandas_weekly"].peak_rss_mb),
        "pandas_agrees": True,   # both runs; a disagreement ends the run before here
        "checks_s": round(s["checks"], 2), "checks_raw_sql_s": round(s["checks_raw"], 2),
        "checks_ratio": round(s["checks"] / s["checks_raw"], 2), "check_all_s": round(s["check_all"], 2),
        "checks_expectations": expectations,
        "dashboard_p95_ms": dashboard["p95_ms"], "dashboard_median_ms": dashboard["median_ms"],
        "dashboard_requests": dashboard["requests"], "dashboard_errors": dashboard["errors"],
        "dashboard_error_pages": dashboard["error_pages"], "dashboard_callbacks": dashboard["callbacks"],
        "dashboard_slowest_ms": dashboard["slowest_ms"], "dashboard_cold_max_ms": dashboard["cold_max_ms"],
        "dashboard_cold_median_ms": dashboard["cold_median_ms"],
        "weekly_run_s": round(s["weekly_run"], 2), "incremental_s": round(s["weekly_run"], 2),
        "full_rebuild_s": round(s["full_rebuild"], 2), "full_rebuild_flags": flag,
        "incremental_ratio": round(s["weekly_run"] / s["full_rebuild"], 2),
        "full_rebuild_agrees": not full_differences, "full_rebuild_differences": full_differences,
        "publish_s": weekly_publish["seconds"], "publishes": weekly_publish["count"],
        "publish_mb": weekly_publish["mb"],
        "publish_share": (round(weekly_publish["seconds"] / s["weekly_run"], 3)
                          if weekly_publish["seconds"] is not None else None),
        "full_rebuild_publish_s": full_publish["seconds"], "full_rebuild_publishes": full_publish["count"],
        "full_rebuild_publish_mb": full_publish["mb"],
        "peak_rss_mb": max([m.peak_rss_mb for m in insyn_steps] + [dashboard["peak_rss_mb"]]),
        "peak_rss_mb_by_step": {name: m.peak_rss_mb for name, m in steps.items()},
        "audit_pack_s": round(s["audit_pack"], 2),
        "seconds_by_step": {name: round(v, 2) for name, v in s.items()},
    }


def _progress(work: Path, steps: dict, **extra) -> None:
    """The steps measured so far, beside the working folder (kept if a later step fails)."""
    (work.parent / f"{work.name}.steps.json").write_text(json.dumps(
        {**{name: {"seconds": round(m.seconds, 2), "peak_rss_mb": m.peak_rss_mb} for name, m in steps.items()},
         **extra}, indent=1), encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the dashboard

# The dashboard lets no request in without a credential, on loopback too: the benchmark
# chooses the token it starts the server with and sends it as a programmatic client does.
DASHBOARD_TOKEN = secrets.token_urlsafe(32)
AUTH = {"Authorization": f"token {DASHBOARD_TOKEN}"}


def dashboard_env() -> dict:
    """The environment to start `insyn dashboard` in, with DASHBOARD_TOKEN as its token."""
    return {**os.environ, "INSYN_DASHBOARD_TOKEN": DASHBOARD_TOKEN}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FIRST_PAGE = {"startRow": 0, "endRow": 25, "sortModel": [], "filterModel": {}}   # a grid's first request
# what a page sends when it opens: its language, its as-of date, its path; a grid asks for its first
# page; a filter drop-down or a store left empty (everything)
OPENING = ("value", "data", "pathname", "getRowsRequest")


def _page_callbacks(base: str) -> list[dict]:
    """The callbacks a page runs when it opens, from the app's own list of callbacks: those fed only
    by the language, the as-of date, the path, the pages' filter drop-downs and stores (left empty:
    everything), and each grid's request for its first page of rows."""
    with urllib.request.urlopen(urllib.request.Request(base + "/_dash-dependencies", headers=AUTH),
                                timeout=60) as response:
        dependencies = json.loads(response.read())
    chosen = []
    for dep in dependencies:
        fed_by = dep["inputs"] + dep.get("state", [])
        if dep.get("clientside_function"):   # runs in the browser, never posted to the server
            continue
        grid = any(i["property"] == "getRowsRequest" for i in dep["inputs"])
        if (dep.get("prevent_initial_call") and not grid) or any(i["property"] not in OPENING for i in fed_by):
            continue
        output = dep["output"]
        parts = output.strip(".").split("...") if output.startswith("..") else [output]
        chosen.append({"name": parts[0],
                       "output": output,
                       "outputs": [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in parts],
                       "inputs": dep["inputs"], "state": dep.get("state", [])})
        if not output.startswith(".."):
            chosen[-1]["outputs"] = chosen[-1]["outputs"][0]
    return chosen


def _payload(callback: dict, lang: str) -> bytes:
    def value(i: dict):
        if i["property"] == "getRowsRequest":
            return FIRST_PAGE
        if i["property"] == "pathname":
            return "/"
        return {"lang": lang, "as-of": AS_OF.isoformat()}.get(i["id"])

    return json.dumps({
        "output": callback["output"], "outputs": callback["outputs"],
        "inputs": [{**i, "value": value(i)} for i in callback["inputs"]],
        "state": [{**i, "value": value(i)} for i in callback["state"]],
        "changedPropIds": [f"{callback['inputs'][0]['id']}.{callback['inputs'][0]['property']}"],
    }).encode()


def call_page(base: str, callback: dict, lang: str, timeout: float = 120) -> tuple[int | str, float]:
    """One page callback over HTTP: the status (or the error's name) and the seconds it took."""
    request = urllib.request.Request(f"{base}/_dash-update-component", data=_payload(callback, lang),
                                     headers={"Content-Type": "application/json", **AUTH})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        status = type(exc).__name__
    return status, time.perf_counter() - started


def dashboard_latency(bench: Path, db: Path, requests: int) -> dict:
    """p95 of page callbacks over HTTP against the production server (waitress) on 127.0.0.1."""
    port = _free_port()
    server = subprocess.Popen([INSYN, "--workbench", str(bench), "--db", str(db), "dashboard", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dashboard_env())
    peak = _PeakSampler(server.pid)
    peak.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        callbacks = _page_callbacks(base)
        latencies, errors, by_callback, cold = [], [], {}, []
        for n in range(requests + len(callbacks)):
            callback = callbacks[n % len(callbacks)]
            lang = ("sv", "en")[(n // len(callbacks)) % 2]
            status, seconds = call_page(base, callback, lang)
            elapsed = seconds * 1000
            if n < len(callbacks):   # the first round: a fresh snapshot, nothing kept yet
                cold.append(elapsed)
            else:
                latencies.append(elapsed)
                by_callback.setdefault(callback["name"], []).append(elapsed)
                if status not in (200, 204):   # 204: nothing to update (dash.no_update)
                    errors.append(f"{callback['name']} ({lang}): {status}")
    finally:
        server.terminate()
        server.wait(30)
        peak.stop()
    latencies.sort()
    return {"p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 1),
            "median_ms": round(statistics.median(latencies), 1), "requests": len(latencies), "errors": len(errors),
            "error_pages": sorted(set(errors)), "callbacks": len(callbacks), "peak_rss_mb": peak.mb,
            "cold_max_ms": round(max(cold), 1), "cold_median_ms": round(statistics.median(cold), 1),
            "slowest_ms": dict(sorted(((name, round(max(ms), 1)) for name, ms in by_callback.items()),
                                      key=lambda item: -item[1])[:5])}


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the dashboard did not start")
        try:
            with urllib.request.urlopen(urllib.request.Request(base + "/", headers=AUTH), timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the dashboard did not answer within 120 s")


# ---------------------------------------------------------------- reporting

TABLE = [
    ("ingest_s", "ingest_raw_duckdb_s", "ingest_ratio", "≤ 1.25"),
    ("weekly_s", "pandas_baseline_s", "speedup_vs_pandas", "≥ 1.5"),
    ("pipeline_s", "pandas_first_load_s", "speedup_vs_pandas_first_load", "(none)"),
    ("checks_s", "checks_raw_sql_s", "checks_ratio", "≤ 2"),
    ("weekly_run_s", "full_rebuild_s", "incremental_ratio", "≤ 0.3"),
    ("publish_s", "weekly_run_s", "publish_share", "≤ 0.05"),
]


def _cell(value) -> str:
    return "n/a" if value is None else str(value)


def table(result: dict) -> str:
    lines = [f"{result['contacts']:,} contacts, {result['events']:,} events "
             f"({result['input_mb']} MB of exports, {result['weeks']} weekly CRM and audience snapshots up to "
             f"{result['as_of']}; the week to {result['next_week']}: {result['extra_week_mb']} MB); "
             f"DuckDB memory_limit {result['memory_limit']}, {result['threads']} threads", "",
             f"{'Insyn':<22}{'s':>9}  {'baseline':<22}{'s':>9}  {'ratio':<29}{'':>7}  goal"]
    for mine, theirs, ratio, goal in TABLE:
        lines.append(f"{mine:<22}{_cell(result[mine]):>9}  {theirs:<22}{_cell(result[theirs]):>9}  {ratio:<29}"
                     f"{_cell(result[ratio]):>7}  {goal}")
    if result["publish_s"] is None:
        lines.append("(publish_share n/a: this Insyn wrote no INSYN_TIMINGS file)")
    else:
        lines.append(f"(weekly run: {result['publishes']} publishes, {result['publish_mb']} MB; full rebuild: "
                     f"{result['full_rebuild_publishes']} publishes, {result['full_rebuild_publish_s']} s, "
                     f"{result['full_rebuild_publish_mb']} MB)")
    lines += [
        f"weekly_s: `insyn run` the week to {result['next_week']} + `insyn findings` ({result['weekly_findings_s']} s);"
        f" full rebuild {' '.join(result['full_rebuild_flags']) or 'without --full'}, "
        f"{'the same findings' if result['full_rebuild_agrees'] else 'OTHER FINDINGS THAN THE WEEKLY RUN'}",
        f"{'dashboard_p95_ms':<22}{result['dashboard_p95_ms']:>9}  (median {result['dashboard_median_ms']} ms, "
        f"{result['dashboard_requests']} requests, {result['dashboard_errors']} errors; first call after a "
        f"publish: median {result['dashboard_cold_median_ms']}, max {result['dashboard_cold_max_ms']} ms)  goal ≤ 150",
        f"{'peak_rss_mb':<22}{result['peak_rss_mb']:>9}  (pandas {result['pandas_peak_rss_mb']} MB)  goal ≤ 2048",
        f"{'audit_pack_s':<22}{result['audit_pack_s']:>9}",
        f"{'build_s':<22}{result['build_s']:>9}   check_all_s {result['check_all_s']}   "
        f"generate_s {result['generate_s']}",
    ]
    return "\n".join(lines)


GROWTH = ("ingest_s", "ingest_raw_duckdb_s", "pipeline_s", "pandas_first_load_s", "weekly_s", "pandas_baseline_s",
          "checks_s", "checks_raw_sql_s", "dashboard_p95_ms", "weekly_run_s", "full_rebuild_s", "publish_s",
          "peak_rss_mb", "pandas_peak_rss_mb", "audit_pack_s")


def growth(results: list[dict]) -> dict:
    """Each figure at k× over k times the 1× figure: 1.0 is linear, below is better than linear."""
    first = results[0]
    out = {}
    for key in GROWTH:
        out[key] = [round(r[key] / first[key] / (r["contacts"] / first["contacts"]), 2)
                    if first[key] and r[key] is not None else None for r in results]
    return out


def growth_table(results: list[dict], grown: dict) -> str:
    scales = [f"{r['contacts'] // results[0]['contacts']}×" for r in results]
    lines = [f"base: {results[0]['weeks']} weekly snapshots up to {results[0]['as_of']}, then the week to "
             f"{results[0]['next_week']}",
             f"{'figure':<22}" + "".join(f"{s:>12}" for s in scales) + "   (value; per-unit growth vs 1×)"]
    for key in GROWTH:
        cells = "".join(f"{_cell(r[key]):>7} {_cell(g):>4}" for r, g in zip(results, grown[key]))
        lines.append(f"{key:<22}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=None, help="CRM contacts (default 500000; series: 1000000)")
    parser.add_argument("--events", type=int, default=None, help="e-mail events (default 5000000; series: 4000000)")
    parser.add_argument("--scale-series", action="store_true", help="run at 1×, 2× and 4× the size and show growth")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for Insyn and raw DuckDB alike")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weeks", type=int, default=4,
                        help="weekly CRM and audience snapshots up to the as-of date (the weekly run adds one more)")
    parser.add_argument("--dashboard-requests", type=int, default=60)
    parser.add_argument("--work", type=Path, help="working folder (default: a new one under the temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (exports and warehouses)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the figures as JSON")
    args = parser.parse_args(argv)

    contacts = args.contacts or (1_000_000 if args.scale_series else 500_000)
    events = args.events or (4_000_000 if args.scale_series else 5_000_000)
    work = args.work or Path(tempfile.mkdtemp(prefix="insyn-bench-"))
    options = {"memory_limit": args.memory_limit, "threads": args.threads, "seed": args.seed,
               "dashboard_requests": args.dashboard_requests, "weeks": args.weeks}
    try:
        if args.scale_series:
            results = []
            for k in (1, 2, 4):
                results.append(run_once(contacts * k, events * k, work=work / f"x{k}", **options))
                print(table(results[-1]), "\n", flush=True)
                if not args.keep:
                    shutil.rmtree(work / f"x{k}", ignore_errors=True)
            grown = growth(results)
            print(growth_table(results, grown))
            document = {"machine": machine(), "runs": results, "growth_per_unit": grown}
        else:
            result = run_once(contacts, events, work=work, **options)
            print(table(result))
            document = {"machine": machine(), **result}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


def machine() -> dict:
    import duckdb
    import pandas

    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": sys.version.split()[0], "duckdb": duckdb.__version__, "pandas": pandas.__version__,
            "date": dt.date.today().isoformat()}


if __name__ == "__main__":
    sys.exit(main())
