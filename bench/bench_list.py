"""2. List throughput: ``GET /api/assemblies`` with SIZE cached assemblies under load.

Engine: CONNECTIONS concurrent keep-alive clients (wrk when available) for DURATION
seconds, authenticated with a Bearer token, on three requests:

* ``?limit=100`` - the first page of the whole library;
* ``?limit=100&domain=user&q=backup`` - a filtered search;
* the first request again with ``If-None-Match`` set to its ETag - the 304 path.

The fast lane (api/fast_lane.py) on its own: the first page again, after the shared engine
is stopped, from an engine on the same home without it (bench/serve_without_fast_lane.py);
the row's ratio is what the fast lane earns (with / without).

Baseline: a bare Starlette app under uvicorn (same uvicorn settings as the engine) in its
own process, answering the same request targets with the exact bytes captured from the
engine's responses (and the bare 304 for the matching ETag). Target: engine >= 0.5 x
baseline requests/s for the two 200 answers; the 304 path is reported. The notes give the
CPU time each side spent per request during its load runs (``/proc``, every thread) and the
load average before and after, the steadier measure on a shared machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from .common import (
    BaselineServer,
    Context,
    Engine,
    LoadResult,
    Result,
    alternate,
    cpu_seconds,
    load_average,
    load_test,
    main_engine,
    progress,
    scratch,
    stop_main_engine,
)

STABLE_WITHIN = 600.0  # seconds the first page may take to stop changing after the start
TARGETS = {
    "list": "/api/assemblies?limit=100",
    "search": "/api/assemblies?limit=100&domain=user&q=backup",
}


def run(ctx: Context) -> list[Result]:
    engine = main_engine(ctx)
    auth = engine.auth()
    results: list[Result] = []
    with_lane: LoadResult | None = None
    with scratch(ctx, "list") as folder, httpx.Client(base_url=engine.url, timeout=120) as client:
        routes: dict[str, dict[str, str]] = {}
        sizes: dict[str, int] = {}
        for name, target in TARGETS.items():
            client.get(target, headers=auth).raise_for_status()  # builds the cached view
            response = client.get(target, headers=auth)
            response.raise_for_status()
            body_file = folder / f"{name}.json"
            body_file.write_bytes(response.content)
            routes[target] = {"body_file": str(body_file), "etag": response.headers["etag"]}
            sizes[name] = len(response.content)
            total = response.json()["total"]
            progress(f"list: {target} -> {len(response.content):,} bytes, total {total:,}")
        # The engine checks every stored script once after a start (services/checks); while
        # results for the first page's rows arrive, its answer (their counts) changes. The
        # steady state is measured: the page is taken again until its ETag holds.
        etag = routes[TARGETS["list"]]["etag"]
        waited = time.monotonic()
        while True:
            not_modified = client.get(TARGETS["list"], headers={**auth, "If-None-Match": etag})
            if not_modified.status_code == 304:
                break
            if time.monotonic() - waited > STABLE_WITHIN:
                raise RuntimeError(f"expected 304 for a matching ETag, got {not_modified.status_code}")
            time.sleep(0.5)
            response = client.get(TARGETS["list"], headers=auth)
            response.raise_for_status()
            Path(routes[TARGETS["list"]]["body_file"]).write_bytes(response.content)
            etag = routes[TARGETS["list"]]["etag"] = response.headers["etag"]
        progress(
            f"list: first page steady after {time.monotonic() - waited:.1f}s (check results of its rows)"
        )

        with BaselineServer(routes, folder) as baseline:
            cases = [
                ("list", TARGETS["list"], {}, 200),
                ("search", TARGETS["search"], {}, 200),
                ("304", TARGETS["list"], {"If-None-Match": etag}, 304),
            ]
            for name, target, extra, status in cases:
                progress(
                    f"list: {name} - engine and baseline in turns, {ctx.connections} connections, "
                    f"{ctx.duration:.0f}s each"
                )
                headers = {**auth, **extra}
                assert baseline.proc is not None
                engine_cpu, base_cpu = CpuTally(engine.pid), CpuTally(baseline.proc.pid)
                loads = [load_average()]
                mine, base = alternate(
                    ctx,
                    lambda seconds, t=target, h=headers, s=status, c=engine_cpu: c.run(
                        lambda: load_test(ctx, engine.url + t, headers=h, duration=seconds, expect_status=s)
                    ),
                    lambda seconds, t=target, h=headers, s=status, c=base_cpu: c.run(
                        lambda: load_test(ctx, baseline.url + t, headers=h, duration=seconds, expect_status=s)
                    ),
                )
                loads.append(load_average())
                result = _result(name, target, mine, base, sizes.get(name, 0))
                result.notes.append(
                    f"CPU per request (user + system, /proc): engine {engine_cpu.per_request_ms(mine):.3f} "
                    f"ms, baseline {base_cpu.per_request_ms(base):.3f} ms; load average {' -> '.join(loads)}"
                )
                results.append(result)
                if name == "list":
                    with_lane = mine
    assert with_lane is not None
    results.append(_without_fast_lane(ctx, with_lane))
    return results


class CpuTally:
    """CPU seconds a process spends during the load runs given to ``run``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seconds = 0.0

    def run(self, load: Callable[[], LoadResult]) -> LoadResult:
        began = cpu_seconds(self.pid)
        try:
            return load()
        finally:
            self.seconds += cpu_seconds(self.pid) - began

    def per_request_ms(self, result: LoadResult) -> float:
        return 1000.0 * self.seconds / result.requests if result.requests else 0.0


def _without_fast_lane(ctx: Context, with_lane: LoadResult) -> Result:
    """The first page from an engine without the fast lane (the home can hold one engine at
    a time, so the shared one is stopped first; the writes benchmark starts it again)."""
    stop_main_engine(ctx)
    home = ctx.shared["main_home"]
    without = Engine(
        home.home, home.staging, command=[str(Path(__file__).with_name("serve_without_fast_lane.py"))]
    ).start()
    try:
        without.wait_ready(home.counts)
        auth = without.auth()
        httpx.get(without.url + TARGETS["list"], headers=auth, timeout=120).raise_for_status()
        progress(
            f"list: first page without the fast lane, {ctx.connections} connections, {ctx.duration:.0f}s"
        )
        plain = load_test(
            ctx, without.url + TARGETS["list"], headers=auth, duration=ctx.duration, expect_status=200
        )
    finally:
        without.stop()
    gain = with_lane.rate / plain.rate if plain.rate > 0 else 0.0
    return Result(
        number="2d",
        name="List first page without the fast lane (FastAPI routing)",
        figure=plain.rate,
        unit="req/s",
        baseline=with_lane.rate,
        baseline_label="the same engine with the fast lane (2a)",
        ratio=gain,
        ratio_label="with / without the fast lane",
        target="report",
        met=None,
        notes=[
            f"latency p50/p99 {plain.p50_ms:.1f}/{plain.p99_ms:.1f} ms; {plain.tool}; errors {plain.errors}"
        ],
    )


def _result(name: str, target: str, mine: LoadResult, base: LoadResult, size: int) -> Result:
    ratio = mine.rate / base.rate if base.rate > 0 else 0.0
    label = {"list": "first page", "search": "search (domain + q)", "304": "304 Not Modified"}[name]
    errors = mine.errors + base.errors
    return Result(
        number="2" + {"list": "a", "search": "b", "304": "c"}[name],
        name=f"List {label}: GET {target.split('?', 1)[1]}",
        figure=mine.rate,
        unit="req/s",
        baseline=base.rate,
        baseline_label=f"bare Starlette, same bytes ({size:,} B)" if size else "bare Starlette 304",
        ratio=ratio,
        ratio_label="engine / baseline",
        target=">= 0.5" if name != "304" else "report",
        met=(ratio >= 0.5 and errors == 0) if name != "304" else None,
        notes=[
            f"latency p50/p99 engine {mine.p50_ms:.1f}/{mine.p99_ms:.1f} ms, baseline "
            f"{base.p50_ms:.1f}/{base.p99_ms:.1f} ms; {mine.tool}; errors {mine.errors}/{base.errors}"
        ],
    )
