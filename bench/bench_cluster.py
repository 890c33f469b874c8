"""9. Cluster mode: real ``assemblies serve`` nodes on one throwaway PostgreSQL.

One server (tests/postgresql_server.py, ``durable=True``: fsync and synchronous_commit on)
for the whole benchmark, a fresh database for each case. A node is the engine process of
the other benchmarks with ``ENGINE_DATABASE_URL`` set, its own home and the one shared,
empty staging folder (``ENGINE_FLUSH_INTERVAL`` 3600 as everywhere in bench/). Nodes start
one after the other; the first migrates the empty database and creates the admin account.

* 9a-9c, acknowledged writes through 1, 2 and 3 nodes of an empty library: CONNECTIONS
  keep-alive clients in all, split evenly over the nodes (so the offered load is the same
  whatever the number of nodes), ``POST /api/assemblies`` (a 201 means committed in
  PostgreSQL), one load generator per node running at the same time. Afterwards every
  node's ``/api/health`` must count at least every acknowledged write (waited for with a
  deadline: a node learns of the others' writes through its change feed). Baseline:
  ``bench_pg_commit.commit_rate``, one durable single-row commit per write from as many
  clients as there are nodes, on another database of the same server; engine and
  baseline rounds alternate. Target >= 0.5 x.
* 9d, propagation: sequential writes through node A; from A's 201 until node B answers
  ``GET /api/assemblies/{guid}`` with 200 (B polled in a tight loop, so the figure
  includes up to one GET's latency). p50 and p99 in ms, reported.
* 9e-9g, a library of SIZE assemblies: see bench/bench_cluster_library.py.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time

import httpx
import psycopg

from tests.postgresql_server import PostgresServer

from .bench_cluster_library import library_results
from .bench_pg_commit import CREATE, commit_rate
from .bench_writes import BODY
from .cluster_nodes import database, running_nodes
from .common import (
    Context,
    Engine,
    LoadResult,
    Result,
    alternate,
    cpu_seconds,
    load_average,
    load_test,
    progress,
    scratch,
)

NODE_COUNTS = (1, 2, 3)
# BENCH_CLUSTER=writes: only 9a-9c (and BENCH_CLUSTER_NODES=1: only 9a), for the write path.
ONLY_WRITES = os.environ.get("BENCH_CLUSTER") == "writes"
NODES_TO_RUN = tuple(int(n) for n in os.environ.get("BENCH_CLUSTER_NODES", "1,2,3").split(","))
WARM_UP_WRITES = 3  # per node, before the measured rounds
CONVERGE_SECONDS = 120.0  # how long every node may take to count every acknowledged write
PROPAGATION_DEADLINE = 30.0  # per write: B not serving it by then is an error


def health_total(engine: Engine) -> int:
    response = httpx.get(f"{engine.url}/api/health", timeout=30)
    response.raise_for_status()
    return sum(response.json()["assemblies"].values())


def wait_converged(nodes: list[Engine], at_least: int) -> tuple[float, list[int]]:
    """Until every node counts ``at_least`` assemblies: (seconds waited, the counts)."""
    began = time.perf_counter()
    while True:
        counts = [health_total(engine) for engine in nodes]
        if min(counts) >= at_least:
            return time.perf_counter() - began, counts
        if time.perf_counter() - began > CONVERGE_SECONDS:
            raise RuntimeError(
                f"{at_least:,} writes acknowledged, but after {CONVERGE_SECONDS:.0f}s "
                f"the nodes count {counts}"
            )
        time.sleep(0.05)


def warmed_up(engines: list[Engine]) -> list[dict[str, str]]:
    """Each engine's request headers, after WARM_UP_WRITES writes through it."""
    body = json.dumps(BODY).encode("utf-8")
    headers = [{**engine.auth(), "Content-Type": "application/json"} for engine in engines]
    for engine, auth in zip(engines, headers, strict=True):
        for _ in range(WARM_UP_WRITES):
            answer = httpx.post(f"{engine.url}/api/assemblies", content=body, headers=auth, timeout=60)
            if answer.status_code != 201:
                raise RuntimeError(f"POST /api/assemblies answered {answer.status_code}: {answer.text}")
    return headers


def split(total: int, parts: int) -> list[int]:
    """``total`` connections over ``parts`` nodes, as evenly as possible."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def parallel_load(
    ctx: Context, nodes: list[Engine], headers: list[dict[str, str]], seconds: float
) -> LoadResult:
    """One load generator per node at the same time; the sum of what they completed."""
    body = json.dumps(BODY).encode("utf-8")
    shares = split(ctx.connections, len(nodes))
    parts: list[LoadResult | None] = [None] * len(nodes)

    def drive(index: int) -> None:
        parts[index] = load_test(
            ctx,
            nodes[index].url + "/api/assemblies",
            method="POST",
            headers=headers[index],
            body=body,
            duration=seconds,
            connections=shares[index],
            expect_status=201,
        )

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(len(nodes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [part for part in parts if part is not None]
    if len(done) != len(nodes):
        raise RuntimeError("a load generator failed")
    return LoadResult(
        requests=sum(p.requests for p in done),
        errors=sum(p.errors for p in done),
        seconds=max(p.seconds for p in done),
        p50_ms=statistics.median(p.p50_ms for p in done),
        p99_ms=max(p.p99_ms for p in done),
        tool=done[0].tool,
    )


def pg_baseline(url: str, clients: int, seconds: float) -> LoadResult:
    commits, elapsed, latencies = commit_rate(url, clients, seconds)
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99)] if ordered else 0.0
    return LoadResult(commits, 0, elapsed, statistics.median(ordered) if ordered else 0.0, p99, "psycopg")


def writes_through(ctx: Context, server: PostgresServer, count: int) -> Result:
    with (
        scratch(ctx, f"cluster-writes-{count}") as folder,
        database(server) as url,
        database(server) as baseline_url,
        running_nodes(url, folder, count) as nodes,
    ):
        with psycopg.connect(baseline_url, autocommit=True) as conn:
            conn.execute(CREATE)
        commit_rate(baseline_url, 1, 1.0)  # warm-up: WAL segments, caches
        headers = warmed_up(nodes)
        progress(
            f"cluster: writes through {count} node(s) ({split(ctx.connections, count)} connections) and "
            f"{count} PostgreSQL client(s) in turns, {ctx.duration:.0f}s each"
        )
        node_cpu = [0.0]

        def writes(seconds: float) -> LoadResult:
            # The nodes' CPU (every thread, /proc) over their load runs alone.
            began = sum(cpu_seconds(node.pid) for node in nodes)
            result = parallel_load(ctx, nodes, headers, seconds)
            node_cpu[0] += sum(cpu_seconds(node.pid) for node in nodes) - began
            return result

        loads = [load_average()]
        mine, base = alternate(ctx, writes, lambda seconds: pg_baseline(baseline_url, count, seconds))
        loads.append(load_average())
        acknowledged = mine.requests + WARM_UP_WRITES * count
        waited, counts = wait_converged(nodes, acknowledged)
    ratio = mine.rate / base.rate if base.rate > 0 else 0.0
    progress(f"cluster: {count} node(s) {mine.rate:,.0f} writes/s, PostgreSQL {base.rate:,.0f} commits/s")
    return Result(
        number=f"9{'abc'[count - 1]}",
        name=f"Cluster: acknowledged writes through {count} node(s), {ctx.connections} clients in all",
        figure=mine.rate,
        unit="writes/s",
        baseline=base.rate,
        baseline_label=f"PostgreSQL, one durable single-row commit per write, {count} client(s)",
        ratio=ratio,
        ratio_label="nodes / PostgreSQL",
        target=">= 0.5",
        met=ratio >= 0.5 and mine.errors == 0,
        notes=[
            f"{count} node(s), connections {'+'.join(map(str, split(ctx.connections, count)))}; latency "
            f"p50/p99 {mine.p50_ms:.1f}/{mine.p99_ms:.1f} ms; errors {mine.errors}; {mine.tool}",
            f"{acknowledged:,} acknowledged (warm-up included), nodes count "
            f"{', '.join(f'{c:,}' for c in counts)} "
            f"(in flight at the end count as stored), all of them {waited:.2f}s after the load",
            f"PostgreSQL {count} client(s): latency p50/p99 {base.p50_ms:.2f}/{base.p99_ms:.2f} ms",
            f"node CPU per acknowledged write {1000 * node_cpu[0] / max(mine.requests, 1):.2f} ms "
            f"(/proc, user + system, every thread of every node); load average {loads[0]} -> {loads[1]}",
        ],
    )


def propagation(ctx: Context, server: PostgresServer) -> Result:
    writes = 100 if ctx.quick else 300
    body = json.dumps(BODY).encode("utf-8")
    delays: list[float] = []
    acks: list[float] = []
    polls = 0
    with (
        scratch(ctx, "cluster-propagation") as folder,
        database(server) as url,
        running_nodes(url, folder, 2) as (a, b),
    ):
        on_a = {**a.auth(), "Content-Type": "application/json"}
        on_b = b.auth()
        progress(f"cluster: propagation of {writes} sequential writes from node A to node B")
        with (
            httpx.Client(base_url=a.url, timeout=60) as to_a,
            httpx.Client(base_url=b.url, timeout=60) as to_b,
        ):
            for _ in range(writes + 1):  # the first write is a warm-up
                sent = time.perf_counter()
                answer = to_a.post("/api/assemblies", content=body, headers=on_a)
                acked = time.perf_counter()
                if answer.status_code != 201:
                    raise RuntimeError(f"POST /api/assemblies answered {answer.status_code}: {answer.text}")
                guid = answer.json()["assembly_guid"]
                while True:
                    polls += 1
                    seen = to_b.get(f"/api/assemblies/{guid}", headers=on_b)
                    if seen.status_code == 200:
                        break
                    if seen.status_code != 404 or time.perf_counter() - acked > PROPAGATION_DEADLINE:
                        raise RuntimeError(
                            f"node B answered {seen.status_code} for {guid} "
                            f"{time.perf_counter() - acked:.1f}s after node A's 201: {seen.text[:300]}"
                        )
                delays.append((time.perf_counter() - acked) * 1000)
                acks.append((acked - sent) * 1000)
    delays, acks = delays[1:], acks[1:]
    ordered = sorted(delays)
    p50, p99 = statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    progress(f"cluster: propagation p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return Result(
        number="9d",
        name=f"Cluster: propagation, node A's 201 -> node B serves it (p50; {writes} sequential writes)",
        figure=p50,
        unit="ms",
        baseline=None,
        baseline_label="-",
        ratio=None,
        ratio_label="",
        target="report",
        met=None,
        notes=[
            f"propagation p50/p99/max {p50:.1f}/{p99:.1f}/{ordered[-1]:.1f} ms; {polls / (writes + 1):.1f} "
            f"GETs on B per write; the POST on A itself p50 {statistics.median(acks):.1f} ms"
        ],
    )


def writes_against_embedded(ctx: Context, server: PostgresServer) -> Result:
    """One node against the embedded engine, both on an empty library, the same load in
    turns: what cluster storage costs a write over the engine's own write path."""
    with (
        scratch(ctx, "cluster-writes-vs-embedded") as folder,
        database(server) as url,
        running_nodes(url, folder, 1) as (node,),
    ):
        embedded = Engine(folder / "embedded" / "home", folder / "staging").start()
        try:
            embedded.wait_ready()
            headers = warmed_up([node, embedded])
            progress(
                f"cluster: writes through 1 node and the embedded engine in turns, {ctx.duration:.0f}s each"
            )
            mine, base = alternate(
                ctx,
                lambda seconds: parallel_load(ctx, [node], headers[:1], seconds),
                lambda seconds: parallel_load(ctx, [embedded], headers[1:], seconds),
            )
        finally:
            embedded.stop()
    ratio = mine.rate / base.rate if base.rate > 0 else 0.0
    progress(f"cluster: 1 node {mine.rate:,.0f} writes/s, embedded {base.rate:,.0f} writes/s")
    return Result(
        number="9h",
        name=f"Cluster: acknowledged writes, 1 node against the embedded engine, {ctx.connections} clients",
        figure=mine.rate,
        unit="writes/s",
        baseline=base.rate,
        baseline_label="the embedded engine, empty library, the same requests",
        ratio=ratio,
        ratio_label="node / embedded",
        target=">= 0.9",
        met=ratio >= 0.9 and mine.errors == 0 and base.errors == 0,
        notes=[
            f"latency p50/p99 node {mine.p50_ms:.1f}/{mine.p99_ms:.1f} ms, embedded "
            f"{base.p50_ms:.1f}/{base.p99_ms:.1f} ms; errors {mine.errors}/{base.errors}; {mine.tool}"
        ],
    )


def run(ctx: Context) -> list[Result]:
    progress("cluster: starting a throwaway PostgreSQL server (fsync on)")
    with PostgresServer(durable=True) as server:
        results = [writes_through(ctx, server, count) for count in NODE_COUNTS if count in NODES_TO_RUN]
        if ONLY_WRITES:
            return results
        results.append(writes_against_embedded(ctx, server))
        results.append(propagation(ctx, server))
        results.extend(library_results(ctx, server))
    return results
