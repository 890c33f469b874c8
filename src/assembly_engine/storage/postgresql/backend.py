"""The cluster backend's whole stack for one node: migrations, pool, official sync, the
cache on top and the change feed (postgresql/node.py opens them in that order)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from assembly_engine.config import Settings
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.interfaces import (
    AuditStore,
    CheckResultStore,
    EngineStore,
    Maintenance,
    ThrottleStore,
)
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStores
from assembly_engine.storage.postgresql.node import ClusterNode, open_node
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.write_queue import PostgresWriteQueue


@dataclass
class ClusterBackend:
    """Everything of one cluster node; the node's stores share its connection pool."""

    databases: PostgresDomainStores
    journal: PostgresWriteQueue
    payloads: PostgresPayloadStore
    cache: AssemblyCache
    boot_sync: SyncReport
    node: ClusterNode

    @classmethod
    def open(cls, settings: Settings, *, start_worker: bool) -> ClusterBackend:
        opened = open_node(settings, start_worker=start_worker)
        return cls(
            opened.databases, opened.node.queue, opened.payloads, opened.cache, opened.boot_sync, opened.node
        )

    def official_sync_lock(self) -> AbstractContextManager[None]:
        return self.node.official_sync_lock()

    def official_rebuilt(self) -> None:
        self.node.official_rebuilt()

    def others_running(self) -> bool:
        return self.node.others_running()

    def engine_store(self) -> EngineStore:
        return self.node.engine_store()

    def audit_store(self) -> AuditStore:
        return self.node.audit_store()

    def check_results(self) -> CheckResultStore:
        return self.node.check_results()  # shared: a script one node checked is checked

    def throttle_store(self) -> ThrottleStore:
        return self.node.throttle_store()  # shared: guesses spread over nodes add up

    def maintenance(self) -> Maintenance:
        return self.node.maintenance(self.payloads)

    def close(self, *, flush: bool) -> None:
        self.node.feed.stop()  # no other node's change may arrive while the cache closes
        try:
            self.cache.close(flush=flush)
        finally:
            self.databases.close()
            self.node.close()
