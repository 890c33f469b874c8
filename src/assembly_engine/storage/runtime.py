"""The storage stack of one engine home, opened in the order Docs/assemblies.md §5.1 gives.

lock the runtime root → official sync (staging → runtime) → open and validate every
domain database → hydrate the cache (replaying the journal) → start the flush worker.
The API's lifespan and the CLI both use this; nothing else opens the databases.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import socket
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from assembly_engine.config import Settings
from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.cache.heap import collector_paused
from assembly_engine.storage.cache.throttle_counters import MemoryThrottleStore
from assembly_engine.storage.contract.errors import Busy, StorageFailed
from assembly_engine.storage.contract.interfaces import (
    AuditStore,
    DomainStores,
    EngineStore,
    Maintenance,
    PayloadStore,
    ThrottleStore,
    WriteJournal,
)
from assembly_engine.storage.contract.models import utc_now
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.files.disk_space import full_disk_cause
from assembly_engine.storage.official.sync import StagingMirror, seed_community, sync_official
from assembly_engine.storage.sqlite.audit_log import HashChainedLog
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabases
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from assembly_engine.storage.sqlite.journal import JOURNAL_FILE, Journal
from assembly_engine.storage.sqlite.maintenance import SqliteMaintenance
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore

if TYPE_CHECKING:
    from assembly_engine.storage.postgresql.node import ClusterNode

log = logging.getLogger("assembly_engine.runtime")

LOCK_FILE = "engine.lock"
AUDIT_FILE = "audit.log"


class EngineLocked(Busy):
    """Another engine holds this runtime root."""


class OfficialSyncRefused(Busy):
    """Queued official changes could not be written first: nothing was synced."""


class RuntimeLock:
    """An exclusive flock on ``<runtime root>/engine.lock`` held for the process lifetime."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open on purpose
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise EngineLocked(
                    f"Another engine is already running on {self.path.parent} ({holder}). "
                    "Stop it first, or give this one its own home with ENGINE_HOME."
                ) from None
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {utc_now()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def connection_options(settings: Settings) -> ConnectionOptions:
    return ConnectionOptions(
        shared_cache=settings.sqlite_shared_cache,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        synchronous=settings.sqlite_synchronous,
        retry_seconds=settings.lock_retry_seconds,
    )


@dataclass
class StorageRuntime:
    """The assemblies' storage of one engine: an embedded home (SQLite files and payload
    folders), or, with ``ENGINE_DATABASE_URL``, a node of a cluster on PostgreSQL."""

    settings: Settings
    lock: RuntimeLock
    databases: DomainStores
    journal: WriteJournal
    payloads: PayloadStore
    cache: AssemblyCache
    mirror: StagingMirror | None
    boot_sync: SyncReport
    node: ClusterNode | None = None  # cluster mode only

    @classmethod
    def open(cls, settings: Settings, *, start_worker: bool = True) -> StorageRuntime:
        root = settings.runtime_root
        root.mkdir(parents=True, exist_ok=True)
        lock = RuntimeLock(root)
        lock.acquire()
        try:
            if settings.database_url is not None:
                # Imported here: an embedded engine never loads the PostgreSQL driver.
                from assembly_engine.storage.postgresql.node import open_node

                opened = open_node(settings, start_worker=start_worker)
                return cls(
                    settings,
                    lock,
                    opened.databases,
                    opened.node.queue,
                    opened.payloads,
                    opened.cache,
                    None,
                    opened.boot_sync,
                    opened.node,
                )
            return cls._open_locked(settings, lock, start_worker)
        except BaseException as exc:
            lock.release()
            cause = full_disk_cause(exc, settings.home)
            if cause is not None:
                raise StorageFailed(cause) from exc
            raise

    @classmethod
    def _open_locked(cls, settings: Settings, lock: RuntimeLock, start_worker: bool) -> StorageRuntime:
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
                )
                seeded = 0
                if community_is_new:
                    seeded = seed_community(settings.staging_root, databases[Domain.COMMUNITY], payloads)
                if report.payloads_copied or seeded:
                    present = payloads.list_names()  # folders were added since the listing
                counts = cache.hydrate(preloaded={Domain.OFFICIAL: report.rows}, present_payloads=present)
            log.info("cache hydrated: %s; %d queued change(s)", counts, cache.depth())
            if start_worker:
                cache.start()
                cache.start_warming()
        except BaseException:
            if journal is not None:
                journal.close()
            databases.close()
            raise
        # The cache holds the official rows now; the kept report need not.
        return cls(settings, lock, databases, journal, payloads, cache, mirror, replace(report, rows=[]))

    def resync_official(self) -> SyncReport:
        """Rebuild runtime official from staging while running (Dev Mode / CLI).

        Atomic with respect to the write queue: no flush runs and no official change starts
        meanwhile, queued official changes are written (and mirrored to staging) first, and
        if that fails nothing is touched. Payload folders that any other record, or any
        change still queued, points at are never removed."""
        cache = self.cache
        with cache.flushes_paused(), cache.domain_paused(Domain.OFFICIAL):
            for result in cache.flush_paused(Domain.OFFICIAL):
                if not result.ok or result.refused:
                    why = result.error or "; ".join(f"{g}: {e}" for g, e in result.refused)
                    raise OfficialSyncRefused(
                        f"Queued official changes could not be written first ({why}); nothing "
                        "was synced. Try again when the database is free."
                    )
            keep = (
                cache.referenced_payloads(exclude_domain=Domain.OFFICIAL) | self.journal.referenced_payloads()
            )
            queued = {e.assembly_guid for e in self.journal.pending()}
            with self.node.official_sync_lock() if self.node is not None else nullcontext():
                report = sync_official(
                    self.settings.staging_root,
                    self.databases[Domain.OFFICIAL],
                    self.payloads,
                    keep_payloads=keep,
                    queued=queued,
                )
                if self.node is not None:
                    self.node.official_rebuilt()
            cache.reload_domain(Domain.OFFICIAL)
        return report

    # -- the engine's own stores, on the same backend ----------------------------------
    def engine_store(self) -> EngineStore:
        if self.node is not None:
            return self.node.engine_store()
        return SqliteEngineStore(self.settings.engine_db_path, self.settings.sqlite_busy_timeout_ms)

    def audit_store(self) -> AuditStore:
        if self.node is not None:
            return self.node.audit_store()
        return HashChainedLog(self.settings.logs_dir / AUDIT_FILE)

    def throttle_store(self) -> ThrottleStore:
        if self.node is not None:
            return self.node.throttle_store()  # shared: guesses spread over nodes add up
        return MemoryThrottleStore()

    def maintenance(self) -> Maintenance:
        if self.node is not None:
            return self.node.maintenance(self.payloads)  # type: ignore[arg-type]
        return SqliteMaintenance(self.settings.runtime_root, self.settings.engine_db_path, self.payloads)  # type: ignore[arg-type]

    def close(self, *, flush: bool = True) -> None:
        try:
            if self.node is not None:
                self.node.feed.stop()
            self.cache.close(flush=flush)
            if isinstance(self.databases, DomainDatabases):
                for db in self.databases:
                    db.checkpoint()
        finally:
            if self.mirror is not None:
                self.mirror.close()
            self.databases.close()
            if self.node is not None:
                self.node.close()
            self.lock.release()
