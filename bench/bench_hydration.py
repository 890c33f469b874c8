"""1. Hydration: process start to a ready engine holding every assembly in its cache.

Engine: ``python -m assembly_engine.cli.main serve`` on a home with SIZE assemblies spread
over the three databases, timed from spawning the process until ``/api/health`` answers
with the full counts (official sync, schema validation, journal replay, the payload folder
check of every row and the app start-up are all inside that time). The first start of a
home also creates the engine's user database and admin account, so it is run once
untimed (reported as "first start"); the timed boots are ordinary restarts.

Baseline, both in fresh processes: ``bench/raw_read.py`` doing ``SELECT *`` of the same
rows from the three databases into tuples (the time of the reads alone), and
``python -c "import assembly_engine.cli.main, assembly_engine.api.app"`` (process start-up plus
importing the engine). Target: engine <= 1.5 x raw read + start-up, i.e. the ratio
(engine - start-up) / raw read <= 1.5. The same ratio in CPU seconds (the engine's at
ready from /proc, the start-up process's and the raw read's own) is reported beside it:
on a shared machine it moves far less than wall time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .common import (
    BENCH_DIR,
    PYTHON,
    Context,
    Engine,
    Result,
    cpu_seconds,
    median,
    progress,
    rss_bytes,
    timed_process,
)
from .dataset import Home

IMPORT_ENGINE = "import assembly_engine.cli.main, assembly_engine.api.app"


@dataclass(frozen=True)
class Boot:
    ready: float  # seconds from spawn to /api/health answering with the full counts
    ready_cpu: float  # CPU seconds the engine had used by then (all threads)
    warm: float  # seconds from spawn until health reports every record built
    resident: int  # RSS once warm


def boot(home: Home) -> Boot:
    """One engine start, timed to ready and to warm (records are built after ready)."""
    engine = Engine(home.home, home.staging).start()
    try:
        ready = engine.wait_ready(home.counts)
        ready_cpu = cpu_seconds(engine.pid)
        warm = engine.wait_warm()
        return Boot(ready, ready_cpu, warm, rss_bytes(engine.pid))
    finally:
        engine.stop()


def raw_read(home: Home) -> dict[str, float]:
    wall, out = timed_process([PYTHON, str(BENCH_DIR / "raw_read.py"), *map(str, home.runtime_databases())])
    data = json.loads(out)
    if data["rows"] != home.total:
        raise RuntimeError(f"raw read found {data['rows']} rows, expected {home.total}")
    return {
        "seconds": float(data["seconds"]),
        "cpu": float(data["cpu"]),
        "wall": wall,
        "rss_delta": float(data["rss_delta"]),
    }


def startup() -> tuple[float, float]:
    """(wall, CPU) seconds of a process that starts and imports the engine, then exits."""
    before = os.times()
    wall = timed_process([PYTHON, "-c", IMPORT_ENGINE])[0]
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def run(ctx: Context) -> list[Result]:
    home: Home = ctx.shared["main_home"]
    progress(f"hydration: first start of the {home.total:,}-assembly home (untimed warm-up)")
    first = boot(home).ready
    boots: list[float] = []
    warms: list[float] = []
    rss: list[int] = []
    raws: list[dict[str, float]] = []
    startups: list[float] = []
    startup_cpus: list[float] = []
    boot_cpus: list[float] = []
    loads: list[float] = []
    bare: list[float] = []
    for attempt in range(ctx.repeats):
        # Interleaved, so a noisy neighbour hurts engine and baseline alike.
        loads.append(os.getloadavg()[0])
        started = boot(home)
        seconds = started.ready
        boots.append(seconds)
        boot_cpus.append(started.ready_cpu)
        warms.append(started.warm)
        rss.append(started.resident)
        raws.append(raw_read(home))
        wall, cpu = startup()
        startups.append(wall)
        startup_cpus.append(cpu)
        bare.append(timed_process([PYTHON, "-c", "pass"])[0])
        progress(
            f"hydration {attempt + 1}/{ctx.repeats}: engine {seconds:.2f}s ({started.ready_cpu:.2f} s CPU), "
            f"raw read {raws[-1]['seconds']:.2f}s ({raws[-1]['cpu']:.2f} s CPU), start-up + import "
            f"{startups[-1]:.2f}s ({cpu:.2f} s CPU), load {loads[-1]:.1f}"
        )
    ctx.shared["hydrated_rss"] = rss
    ctx.shared["raw_rss_per_row"] = median([r["rss_delta"] for r in raws]) / max(1, home.total)

    engine_s = median(boots)
    raw_s = median([r["seconds"] for r in raws])
    startup_s = median(startups)
    ratio = (engine_s - startup_s) / raw_s if raw_s > 0 else float("inf")
    # CPU seconds are steadier than wall time on a shared machine: the same ratio in CPU.
    engine_cpu = median(boot_cpus)
    startup_cpu = median(startup_cpus)
    raw_cpu = median([r["cpu"] for r in raws])
    cpu_ratio = (engine_cpu - startup_cpu) / raw_cpu if raw_cpu > 0 else float("inf")
    return [
        Result(
            number="1",
            name=f"Hydration, {home.total:,} assemblies (process start -> /api/health full)",
            figure=engine_s,
            unit="s",
            baseline=raw_s + startup_s,
            baseline_label=f"raw SELECT * {raw_s:.2f} s + start-up/import {startup_s:.2f} s",
            ratio=ratio,
            ratio_label="(engine - start-up) / raw read",
            target="<= 1.5",
            met=engine_s <= 1.5 * raw_s + startup_s,
            notes=[
                f"engine boots {', '.join(f'{b:.2f}' for b in boots)} s; first start (creates the "
                f"admin account) {first:.2f} s; load average {', '.join(f'{x:.1f}' for x in loads)}",
                f"in CPU seconds: engine {engine_cpu:.2f} until ready, start-up/import {startup_cpu:.2f}, "
                f"raw read {raw_cpu:.2f}: ratio {cpu_ratio:.2f}",
                f"every record built (health `cache_warm`; the warmer starts after the first health "
                f"answer, then waits 1 s) {median(warms):.2f} s after spawn",
                f"bare `python -c pass` {median(bare):.3f} s; raw-read process wall time "
                f"{median([r['wall'] for r in raws]):.2f} s",
                f"home generated in {home.seconds['total']:.1f} s (rows {home.seconds['rows']:.1f}, "
                f"databases {home.seconds['databases']:.1f}, payload folders "
                f"{home.seconds['payload_folders']:.1f})",
            ],
        )
    ]
