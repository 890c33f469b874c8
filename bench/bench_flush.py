"""4. Flush: persisting ENTRIES dirty cache entries to their domain database.

Engine: a ``StorageRuntime`` on a fresh home (no background worker); ENTRIES records are
created in the cache (``AssemblyCache.create`` from several threads, so the journal group
commits them quickly), then ``AssemblyCache.flush_now()`` is timed: one upsert
transaction, the journal clean-up and the bookkeeping of every entry.

Baseline: one transaction that does what the flush must: ``executemany`` INSERTs of the same
rows (``AssemblyRecord.to_row``) and of one version-history row per change (the row as
JSON, as the engine keeps it), into a fresh database opened with the engine's own
connection settings (``databases.connect``: WAL, shared cache, the same synchronous level)
and ``create_schema``. Rows and JSON are made before the clock starts, as the engine makes
them when a change is accepted. Target: engine >= 0.7 x baseline rows/s.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain, PayloadType
from assembly_engine.storage.cache.entry import row_json
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord
from assembly_engine.storage.contract.shared_metadata import split_row
from assembly_engine.storage.runtime import StorageRuntime
from assembly_engine.storage.sqlite.backend import connection_options
from assembly_engine.storage.sqlite.databases import (
    INSERT_METADATA,
    INSERT_REVISION,
    connect,
    create_history_schema,
    create_schema,
)

from .common import Context, Result, median, progress, scratch
from .dataset import KIND_OF, make_specs, row_for

THREADS = 16


def records(count: int) -> list[AssemblyRecord]:
    farm = _FakeFarm()
    return [
        AssemblyRecord.from_row(row_for(spec, Domain.USER, farm), Domain.USER)  # type: ignore[arg-type]
        for spec in make_specs(count, seed=4)
    ]


class _FakeFarm:
    """row_for without payload folders: the flush never opens a payload."""

    def ref(self, atype: str) -> tuple[str, int, str]:
        payload_type = PayloadType.WORKFLOW if KIND_OF[atype] == "workflow" else PayloadType.SCRIPT
        return payload_type.value, 300, "ab" * 32


def settings_for(home: Path) -> Settings:
    return Settings.from_env(
        {
            "ENGINE_HOME": str(home),
            "ENGINE_STAGING_ROOT": str(home / "no-staging"),
            "ENGINE_FLUSH_INTERVAL": "3600",
        }
    )


def engine_flush(folder: Path, batch: list[AssemblyRecord]) -> float:
    runtime = StorageRuntime.open(settings_for(folder / "home"), start_worker=False)
    try:
        cache = runtime.cache
        chunks = [batch[i::THREADS] for i in range(THREADS)]

        def create(chunk: list[AssemblyRecord]) -> None:
            for record in chunk:
                cache.create(record)

        threads = [threading.Thread(target=create, args=(c,), daemon=True) for c in chunks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        if cache.depth() != len(batch):
            raise RuntimeError(f"expected {len(batch)} dirty entries, found {cache.depth()}")
        began = time.perf_counter()
        results = cache.flush_now()
        elapsed = time.perf_counter() - began
        persisted = sum(r.persisted for r in results)
        if persisted != len(batch) or cache.depth() != 0:
            raise RuntimeError(f"flush persisted {persisted} of {len(batch)}: {results}")
        return elapsed
    finally:
        runtime.close(flush=False)


def raw_insert(folder: Path, batch: list[AssemblyRecord]) -> float:
    conn = connect(folder / "raw.db", connection_options(settings_for(folder / "home")))
    try:
        create_schema(conn)
        create_history_schema(conn)
        rows = [record.to_row() for record in batch]
        # Stored as the engine stores them (domain schema 3): large metadata goes once into
        # revision_metadata, the revision row names it by its hash.
        splits = [split_row(row_json(row)) for row in rows]
        revisions = [
            (
                record.assembly_guid,
                record.revision,
                "create",
                split.row_json,
                record.payload.payload_guid,
                record.updated_at,
                split.metadata_hash,
            )
            for record, split in zip(batch, splits, strict=True)
        ]
        metadata = [(s.metadata_hash, s.metadata_json) for s in splits if s.metadata_hash is not None]
        sql = f"INSERT INTO assemblies ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.executemany(INSERT_METADATA, metadata)
        conn.executemany(INSERT_REVISION, revisions)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - began
        counts = conn.execute(
            "SELECT (SELECT COUNT(*) FROM assemblies), (SELECT COUNT(*) FROM revisions)"
        ).fetchone()
        if counts != (len(batch), len(batch)):
            raise RuntimeError("raw insert lost rows")
        return elapsed
    finally:
        conn.close()


def run(ctx: Context) -> list[Result]:
    count = min(10_000, ctx.size)
    batch = records(count)
    flushes: list[float] = []
    raws: list[float] = []
    for attempt in range(ctx.repeats):
        with scratch(ctx, "flush") as folder:
            flushes.append(engine_flush(folder, batch))
        with scratch(ctx, "raw-insert") as folder:
            raws.append(raw_insert(folder, batch))
        progress(f"flush {attempt + 1}/{ctx.repeats}: engine {flushes[-1]:.3f}s, raw {raws[-1]:.3f}s")
    engine_rate = count / median(flushes)
    raw_rate = count / median(raws)
    ratio = engine_rate / raw_rate
    return [
        Result(
            number="4",
            name=f"Flush {count:,} dirty entries (AssemblyCache.flush_now)",
            figure=engine_rate,
            unit="rows/s",
            baseline=raw_rate,
            baseline_label="one transaction inserting the rows and their revision rows",
            ratio=ratio,
            ratio_label="engine / raw",
            target=">= 0.7",
            met=ratio >= 0.7,
            notes=[
                f"flush {median(flushes) * 1000:.0f} ms vs raw {median(raws) * 1000:.0f} ms (medians of "
                f"{ctx.repeats})"
            ],
        )
    ]
