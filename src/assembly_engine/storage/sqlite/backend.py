"""The embedded backend's whole stack on one engine home: SQLite files, payload folders,
the journal, the cache on top, opened in the order Docs/assemblies.md §5.1 gives."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace

from assembly_engine.config import Settings
from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.cache.body_search import BodySearch
from assembly_engine.storage.cache.heap import collector_paused
from assembly_engine.storage.cache.throttle_counters import MemoryThrottleStore
from assembly_engine.storage.contract.interfaces import (
    AuditStore,
    CheckResultStore,
    EngineStore,
    Maintenance,
    ThrottleStore,
)
from assembly_engine.storage.contract.read_only import ReadOnlyBoot
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.official.sync import StagingMirror, seed_community, sync_official
from assembly_engine.storage.official.trust import TrustRules
from assembly_engine.storage.sqlite.audit_log import HashChainedLog
from assembly_engine.storage.sqlite.check_results import SqliteCheckResults
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabases
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from assembly_engine.storage.sqlite.journal import JOURNAL_FILE, Journal
from assembly_engine.storage.sqlite.maintenance import SqliteMaintenance
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore
from assembly_engine.storage.sqlite.read_only_journal import ReadOnlyJournal
from assembly_engine.storage.sqlite.search_index import SEARCH_FILE, SqliteSearchIndex

log = logging.getLogger("assembly_engine.runtime")

AUDIT_FILE = "audit.log"


def connection_options(settings: Settings) -> ConnectionOptions:
    return ConnectionOptions(
        shared_cache=settings.sqlite_shared_cache,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        synchronous=settings.sqlite_synchronous,
        retry_seconds=settings.lock_retry_seconds,
    )


@dataclass
class EmbeddedBackend:
    """Everything of one embedded home; the caller holds the home's lock."""

    settings: Settings
    databases: DomainDatabases
    journal: Journal | ReadOnlyJournal
    payloads: FolderPayloadStore
    cache: AssemblyCache
    mirror: StagingMirror | None
    boot_sync: SyncReport
    read_only: ReadOnlyBoot | None = None  # started read-only on a full disk (read_only_backend.py)

    @classmethod
    def open(cls, settings: Settings, *, start_worker: bool) -> EmbeddedBackend:
        root = settings.runtime_root
        options = connection_options(settings)
        payloads = FolderPayloadStore(settings.payloads_root)
        community_is_new = not (root / DATABASE_FILES[Domain.COMMUNITY]).exists()
        databases = DomainDatabases(root, options)
        journal: Journal | None = None
        try:
            databases.validate_all()
            journal = Journal(root / JOURNAL_FILE, options)
            mirror = None
            if (settings.staging_root / DATABASE_FILES[Domain.OFFICIAL]).exists():
                mirror = StagingMirror(settings.staging_root, payloads, options)
            cache = AssemblyCache(
                databases,
                journal,
                payloads,
                flush_interval=settings.flush_interval,
                on_persisted=mirror,
                change_wait_seconds=settings.lock_retry_seconds,
            )
            with collector_paused(then_freeze=True):
                present = payloads.list_names()
                # We hold the home's lock: every temp folder is a crash's, none a live write's.
                leftovers = payloads.remove_leftover_temp(listed=present)
                if leftovers:
                    log.warning("removed %d temp folder(s) left in Payloads by a crash", len(leftovers))
                    present -= leftovers
                queued = journal.pending()
                report = sync_official(
                    settings.staging_root,
                    databases[Domain.OFFICIAL],
                    payloads,
                    keep_payloads={e.record.payload.payload_guid for e in queued},
                    quick=True,
                    present_payloads=present,
                    queued={e.assembly_guid for e in queued},
                    trust=TrustRules.of(settings),
                )
                seeded = 0
                if community_is_new:
                    seeded = seed_community(settings.staging_root, databases[Domain.COMMUNITY], payloads)
                if report.payloads_copied or seeded:
                    present = payloads.list_names()  # folders were added since the listing
                counts = cache.hydrate(preloaded={Domain.OFFICIAL: report.rows}, present_payloads=present)
            log.info("cache hydrated: %s; %d queued change(s)", counts, cache.depth())
            index = SqliteSearchIndex(root / SEARCH_FILE)
            cache.search = BodySearch(index, payloads, cache.live_payloads, lambda: cache.generation)
            if start_worker:
                cache.start_background()
        except BaseException:
            if journal is not None:
                journal.close()
            databases.close()
            raise
        # The cache holds the official rows now; the kept report need not.
        return cls(settings, databases, journal, payloads, cache, mirror, replace(report, rows=[]))

    # -- official sync: one engine, nothing to agree with ------------------------------
    def official_sync_lock(self) -> AbstractContextManager[None]:
        return nullcontext()

    def official_rebuilt(self) -> None:
        pass

    def others_running(self) -> bool:
        return False  # the home's lock keeps every other engine out

    # -- the engine's own stores -------------------------------------------------------
    def engine_store(self) -> EngineStore:
        return SqliteEngineStore(
            self.settings.engine_db_path,
            self.settings.sqlite_busy_timeout_ms,
            read_only=self.read_only is not None,
        )

    def check_results(self) -> CheckResultStore:
        # In engine.db, whose schema engine_store() brings up to date: open that first.
        return SqliteCheckResults(
            self.settings.engine_db_path,
            self.settings.sqlite_busy_timeout_ms,
            read_only=self.read_only is not None,
        )

    def audit_store(self) -> AuditStore:
        return HashChainedLog(self.settings.logs_dir / AUDIT_FILE, repair=self.read_only is None)

    def throttle_store(self) -> ThrottleStore:
        return MemoryThrottleStore()

    def maintenance(self) -> Maintenance:
        return SqliteMaintenance(self.settings.runtime_root, self.settings.engine_db_path, self.payloads)

    def connection_options(self) -> ConnectionOptions:
        return connection_options(self.settings)

    def close(self, *, flush: bool) -> None:
        try:
            self.cache.close(flush=flush and self.read_only is None)
            for db in self.databases if self.read_only is None else ():
                db.checkpoint()
        finally:
            if self.cache.search is not None:
                self.cache.search.close()
            if self.mirror is not None:
                self.mirror.close()
            self.databases.close()
