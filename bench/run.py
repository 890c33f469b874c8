"""Run every benchmark, print the results table; ``make bench`` calls this.

    python bench/run.py                 # SIZE from BENCH_SIZE (default 100000)
    python bench/run.py --quick         # smoke run: SIZE 5000, short load runs
    python bench/run.py --write-docs    # also rewrite the table in Docs/performance.md
    python bench/run.py --only list,writes

Each benchmark prints its figure and its ratio against a baseline measured in the same run
(see the module docstrings of bench/bench_*.py and Docs/performance.md). Everything runs on
127.0.0.1 in a temporary folder that is removed at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import (  # noqa: E402 - needs the path above when run as a script
    bench_browser,
    bench_check_writes,
    bench_checks,
    bench_cluster,
    bench_cluster_search,
    bench_flush,
    bench_hydration,
    bench_import,
    bench_legacy,
    bench_list,
    bench_memory,
    bench_pg_commit,
    bench_search,
    bench_sync,
    bench_writes,
)
from bench.common import Context, Result, ensure_wrk, progress, stop_main_engine  # noqa: E402
from bench.dataset import build_home, make_specs  # noqa: E402
from bench.report import machine_line, notes, table, write_docs  # noqa: E402

# In this order: hydration boots the main home while nothing else holds it; memory reuses
# its measurements; list, ui and writes share one engine on it, which is stopped before the
# benchmarks that build homes of their own.
BENCHMARKS: dict[str, Callable[[Context], list[Result]]] = {
    "hydration": bench_hydration.run,
    "memory": bench_memory.run,
    "list": bench_list.run,
    "ui": bench_browser.run,
    "writes": bench_writes.run,
    "flush": bench_flush.run,
    "legacy": bench_legacy.run,
    "import": bench_import.run,
    "postgresql": bench_pg_commit.run,
    "cluster": bench_cluster.run,
    "checks": bench_checks.run,
    "check-writes": bench_check_writes.run,
    "sync": bench_sync.run,
    "search": bench_search.run,
    "cluster-search": bench_cluster_search.run,
}
NEEDS_MAIN_HOME = {"hydration", "memory", "list", "ui", "writes"}
USES_SHARED_ENGINE = {"list", "ui", "writes"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Assembly Engine benchmarks")
    parser.add_argument("--quick", action="store_true", help="smoke run: SIZE 5000, 3 s load runs")
    parser.add_argument(
        "--write-docs", action="store_true", help="rewrite the results table in Docs/performance.md"
    )
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--duration", type=float, help="seconds per load run (default 10, quick 3)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = 5000 if args.quick else int(os.environ.get("BENCH_SIZE", "100000"))
    selected = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in selected if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    wrk = None if args.no_wrk else ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="assembly-bench-"))
    ctx = Context(
        size=size,
        quick=args.quick,
        work=work,
        duration=args.duration or float(os.environ.get("BENCH_DURATION", 3 if args.quick else 10)),
        connections=args.connections,
        repeats=2 if args.quick else 3,
        rounds=1 if args.quick else 2,
        wrk=wrk,
    )
    progress(
        f"SIZE={size:,}, {os.cpu_count()} cores, load generator "
        f"{'wrk' if wrk else 'python-httpx'}, scratch {work}"
    )
    results: list[Result] = []
    failures: list[str] = []
    try:
        if NEEDS_MAIN_HOME & set(selected):
            progress(f"generating a home with {size:,} assemblies")
            home = build_home(work / "main", make_specs(size))
            progress(f"home ready in {home.seconds['total']:.1f}s: {home.counts}")
            ctx.shared["main_home"] = home
        for name in BENCHMARKS:
            if name not in selected:
                continue
            if name not in USES_SHARED_ENGINE:
                stop_main_engine(ctx)
            progress(f"== {name}")
            try:
                produced = BENCHMARKS[name](ctx)
            except Exception as exc:  # noqa: BLE001 - report and carry on with the others
                traceback.print_exc()
                failures.append(f"{name}: {exc}")
                continue
            for result in produced:
                ratio = f"{result.ratio:.2f}" if result.ratio is not None else "-"
                progress(
                    f"{result.number} {result.name}: {result.figure:,.1f} {result.unit}; "
                    f"ratio {ratio} ({result.ratio_label}), target {result.target}: {result.verdict()}"
                )
            results.extend(produced)
    finally:
        stop_main_engine(ctx)
        if args.keep:
            progress(f"kept {work}")
        else:
            progress(f"removing {work}")
            shutil.rmtree(work, ignore_errors=True)

    header = machine_line(size, "wrk" if wrk else "python-httpx")
    print()
    print(header)
    print()
    print(table(results))
    print()
    print(notes(results))
    judged = [r for r in results if r.met is not None]
    print(
        f"\ntargets met: {sum(1 for r in judged if r.met)} of {len(judged)}"
        + "".join(f"; missed {r.number}" for r in judged if not r.met)
    )
    for failure in failures:
        print(f"FAILED {failure}")
    if args.write_docs and results:
        if failures or len(selected) < len(BENCHMARKS):
            print(
                "not writing Docs/performance.md: run every benchmark without failures first", file=sys.stderr
            )
        else:
            path = write_docs(results, header)
            print(f"wrote the results into {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
