"""DuckDB and Spark side by side on the same exports, in one run: load, build, check.

    python benchmarks/engines.py --contacts 50000 --events 500000 --json out.json

Each step is the `insyn` command an operator runs, timed by the wall clock
with its peak memory (process and children: Spark's JVM included), on DuckDB
and then with `--engine spark --lake` (local[2] unless [spark] says otherwise),
reported as Spark's time over DuckDB's. The findings of both must be equal,
or the run fails: a speed for different answers means nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import AS_OF, INSYN, exports, machine, measure, workbench  # noqa: E402

STEPS = ("load", "build", "check")


def run_once(contacts: int, events: int, *, work: Path, memory_limit: str, threads: int, seed: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    bench = workbench(work, memory_limit, threads)
    base, _, _ = exports(work, contacts, events, seed)
    engines = {
        "duckdb": ["--db", str(work / "duckdb" / "insyn.duckdb")],
        "spark": ["--engine", "spark", "--lake", str(work / "lake"), "--db", str(work / "spark" / "insyn.duckdb")],
    }
    figures: dict[str, dict] = {}
    findings: dict[str, str] = {}
    for name, options in engines.items():
        def insyn(*args, ok=(0,)):
            return measure([INSYN, "--workbench", str(bench), *options, "-q", *map(str, args)], ok=ok)

        figures[name] = {
            "load": insyn("load", base),
            "build": insyn("build", "--as-of", AS_OF),
            "check": insyn("check", "--as-of", AS_OF, ok=(0, 1)),   # 1: some expectation failed
        }
        findings[name] = insyn("findings", "--as-of", AS_OF, "--format", "json").stdout
    if findings["spark"] != findings["duckdb"]:
        raise SystemExit("the engines disagree: Spark's findings differ from DuckDB's")
    result = {"contacts": contacts, "events": events, "findings": len(json.loads(findings["duckdb"])["findings"]),
              "steps": {}}
    for step in STEPS:
        d, s = figures["duckdb"][step], figures["spark"][step]
        result["steps"][step] = {"duckdb_s": round(d.seconds, 2), "spark_s": round(s.seconds, 2),
                                 "spark_over_duckdb": round(s.seconds / d.seconds, 1),
                                 "duckdb_peak_mb": round(d.peak_rss_mb), "spark_peak_mb": round(s.peak_rss_mb)}
    return result


def table(result: dict) -> str:
    lines = [f"{result['contacts']:,} contacts, {result['events']:,} events, {result['findings']:,} findings "
             "(equal on both engines)",
             f"{'step':8} {'DuckDB s':>9} {'Spark s':>9} {'Spark/DuckDB':>13} {'DuckDB MB':>10} {'Spark MB':>9}"]
    for step, f in result["steps"].items():
        lines.append(f"{step:8} {f['duckdb_s']:9.1f} {f['spark_s']:9.1f} {f['spark_over_duckdb']:13.1f} "
                     f"{f['duckdb_peak_mb']:10} {f['spark_peak_mb']:9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path, metavar="OUT")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="insyn-engines-"))
    try:
        result = run_once(args.contacts, args.events, work=work, memory_limit=args.memory_limit,
                          threads=args.threads, seed=args.seed)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **result}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
