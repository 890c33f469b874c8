"""9e-9g. Cluster mode on a library of SIZE assemblies: hydration and list throughput.

The same specs (``dataset.make_specs(SIZE)``) twice: an embedded home from
``dataset.build_home`` and a PostgreSQL library from ``pg_library.build_pg_library``.

* 9e, hydration of a node joining the library: one node serves it already (its untimed
  first start also created the admin account); another node, with a new home, is spawned
  and timed until ``/api/health`` answers with the full counts. Baseline: the embedded
  engine booting the same library, timed the same way (``bench_hydration.boot``, a
  restart); the boots alternate. Ratio node / embedded, reported. The notes give the
  pieces: ``SELECT *`` of the three domain tables over psycopg and the listing of the
  payloads' manifest rows (the reads a node makes before it answers, timed in this
  process), the same rows read from the SQLite files (``bench/raw_read.py``), and the
  start-up and imports of each kind of engine.
* 9f-9g, the list URLs of bench_list (first page, search) with CONNECTIONS connections to
  the node that serves the library against the same requests to the embedded engine on
  the same library, load runs alternating, both warm (every record built). Target >= 0.9 x:
  the cache answers on both, so the backend should not show.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import httpx
import psycopg

from assembly_engine.storage.contract.models import COLUMNS
from assembly_engine.storage.contract.payload_manifest import MANIFEST_NAME
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS
from tests.postgresql_server import PostgresServer

from .bench_hydration import IMPORT_ENGINE, Boot, boot, raw_read
from .bench_list import TARGETS
from .cluster_nodes import database, node
from .common import (
    PYTHON,
    Context,
    Engine,
    Result,
    alternate,
    load_test,
    median,
    progress,
    rss_bytes,
    scratch,
    timed_process,
)
from .dataset import Home, build_home, make_specs
from .pg_library import build_pg_library

IMPORT_NODE = IMPORT_ENGINE + ", assembly_engine.storage.postgresql.node"


def boot_node(engine: Engine, counts: dict[str, int]) -> Boot:
    """One timed start of a node (to ready and to warm), stopped afterwards."""
    engine.start()
    try:
        return Boot(engine.wait_ready(counts), engine.wait_warm(), rss_bytes(engine.pid))
    finally:
        engine.stop()


def raw_pg_reads(url: str, expected: int) -> dict[str, float]:
    """Seconds of the reads a node makes before it answers, without the engine around them."""
    gc.disable()  # the engine pauses its collector while it hydrates, too
    try:
        began = time.perf_counter()
        with psycopg.connect(url) as conn:
            connected = time.perf_counter()
            rows = 0
            for schema in DOMAIN_SCHEMAS.values():
                rows += len(conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {schema}.assemblies").fetchall())
            read = time.perf_counter()
            conn.execute(
                "SELECT payload_guid FROM payload_files WHERE file_name = %s", (MANIFEST_NAME,)
            ).fetchall()
            listed = time.perf_counter()
    finally:
        gc.enable()
    if rows != expected:
        raise RuntimeError(f"read {rows} rows from PostgreSQL, expected {expected}")
    return {"connect": connected - began, "rows": read - connected, "payloads": listed - read}


def hydration(ctx: Context, url: str, home: Home, nodes: Path) -> Result:
    progress("cluster: hydration, first start of the embedded home (untimed warm-up)")
    boot(home)
    joined: list[Boot] = []
    embedded: list[Boot] = []
    for attempt in range(ctx.repeats):
        joined.append(boot_node(node(url, nodes, f"joining{attempt}"), home.counts))
        embedded.append(boot(home))
        progress(
            f"cluster: hydration {attempt + 1}/{ctx.repeats}: node {joined[-1].ready:.2f}s, "
            f"embedded {embedded[-1].ready:.2f}s"
        )
    pg = [raw_pg_reads(url, home.total) for _ in range(ctx.repeats)]
    sqlite_rows = median([raw_read(home)["seconds"] for _ in range(ctx.repeats)])
    node_startup = median([timed_process([PYTHON, "-c", IMPORT_NODE])[0] for _ in range(ctx.repeats)])
    engine_startup = median([timed_process([PYTHON, "-c", IMPORT_ENGINE])[0] for _ in range(ctx.repeats)])
    node_s = median([b.ready for b in joined])
    embedded_s = median([b.ready for b in embedded])
    return Result(
        number="9e",
        name=f"Cluster: hydration of a node joining a library of {home.total:,} (start -> /api/health full)",
        figure=node_s,
        unit="s",
        baseline=embedded_s,
        baseline_label="the embedded engine booting the same library",
        ratio=node_s / embedded_s if embedded_s > 0 else None,
        ratio_label="node / embedded",
        target="report",
        met=None,
        notes=[
            f"node boots {', '.join(f'{b.ready:.2f}' for b in joined)} s, embedded "
            f"{', '.join(f'{b.ready:.2f}' for b in embedded)} s; every record built (`cache_warm`) "
            f"node {median([b.warm for b in joined]):.2f} s, "
            f"embedded {median([b.warm for b in embedded]):.2f} s",
            f"pieces: rows over psycopg {median([p['rows'] for p in pg]):.2f} s, payload manifest list "
            f"{median([p['payloads'] for p in pg]):.2f} s, connect "
            f"{median([p['connect'] for p in pg]) * 1000:.0f} ms; "
            f"the same rows from SQLite {sqlite_rows:.2f} s; start-up + imports node {node_startup:.2f} s, "
            f"embedded {engine_startup:.2f} s",
            f"RSS once warm: node {median([b.resident for b in joined]) / 2**20:.0f} MiB, embedded "
            f"{median([b.resident for b in embedded]) / 2**20:.0f} MiB",
        ],
    )


def lists(ctx: Context, served: Engine, home: Home) -> list[Result]:
    embedded = Engine(home.home, home.staging).start()
    results: list[Result] = []
    try:
        embedded.wait_ready(home.counts)
        embedded.wait_warm()
        on_node, on_embedded = served.auth(), embedded.auth()
        for letter, (name, target) in zip("fg", TARGETS.items(), strict=True):
            bodies = []
            for engine, auth in ((served, on_node), (embedded, on_embedded)):
                httpx.get(
                    engine.url + target, headers=auth, timeout=120
                ).raise_for_status()  # the cached view
                answer = httpx.get(engine.url + target, headers=auth, timeout=120)
                answer.raise_for_status()
                bodies.append(answer.content)
            progress(f"cluster: list {name}, node and embedded in turns, {ctx.connections} connections")
            mine, base = alternate(
                ctx,
                lambda seconds, t=target: load_test(
                    ctx, served.url + t, headers=on_node, duration=seconds, expect_status=200
                ),
                lambda seconds, t=target: load_test(
                    ctx, embedded.url + t, headers=on_embedded, duration=seconds, expect_status=200
                ),
            )
            ratio = mine.rate / base.rate if base.rate > 0 else 0.0
            same = (
                "the same bytes"
                if bodies[0] == bodies[1]
                else f"{len(bodies[0]):,} B vs {len(bodies[1]):,} B"
            )
            results.append(
                Result(
                    number=f"9{letter}",
                    name=f"Cluster: list {'first page' if name == 'list' else 'search'} on one node, "
                    f"GET {target.split('?', 1)[1]}",
                    figure=mine.rate,
                    unit="req/s",
                    baseline=base.rate,
                    baseline_label=f"the embedded engine, same library ({same})",
                    ratio=ratio,
                    ratio_label="node / embedded",
                    target=">= 0.9",
                    met=ratio >= 0.9 and mine.errors + base.errors == 0,
                    notes=[
                        f"latency p50/p99 node {mine.p50_ms:.1f}/{mine.p99_ms:.1f} ms, embedded "
                        f"{base.p50_ms:.1f}/{base.p99_ms:.1f} ms; {mine.tool}; "
                        f"errors {mine.errors}/{base.errors}"
                    ],
                )
            )
    finally:
        embedded.stop()
    return results


def library_results(ctx: Context, server: PostgresServer) -> list[Result]:
    specs = make_specs(ctx.size)
    with scratch(ctx, "cluster-library") as folder, database(server) as url:
        progress(f"cluster: writing {ctx.size:,} assemblies into an embedded home and into PostgreSQL")
        home = build_home(folder / "embedded", specs)
        counts, seconds = build_pg_library(url, specs, folder / "templates")
        if counts != home.counts:
            raise RuntimeError(f"PostgreSQL library {counts}, embedded home {home.counts}")
        progress(
            f"cluster: libraries ready (embedded {home.seconds['total']:.1f}s, PostgreSQL {seconds:.1f}s)"
        )
        served = node(url, folder / "nodes", "serving").start()
        try:
            served.wait_ready(counts)
            served.wait_warm()
            results = [hydration(ctx, url, home, folder / "nodes")]
            results.extend(lists(ctx, served, home))
        finally:
            served.stop()
    results[0].notes.append(
        f"libraries written in {home.seconds['total']:.1f} s (embedded) and "
        f"{seconds:.1f} s (PostgreSQL, COPY)"
    )
    return results
