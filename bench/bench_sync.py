"""12. Library as code: ``assemblies sync`` of a library folder of N plain scripts.

Library: N plain scripts (PowerShell, Batch, Bash, Python; 1-20 KB of text each, the
documents of bench 7 written as plain files) in 25 category folders.

Engine, against a running engine (a separate CLI process, as a CI job runs it):

* **apply** of the new library (``sync apply``: read, plan, every item created through the
  normal write path), compared with ``assemblies import`` of the same files into another
  domain on the same engine (bench 7's path) — target >= 0.5 x its files/s;
* **plan** of the unchanged library afterwards (``sync plan``: read, hash, send, compare with
  every assembly), compared with a plain ``os.walk`` + read + sha256 of the same files —
  target <= 2 x its time. Walk and plan alternate, round by round, so both see the same
  load; CPU seconds are reported beside the wall time. The first round is planned anew;
  later rounds send the same request, which the engine answers from the plan it kept
  (as for a CI job planning an unchanged library again); both are reported.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .bench_import import TYPES, make_documents
from .common import (
    PYTHON,
    Context,
    Result,
    cpu_seconds,
    engine_env,
    fmt,
    load_average,
    progress,
    running_engine,
    scratch,
    timed_process,
    wait_until_idle,
)


def write_library(root: Path, count: int) -> int:
    total = 0
    for _, document in make_documents(count, seed=12):
        path = root / document["category"] / f"{document['name']}{TYPES[document['type']]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = base64.b64decode(document["script"])
        path.write_bytes(data)
        total += len(data)
    return total


def walk_read_hash_timed(root: Path) -> tuple[float, float]:
    """The baseline: (wall seconds, CPU seconds) of os.walk + read + sha256 in this process."""
    began, cpu = time.perf_counter(), time.process_time()
    for directory, _, names in os.walk(root):
        for name in names:
            hashlib.sha256((Path(directory) / name).read_bytes()).hexdigest()
    return time.perf_counter() - began, time.process_time() - cpu


@dataclass(frozen=True)
class PlanRounds:
    """12b measured in alternating rounds (walk, plan, start-up, ...): each the faster of its
    rounds, wall and CPU. CPU seconds are far less moved by other load on the machine than
    wall seconds; the plan's CPU is the CLI process's plus what the engine used meanwhile."""

    walk: float
    walk_cpu: float
    plan: float
    plan_cpu: float
    engine_cpu: float  # the engine's share of plan_cpu (same round)
    first: float  # the first round's plan: the engine had kept no plan of that request yet
    start: float  # `sync plan --help`: the CLI's start-up for this command
    start_cpu: float
    loads: tuple[str, ...]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plan_rounds(
    cli: list[str], env: dict[str, str], engine_pid: int, library: Path, count: int, rounds: int
) -> PlanRounds:
    walks: list[tuple[float, float]] = []
    plans: list[tuple[float, float, float]] = []
    starts: list[tuple[float, float]] = []
    loads: list[str] = []
    for _ in range(rounds):
        loads.append(load_average())
        walks.append(walk_read_hash_timed(library))
        cpu, engine_cpu = _children_cpu(), cpu_seconds(engine_pid)
        seconds, out = timed_process(
            [*cli, "sync", "plan", str(library), "--domain", "user", "--json"], env=env
        )
        engine_cpu = cpu_seconds(engine_pid) - engine_cpu
        if json.loads(out)["counts"]["unchanged"] != count:
            raise RuntimeError("the second plan is not all unchanged")
        plans.append((seconds, _children_cpu() - cpu + engine_cpu, engine_cpu))
        cpu = _children_cpu()
        seconds = timed_process([*cli, "sync", "plan", "--help"], env=env)[0]
        starts.append((seconds, _children_cpu() - cpu))
    walk, plan, start = min(walks), min(plans), min(starts)
    return PlanRounds(
        walk=walk[0],
        first=plans[0][0],
        walk_cpu=min(w[1] for w in walks),
        plan=plan[0],
        plan_cpu=min(p[1] for p in plans),
        engine_cpu=min(p[2] for p in plans),
        start=start[0],
        start_cpu=min(s[1] for s in starts),
        loads=tuple(loads),
    )


def engine_plan_seconds(url: str, token: str, library: Path) -> tuple[float, float]:
    """The engine's share of a plan: the digest request ``sync plan`` sends, timed from
    send to answer: (planned anew, answered from the plan the engine kept). The body is
    encoded unlike the CLI's, so the engine has kept no plan of these bytes the first time."""
    from assembly_engine.cli.library_files import read_folder

    items = [i.digests() for i in read_folder(library, (), ()).items]
    body = {"source": str(library.resolve()), "domain": "user", "items": items}
    raw = json.dumps(body, indent=1).encode()
    times = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        for _ in range(3):
            began = time.perf_counter()
            answer = client.post("/api/sync/plan", content=raw)
            times.append(time.perf_counter() - began)
            answer.raise_for_status()
    return times[0], min(times[1:])


def run(ctx: Context) -> list[Result]:
    count = min(10_000, ctx.size)
    with scratch(ctx, "sync") as base:
        library = base / "library"
        size = write_library(library, count)
        progress(f"sync: {count:,} files, {size / count / 1024:.1f} KB average")
        home, staging = base / "home", base / "staging"
        staging.mkdir()
        with running_engine(home, staging) as engine:
            env = engine_env(home, staging, engine.port)
            cli = [PYTHON, "-m", "assembly_engine.cli.main"]
            import_s, _ = timed_process(
                [*cli, "import", str(library), "--domain", "community", "--json"], env=env
            )
            apply_s, out = timed_process(
                [*cli, "sync", "apply", str(library), "--domain", "user", "--json"], env=env, timeout=1800
            )
            if json.loads(out)["done"] != count:
                raise RuntimeError(f"sync apply did not create all {count} files")
            # The scripts' checks and the search index of 20,000 new assemblies run after the
            # import and the apply; a plan is timed against an engine that is done with them.
            settled_s = wait_until_idle(engine.pid)
            progress(f"sync: the engine's background work settled after {settled_s:.0f} s")
            measured = plan_rounds(cli, env, engine.pid, library, count, rounds=2 if ctx.quick else 4)
            engine_s, engine_kept_s = engine_plan_seconds(engine.url, engine.token(), library)
    walk_s, plan_s = measured.walk, measured.plan
    apply_ratio = import_s / apply_s
    return [
        Result(
            number="12a",
            name=f"`assemblies sync apply` of a new library of {count:,} plain scripts",
            figure=count / apply_s,
            unit="files/s",
            baseline=count / import_s,
            baseline_label="`assemblies import` of the same files on the same engine",
            ratio=apply_ratio,
            ratio_label="sync apply / import",
            target=">= 0.5",
            met=apply_ratio >= 0.5,
            notes=[f"apply {fmt(apply_s, 's')}, import {fmt(import_s, 's')}, CLI start-up included"],
        ),
        Result(
            number="12b",
            name=f"`assemblies sync plan` of the unchanged library of {count:,} files",
            figure=plan_s,
            unit="s",
            baseline=walk_s,
            baseline_label="os.walk + read + sha256 of the same files (faster of the rounds)",
            ratio=plan_s / walk_s,
            ratio_label="plan / walk",
            target="<= 2",
            met=plan_s / walk_s <= 2,
            notes=[
                "walk and plan measured in alternating rounds, each the faster of its rounds; "
                "the plan includes the CLI's start-up and the round trip to the engine",
                f"of which: CLI start-up (`sync plan --help`) {fmt(measured.start, 's')}, "
                f"engine answering the digest request from the plan it kept {fmt(engine_kept_s, 's')}, "
                f"planning it anew {fmt(engine_s, 's')} ({engine_s / walk_s:.2f} x the walk); "
                f"walk {fmt(walk_s, 's')}",
                f"the first round's plan (the engine had kept none of that request yet: planned anew) "
                f"{fmt(measured.first, 's')}: {measured.first / walk_s:.2f} x the walk",
                f"CPU seconds (less moved by other load): plan {measured.plan_cpu:.2f} "
                f"(engine {measured.engine_cpu:.2f}, start-up {measured.start_cpu:.2f}) vs walk "
                f"{measured.walk_cpu:.2f}: {measured.plan_cpu / measured.walk_cpu:.2f} x",
                f"load average at each round: {'; '.join(measured.loads)}",
                f"the plans began once the engine's background work after the import and apply "
                f"(checks, search index) had settled, {settled_s:.0f} s after the apply",
            ],
        ),
    ]


if __name__ == "__main__":  # python -m bench.bench_sync [COUNT]
    import tempfile

    from .common import Context as _Context

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as scratch_dir:
        context = _Context(
            size=size,
            quick=True,
            work=Path(scratch_dir),
            duration=1.0,
            connections=1,
            repeats=1,
            rounds=1,
            wrk=None,
        )
        for result in run(context):
            print(
                f"{result.name}: {result.figure:,.2f} {result.unit}; baseline {result.baseline:,.2f}; "
                f"ratio {result.ratio:.2f} (target {result.target}); " + "; ".join(result.notes)
            )
