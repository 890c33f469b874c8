"""3. Acknowledged writes: durable mutations per second through the API.

Engine: CONNECTIONS concurrent clients POST small PowerShell scripts to
``/api/assemblies`` (Bearer token) for DURATION seconds on the SIZE-assembly engine. A 201
means the change is durable (payload folder written, journal entry committed). Afterwards
``/api/health`` must count at least as many new assemblies as were acknowledged.

Baseline: the raw commit rate of the journal mechanism, in this process: one thread
submitting entries of the same shape to ``storage.sqlite.journal.Journal`` (WAL,
synchronous=FULL) and waiting until each is durable — one durable commit per mutation,
the fsync-bound rate a write path without group commit could at best reach. Target: the
API, with its HTTP, payload-folder and audit work, keeps >= 0.5 x that rate, which only
group commit makes possible. For context the notes also give the journal's own rate with
the same number of threads grouping their commits (the ceiling of group commit on this
disk, which no HTTP path can approach on 2 cores).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from assembly_engine.domain.types import AssemblyKind, Domain, PayloadType
from assembly_engine.storage.contract.journal_entry import new_entry
from assembly_engine.storage.contract.models import AssemblyRecord, PayloadRef
from assembly_engine.storage.sqlite.databases import ConnectionOptions
from assembly_engine.storage.sqlite.journal import Journal

from .common import (
    Context,
    LoadResult,
    Result,
    alternate,
    cpu_seconds,
    cpu_times,
    load_average,
    load_test,
    main_engine,
    progress,
    scratch,
)

BODY = {
    "domain": "user",
    "display_name": "Bench write: restart print spooler",
    "assembly_kind": "script",
    "assembly_type": "powershell",
    "summary": "Restarts the print spooler service.",
    "category": "maintenance",
    "tags": ["bench"],
    "metadata": {"timeout_seconds": 600},
    "payload": {"script": "Restart-Service -Name Spooler -Force\nWrite-Host 'done'\n"},
}


def journal_rate(folder: Path, threads: int, duration: float) -> tuple[int, float]:
    """(entries made durable, seconds) with ``threads`` submit-and-wait loops."""
    folder.mkdir(parents=True, exist_ok=True)
    journal = Journal(folder / "journal.db", ConnectionOptions())
    counts = [0] * threads
    gate = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        record = AssemblyRecord(
            assembly_guid=f"{index:032x}",
            domain=Domain.USER,
            display_name=BODY["display_name"],
            assembly_kind=AssemblyKind.SCRIPT,
            assembly_type="powershell",
            payload=PayloadRef(f"{index + 1:032x}", PayloadType.SCRIPT, 120, "0" * 64),
            summary=str(BODY["summary"]),
            category="maintenance",
            metadata_json='{"timeout_seconds":600}',
            tags_json='["bench"]',
            created_by="admin",
            updated_by="admin",
        )
        gate.wait()
        while time.perf_counter() < deadline[0]:
            journal.submit(new_entry(journal, "upsert", record)).result()
            counts[index] += 1

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + duration
    gate.wait()
    for thread in workers:
        thread.join(timeout=duration + 120)
    elapsed = time.perf_counter() - began
    journal.close()
    return sum(counts), elapsed


def health_total(client: httpx.Client) -> int:
    response = client.get("/api/health")
    response.raise_for_status()
    return sum(response.json()["assemblies"].values())


def run(ctx: Context) -> list[Result]:
    engine = main_engine(ctx)
    headers = {**engine.auth(), "Content-Type": "application/json"}
    body = json.dumps(BODY).encode("utf-8")
    with httpx.Client(base_url=engine.url, timeout=60) as client:
        for _ in range(3):  # warm-up, and proof that the request is accepted
            response = client.post("/api/assemblies", content=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"POST /api/assemblies answered {response.status_code}: {response.text}")
        before = health_total(client)
        with scratch(ctx, "journal") as folder:
            progress(
                f"writes: engine ({ctx.connections} connections) and the bare journal "
                f"({ctx.connections} threads) in turns, {ctx.duration:.0f}s each"
            )

            def baseline(seconds: float) -> LoadResult:
                committed, elapsed = journal_rate(folder / f"j{time.monotonic_ns()}", 1, seconds)
                return LoadResult(committed, 0, elapsed, 0.0, 0.0, "threads")

            engine_cpu = [0.0, 0.0, 0.0]  # the whole process, its event loop (main thread), system

            def writes(seconds: float) -> LoadResult:
                # The engine's CPU (every thread, /proc) over its load runs alone.
                began, loop_began = cpu_seconds(engine.pid), cpu_seconds(engine.pid, engine.pid)
                system_began = cpu_times(engine.pid)[1]
                result = load_test(
                    ctx,
                    engine.url + "/api/assemblies",
                    method="POST",
                    headers=headers,
                    body=body,
                    duration=seconds,
                    expect_status=201,
                )
                engine_cpu[0] += cpu_seconds(engine.pid) - began
                engine_cpu[1] += cpu_seconds(engine.pid, engine.pid) - loop_began
                engine_cpu[2] += cpu_times(engine.pid)[1] - system_began
                return result

            loads = [load_average()]
            mine, base = alternate(ctx, writes, baseline)
            loads.append(load_average())
            grouped, grouped_elapsed = journal_rate(folder / "grouped", ctx.connections, ctx.duration)
        after = health_total(client)
    stored = after - before
    if stored < mine.requests:
        raise RuntimeError(f"{mine.requests} writes acknowledged but only {stored} are in the engine")
    cpu_ms = 1000 * engine_cpu[0] / mine.requests if mine.requests else 0.0
    loop_ms = 1000 * engine_cpu[1] / mine.requests if mine.requests else 0.0
    system_ms = 1000 * engine_cpu[2] / mine.requests if mine.requests else 0.0
    base_rate = base.rate
    ratio = mine.rate / base_rate if base_rate > 0 else 0.0
    return [
        Result(
            number="3",
            name=f"Acknowledged writes: POST /api/assemblies, {ctx.connections} clients",
            figure=mine.rate,
            unit="writes/s",
            baseline=base_rate,
            baseline_label="Journal, one durable commit per mutation (1 thread)",
            ratio=ratio,
            ratio_label="engine / journal",
            target=">= 0.5",
            met=ratio >= 0.5 and mine.errors == 0,
            notes=[
                f"latency p50/p99 {mine.p50_ms:.1f}/{mine.p99_ms:.1f} ms; {mine.requests:,} "
                f"acknowledged, {stored:,} stored (in flight at the end count as stored); "
                f"errors {mine.errors}; {mine.tool}",
                f"engine CPU per acknowledged write {cpu_ms:.2f} ms (/proc, user + system, every "
                f"thread, over the engine's load runs; {loop_ms:.2f} ms of it on the event loop, "
                f"{system_ms:.2f} ms of it system time); "
                f"load average {loads[0]} -> {loads[1]}",
                f"journal with {ctx.connections} threads grouping commits: "
                f"{grouped / grouped_elapsed:,.0f}/s (group commit ceiling on this disk)",
            ],
        )
    ]
