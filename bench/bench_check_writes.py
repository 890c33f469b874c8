"""11. What script checks cost acknowledged writes.

Two engines on fresh homes of their own, alike but for one thing: one checks every saved
script beside the write (as shipped: niced, on the check pool), the other has those
checks taken out (bench/serve_without_checks.py). CLIENTS threads POST *distinct* 5 KB
Bash scripts (ShellCheck is the costliest checker; distinct, so no result is reused)
to ``/api/assemblies`` in the user domain (``warn``: a save never waits for its check).
The engines take turns (``ctx.rounds`` each), so the neighbours' load hits both alike.

Reported: acknowledged writes per second with checks / without (target >= 0.9: checks
cost at most 10 %), the checks the engine ran meanwhile (from its metrics: a check the
queue bound skipped is done later, by the sweep), and the load average.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import httpx

from bench.bench_checks import script

from .common import Context, Engine, LoadResult, Result, combine, progress, scratch

CLIENTS = 4
TARGET = 0.9
CHECKED = re.compile(r'^assembly_engine_script_checks_total\{language="bash",outcome="(\w+)"\} (\S+)$', re.M)


def body(variant: str) -> dict[str, object]:
    return {
        "domain": "user",
        "display_name": f"Bench checked write {variant}",
        "assembly_kind": "script",
        "assembly_type": "bash",
        "category": "bench-checks",
        "payload": {"script": script("bash", 0).replace("0x", f"{variant}x")},
    }


def writes(engine: Engine, headers: dict[str, str], seconds: float, tag: str) -> LoadResult:
    """CLIENTS threads writing distinct scripts for ``seconds``."""
    done = [0] * CLIENTS
    errors = [0] * CLIENTS
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        with httpx.Client(base_url=engine.url, headers=headers, timeout=60) as http:
            n = 0
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = http.post("/api/assemblies", json=body(f"{tag}-{index}-{n}"))
                latencies[index].append((time.perf_counter() - started) * 1000)
                n += 1
                if answer.status_code == 201:
                    done[index] += 1
                else:
                    errors[index] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    ordered = sorted(x for each in latencies for x in each) or [0.0]
    return LoadResult(
        sum(done),
        sum(errors),
        elapsed,
        ordered[len(ordered) // 2],
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "python-httpx",
    )


def bash_checks(engine: Engine, headers: dict[str, str]) -> dict[str, float]:
    text = httpx.get(f"{engine.url}/metrics", headers=headers, timeout=60).text
    return {outcome: float(value) for outcome, value in CHECKED.findall(text)}


def run(ctx: Context) -> list[Result]:
    with scratch(ctx, "check-writes") as folder:
        staging = folder / "staging"
        staging.mkdir()
        checked = Engine(folder / "checked" / "home", staging).start()
        plain = Engine(
            folder / "plain" / "home",
            staging,
            command=[str(Path(__file__).with_name("serve_without_checks.py"))],
        ).start()
        try:
            for engine in (checked, plain):
                engine.wait_ready()
            auth = {"checked": checked.auth(), "plain": plain.auth()}
            for engine, name in ((checked, "checked"), (plain, "plain")):
                writes(engine, auth[name], 1.0, f"warm-{name}")  # warm-up: first requests, first check
            load_before = os.getloadavg()[0]
            progress(f"check writes: {CLIENTS} clients, engines with and without checks in turns")
            share = ctx.duration / ctx.rounds
            mine: list[LoadResult] = []
            theirs: list[LoadResult] = []
            for round_ in range(ctx.rounds):
                mine.append(writes(checked, auth["checked"], share, f"c{round_}"))
                theirs.append(writes(plain, auth["plain"], share, f"p{round_}"))
            load_after = os.getloadavg()[0]
            with_checks, without = combine(mine), combine(theirs)
            counted = bash_checks(checked, auth["checked"])
        finally:
            checked.stop()
            plain.stop()
    ratio = with_checks.rate / without.rate if without.rate > 0 else 0.0
    return [
        Result(
            number="11",
            name=f"Acknowledged writes of distinct 5 KB Bash scripts with checks, {CLIENTS} clients",
            figure=with_checks.rate,
            unit="writes/s",
            baseline=without.rate,
            baseline_label="the same engine without checks after saves",
            ratio=ratio,
            ratio_label="with checks / without",
            target=f">= {TARGET}",
            met=ratio >= TARGET and with_checks.errors == 0 and without.errors == 0,
            notes=[
                f"latency p50/p99 with {with_checks.p50_ms:.0f}/{with_checks.p99_ms:.0f} ms, without "
                f"{without.p50_ms:.0f}/{without.p99_ms:.0f} ms; errors {with_checks.errors}/{without.errors}",
                f"{with_checks.requests:,} writes with checks; ShellCheck ran "
                f"{counted.get('checked', 0):.0f} checks meanwhile (the rest after it, niced)",
                f"load average {load_before:.1f} before, {load_after:.1f} after ({os.cpu_count()} cores)",
            ],
        )
    ]
