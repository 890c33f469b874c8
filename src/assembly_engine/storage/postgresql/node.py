"""The storage of one cluster node: opened in the order an embedded home opens, on PostgreSQL.

migrate (one node at a time) → pool → official sync (the first node of a cluster, once per
staging copy) → hydrate the cache from the shared tables (replaying the queued changes) →
start the change feed, the flush worker and the warmer. Nothing is kept on the node's disk.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from psycopg_pool import ConnectionPool

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.cache.body_search import BodySearch
from assembly_engine.storage.cache.heap import collector_paused
from assembly_engine.storage.contract.interfaces import (
    AuditStore,
    CheckResultStore,
    EngineStore,
    Maintenance,
    ThrottleStore,
)
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.official.sync import seed_community, staging_content, sync_official
from assembly_engine.storage.official.trust import TrustRules, judge_staging
from assembly_engine.storage.postgresql.audit_store import PostgresAuditStore
from assembly_engine.storage.postgresql.change_feed import FEED_APPLICATION_NAME, ChangeFeed
from assembly_engine.storage.postgresql.check_results import PostgresCheckResults
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStores
from assembly_engine.storage.postgresql.engine_store import PostgresEngineStore
from assembly_engine.storage.postgresql.errors import translated
from assembly_engine.storage.postgresql.maintenance import PostgresMaintenance
from assembly_engine.storage.postgresql.official_sync import official_sync_lock
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.pool import create_pool, migrate_database
from assembly_engine.storage.postgresql.search_index import PostgresSearchIndex
from assembly_engine.storage.postgresql.session_cache import SessionRowCache
from assembly_engine.storage.postgresql.throttle_store import PostgresThrottleStore
from assembly_engine.storage.postgresql.write_queue import PostgresWriteQueue

log = logging.getLogger("assembly_engine.cluster")

STAGING_CONTENT_KEY = "official-staging-content"  # engine_meta: the staging copy synced last
POOL_SIZE = 10  # request threads share these; the feed and migrations have their own


@dataclass
class ClusterNode:
    """What only a cluster node has: its pool, the shared queue and the change feed."""

    url: str
    pool: ConnectionPool
    queue: PostgresWriteQueue
    feed: ChangeFeed

    def engine_store(self) -> EngineStore:
        return cast(EngineStore, SessionRowCache(PostgresEngineStore(self.pool)))

    def audit_store(self) -> AuditStore:
        return PostgresAuditStore(self.pool)

    def check_results(self) -> CheckResultStore:
        return PostgresCheckResults(self.pool)

    def throttle_store(self) -> ThrottleStore:
        return PostgresThrottleStore(self.pool)

    def maintenance(self, payloads: PostgresPayloadStore) -> Maintenance:
        return PostgresMaintenance(self.pool, payloads)

    def others_running(self) -> bool:
        """Whether other nodes run on the library (this one listens too, once connected)."""
        self.feed.connected.wait(timeout=10)
        return running_nodes(self.pool) > (1 if self.feed.connected.is_set() else 0)

    def official_sync_lock(self) -> AbstractContextManager[None]:
        return official_sync_lock(self.pool)

    def official_rebuilt(self) -> None:
        """Official sync rewrote the official table: its rows are the revision heads now,
        and every other node reloads it."""
        self.queue.adopt_domain_rows(Domain.OFFICIAL)
        self.queue.announce_reload(Domain.OFFICIAL)

    def close(self) -> None:
        self.feed.stop()
        self.pool.close()


@dataclass
class NodeStorage:
    databases: PostgresDomainStores
    payloads: PostgresPayloadStore
    cache: AssemblyCache
    boot_sync: SyncReport
    node: ClusterNode


def boot_official_sync(
    pool: ConnectionPool,
    settings: Settings,
    databases: PostgresDomainStores,
    payloads: PostgresPayloadStore,
    queued: list[JournalEntry],
) -> SyncReport:
    """Official sync at a node's start, once per staging copy for the whole cluster.

    Only the first node of a cluster that is not running yet syncs, and only when its
    staging copy differs from the one synced last: the official rows are the library's
    truth once synced, so Dev Mode changes made since survive restarts (export them with
    ``assemblies export-official`` to keep the staging copy in step). A node joining
    running nodes never syncs: its staging copy may be older than the library."""
    rules = TrustRules.of(settings)
    # A node that does not sync still answers each record's signature status: from the
    # staging copy if it is trusted, else from the last trusted manifest this node kept.

    def unchanged() -> SyncReport:
        trust = judge_staging(settings.staging_root, rules, quick=True).trust
        return SyncReport(staging_count=0, runtime_count=0, reused=True, trust=trust)

    with official_sync_lock(pool):
        running = running_nodes(pool)
        if running:
            log.info("joined %d running node(s): official sync is left to the first node", running)
            return unchanged()
        content = staging_content(settings.staging_root)
        if content is None or content == _meta(pool, STAGING_CONTENT_KEY):
            return unchanged()
        report = sync_official(
            settings.staging_root,
            databases[Domain.OFFICIAL],
            payloads,
            keep_payloads={e.record.payload.payload_guid for e in queued},
            quick=False,
            present_payloads=payloads.list_guids(),
            queued={e.assembly_guid for e in queued},
            trust=rules,
        )
        if report.trust is None or not report.trust.refused:  # a refused copy is judged again next boot
            _set_meta(pool, STAGING_CONTENT_KEY, content)
        return report


def mark_staging_synced(pool: ConnectionPool, staging_root: Path) -> None:
    """Count the staging copy at ``staging_root`` as synced already (a library copied in
    holds official rows that may be newer than it)."""
    content = staging_content(staging_root)
    if content is not None:
        _set_meta(pool, STAGING_CONTENT_KEY, content)


def _meta(pool: ConnectionPool, key: str) -> str | None:
    with translated("reading the cluster's settings"), pool.connection() as conn:
        row = conn.execute("SELECT value FROM engine_meta WHERE key = %s", (key,)).fetchone()
    return bytes(row[0]).decode() if row else None


def _set_meta(pool: ConnectionPool, key: str, value: str) -> None:
    with translated("recording the official sync"), pool.connection() as conn:
        conn.execute(
            "INSERT INTO engine_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value.encode()),
        )


def running_nodes(pool: ConnectionPool) -> int:
    """Nodes of this library running now: each listens on one change-feed connection."""
    with translated("looking for running nodes"), pool.connection() as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s",
            (FEED_APPLICATION_NAME,),
        ).fetchone()  # type: ignore[misc]  # always one row
    return int(count)


def open_node(settings: Settings, *, start_worker: bool = True) -> NodeStorage:
    url = settings.database_url
    assert url is not None
    applied = migrate_database(url)
    pool = create_pool(url, min_size=2, max_size=POOL_SIZE)
    queue: PostgresWriteQueue | None = None
    try:
        queue = PostgresWriteQueue(pool)
        databases = PostgresDomainStores(pool)
        databases.validate_all()
        payloads = PostgresPayloadStore(pool, cache_bytes=settings.payload_cache_mb * 1024 * 1024)
        cache = AssemblyCache(
            databases,
            queue,
            payloads,
            flush_interval=settings.flush_interval,
            change_wait_seconds=settings.lock_retry_seconds,
            coordinator=queue,
        )
        with collector_paused(then_freeze=True):
            # Read first: whatever commits after this is applied again by the feed, which
            # skips what the loaded rows already hold.
            start_seq = queue.last_seq()
            queued = queue.pending()
            report = boot_official_sync(pool, settings, databases, payloads, queued)
            if 1 in applied:  # this node created the library: seed community as a new home does
                with official_sync_lock(pool):
                    if seed_community(settings.staging_root, databases[Domain.COMMUNITY], payloads):
                        queue.adopt_domain_rows(Domain.COMMUNITY)
            counts = cache.hydrate(
                preloaded={Domain.OFFICIAL: report.rows} if report.rows else {},
                present_payloads=payloads.list_guids(),
            )
        log.info("cluster node hydrated: %s; %d queued change(s)", counts, cache.depth())
        feed = ChangeFeed(
            url,
            queue,
            cache,
            applied_seq=start_seq,
            reload_all=lambda: cache.hydrate({}, payloads.list_guids()),
        )
        cache.search = BodySearch(
            PostgresSearchIndex(pool), payloads, cache.live_payloads, lambda: cache.generation
        )
        feed.start()
        if start_worker:
            cache.start_background()
    except BaseException:
        if queue is not None:
            queue.close()
        pool.close()
        raise
    return NodeStorage(
        databases, payloads, cache, replace(report, rows=[]), ClusterNode(url, pool, queue, feed)
    )
