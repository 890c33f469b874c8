"""13f-13h. Search inside bodies in cluster mode: a node on a PostgreSQL library of SIZE
script assemblies with the distinct 1-20 KB bodies of bench 13 (``search_entries``).

The library is written straight into a fresh database of a throwaway server (the engine's
migrations, then one ``COPY`` per table, as bench/pg_library.py does), with no search rows:
the node builds ``search_bodies`` itself.

* 13f, index build: from the node's first body search (which waits for the build) until
  it answers; reported, with the table's size per assembly.
* After the build, the runs wait until the script-check sweep of every new body settled
  (as bench 13's do).
* 13g, warm body search, 16 connections, ``?limit=100&q=marker7``, against
  bench/search_baseline_app.py with ``--database``: bare Starlette running the raw
  PostgreSQL full-text query of the same terms (``terms @@ to_tsquery('simple', …)``) on
  the same table, then answering the node's bytes; runs alternate. Target >= 0.5 x.
* 13h, cold: a write, then 200 different marker queries, node and baseline in turns from
  one client; p50 and p95. Target >= 0.5 x.
"""

from __future__ import annotations

import time
from collections import Counter

import httpx
import psycopg

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import COLUMNS
from assembly_engine.storage.contract.payload_manifest import MANIFEST_NAME
from assembly_engine.storage.postgresql.pool import migrate_database
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS
from tests.postgresql_server import PostgresServer

from .bench_search import WARM_TARGET, cold_samples, p95, rate_result, search_entries, settle, warm_runs
from .cluster_nodes import database, node
from .common import Context, Result, load_average, median, progress, scratch


def build_library(url: str, count: int) -> tuple[dict[str, int], int]:
    """Migrate the empty database at ``url`` and write the search library: (counts, body bytes)."""
    migrate_database(url)
    counts: Counter[str] = Counter()
    body_bytes = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        entries = list(search_entries(count))
        for domain in Domain:
            rows = [e.row for e in entries if e.domain is domain]
            counts[domain.value] = len(rows)
            with cur.copy(
                f"COPY {DOMAIN_SCHEMAS[domain]}.assemblies ({', '.join(COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        with cur.copy(
            "COPY payload_files (payload_guid, file_name, content, size_bytes, sha256) FROM STDIN"
        ) as copy:
            for entry in entries:
                image = entry.image
                for name, data, digest in [
                    (image.manifest.main.name, image.main, image.manifest.main.sha256),
                    (MANIFEST_NAME, image.manifest_bytes, image.checksum),
                ]:
                    copy.write_row((entry.payload_guid, name, data, len(data), digest))
                body_bytes += len(image.main)
        conn.commit()
        cur.execute("ANALYZE")
    return {d.value: counts[d.value] for d in Domain}, body_bytes


def run(ctx: Context) -> list[Result]:
    progress("cluster search: starting a throwaway PostgreSQL server (fsync on)")
    with (
        PostgresServer(durable=True) as server,
        scratch(ctx, "cluster-search") as folder,
        database(server) as url,
    ):
        began = time.perf_counter()
        counts, body_bytes = build_library(url, ctx.size)
        progress(f"cluster search: {ctx.size:,} assemblies written in {time.perf_counter() - began:.0f}s")
        engine = node(url, folder / "nodes", "search").start()
        try:
            engine.wait_ready(counts)
            auth = engine.auth()
            with httpx.Client(base_url=engine.url, timeout=3600) as client:
                began = time.perf_counter()
                client.get(WARM_TARGET, headers=auth).raise_for_status()
                built = time.perf_counter() - began
                load_built = load_average()
                with psycopg.connect(url) as conn:
                    row = conn.execute(
                        "SELECT pg_total_relation_size('search_bodies'), count(*) FROM search_bodies"
                    ).fetchone()
                table_bytes, indexed = (int(row[0]), int(row[1])) if row else (0, 0)
                progress(f"cluster search: index built in {built:.1f}s ({indexed:,} bodies)")
                results = [_build_result(built, table_bytes, body_bytes, ctx.size, indexed, load_built)]
                results[0].notes.append(settle(client, auth))
                source = ["--database", url]
                mine, base, size = warm_runs(ctx, folder, engine, auth, client, source)
                results.append(
                    rate_result(
                        "13g",
                        "Cluster: warm body search on one node, 16 connections: GET limit=100&q=marker7",
                        mine,
                        base,
                        f"bare Starlette + raw PostgreSQL full-text query, same bytes ({size:,} B)",
                    )
                )
                results[-1].notes.append(f"load average {load_average()}")
                results.append(_cold_result(*cold_samples(folder, auth, client, source)))
        finally:
            engine.stop()
    return results


def _build_result(
    seconds: float, table_bytes: int, body_bytes: int, count: int, indexed: int, load: str
) -> Result:
    return Result(
        number="13f",
        name=f"Cluster: search index build by a node, first body search ({count:,} assemblies)",
        figure=seconds,
        unit="s",
        baseline=None,
        baseline_label="-",
        ratio=None,
        ratio_label="",
        target="report",
        met=None,
        notes=[
            f"{indexed:,} bodies in search_bodies, {table_bytes / max(1, count):,.0f} B per assembly "
            f"(table, GIN index and TOAST) for {body_bytes / max(1, count):,.0f} B of body; "
            f"load average {load}"
        ],
    )


def _cold_result(mine: list[float], base: list[float]) -> Result:
    mine_p50, base_p50 = median(mine), median(base)
    ratio = base_p50 / mine_p50 if mine_p50 > 0 else 0.0
    return Result(
        number="13h",
        name="Cluster: cold body search on one node, 200 different marker queries after a write",
        figure=mine_p50 * 1000,
        unit="ms p50",
        baseline=base_p50 * 1000,
        baseline_label="bare Starlette + raw PostgreSQL full-text query, p50",
        ratio=ratio,
        ratio_label="baseline p50 / node p50",
        target=">= 0.5",
        met=ratio >= 0.5,
        notes=[
            f"p95 node {p95(mine) * 1000:.1f} ms, baseline {p95(base) * 1000:.1f} ms; "
            f"load average {load_average()}"
        ],
    )
