"""The storage of one cluster node: opened in the order an embedded home opens, on PostgreSQL.

migrate (one node at a time) → pool → official sync (one node at a time; the others find
its stamp) → hydrate the cache from the shared tables (replaying the queued changes) →
start the change feed, the flush worker and the warmer. Nothing is kept on the node's disk.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from psycopg_pool import ConnectionPool

from ...config import Settings
from ...types import Domain
from ..cache import AssemblyCache
from ..heap import collector_paused
from ..interfaces import AuditStore, EngineStore, Maintenance
from ..official_sync import SyncReport, seed_community
from .audit_store import PostgresAuditStore
from .change_feed import ChangeFeed
from .domain_store import PostgresDomainStores
from .engine_store import PostgresEngineStore
from .maintenance import PostgresMaintenance
from .official_sync import official_sync_lock, sync_official_once
from .payload_store import PostgresPayloadStore
from .pool import create_pool, migrate_database
from .write_queue import PostgresWriteQueue

log = logging.getLogger("assembly_engine.cluster")

POOL_SIZE = 10  # request threads share these; the feed and migrations have their own


@dataclass
class ClusterNode:
    """What only a cluster node has: its pool, the shared queue and the change feed."""

    url: str
    pool: ConnectionPool
    queue: PostgresWriteQueue
    feed: ChangeFeed

    def engine_store(self) -> EngineStore:
        return PostgresEngineStore(self.pool)

    def audit_store(self) -> AuditStore:
        return PostgresAuditStore(self.pool)

    def maintenance(self, payloads: PostgresPayloadStore) -> Maintenance:
        return PostgresMaintenance(self.pool, payloads)

    def official_sync_lock(self) -> AbstractContextManager[None]:
        return official_sync_lock(self.pool)

    def official_rebuilt(self) -> None:
        """Official sync rewrote the official table: its rows are the revision heads now."""
        self.queue.adopt_domain_rows(Domain.OFFICIAL)

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
        payloads = PostgresPayloadStore(pool)
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
            report = sync_official_once(
                pool,
                settings.staging_root,
                databases[Domain.OFFICIAL],
                payloads,
                keep_payloads={e.record.payload.payload_guid for e in queued},
                quick=True,
                present_payloads=payloads.list_guids(),
                queued={e.assembly_guid for e in queued},
            )
            if not report.reused:
                queue.adopt_domain_rows(Domain.OFFICIAL)
            if 1 in applied:  # this node created the library: seed community as a new home does
                with official_sync_lock(pool):
                    if seed_community(settings.staging_root, databases[Domain.COMMUNITY], payloads):
                        queue.adopt_domain_rows(Domain.COMMUNITY)
            counts = cache.hydrate(
                preloaded={Domain.OFFICIAL: report.rows}, present_payloads=payloads.list_guids()
            )
        log.info("cluster node hydrated: %s; %d queued change(s)", counts, cache.depth())
        feed = ChangeFeed(
            url,
            queue,
            cache,
            applied_seq=start_seq,
            reload_all=lambda: cache.hydrate({}, payloads.list_guids()),
        )
        feed.start()
        if start_worker:
            cache.start()
            cache.start_warming()
    except BaseException:
        if queue is not None:
            queue.close()
        pool.close()
        raise
    return NodeStorage(
        databases, payloads, cache, replace(report, rows=[]), ClusterNode(url, pool, queue, feed)
    )
