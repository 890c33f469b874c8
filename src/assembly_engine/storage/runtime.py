"""The storage of one engine: it holds the runtime root's lock and opens one backend for
the settings, an embedded home (sqlite/backend.py) or, with ``ENGINE_DATABASE_URL``, a
cluster node (postgresql/backend.py). Nothing above storage chooses a backend.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assembly_engine.config import Settings
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.interfaces import (
    AuditStore,
    CheckResultStore,
    DomainStores,
    EngineStore,
    Maintenance,
    PayloadStore,
    ThrottleStore,
    WriteJournal,
)
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.contract.read_only import DiskFullAtStart, ReadOnlyBoot
from assembly_engine.storage.contract.reports import SyncReport
from assembly_engine.storage.contract.signatures import OfficialTrust, SignaturePolicy
from assembly_engine.storage.files.disk_space import full_disk_cause, full_disk_now
from assembly_engine.storage.files.runtime_lock import EngineLocked, RuntimeLock
from assembly_engine.storage.library_payloads import LibraryPayloads
from assembly_engine.storage.official.resync import RunningLibrary, resync_official
from assembly_engine.storage.official.sync import write_staging_copy
from assembly_engine.storage.official.trust import TrustRules
from assembly_engine.storage.sqlite.backend import AUDIT_FILE, EmbeddedBackend, connection_options
from assembly_engine.storage.sqlite.read_only_backend import open_read_only

__all__ = ["AUDIT_FILE", "Backend", "EngineLocked", "RuntimeLock", "StorageRuntime"]


class Backend(Protocol):
    """One backend's stack, opened and closed together by its backend.py."""

    @property
    def databases(self) -> DomainStores: ...
    @property
    def journal(self) -> WriteJournal: ...
    @property
    def payloads(self) -> PayloadStore: ...
    @property
    def cache(self) -> AssemblyCache: ...
    @property
    def boot_sync(self) -> SyncReport: ...

    def official_sync_lock(self) -> AbstractContextManager[None]: ...
    def official_rebuilt(self) -> None: ...
    def others_running(self) -> bool: ...
    def engine_store(self) -> EngineStore: ...
    def audit_store(self) -> AuditStore: ...
    def check_results(self) -> CheckResultStore: ...
    def throttle_store(self) -> ThrottleStore: ...
    def maintenance(self) -> Maintenance: ...
    def close(self, *, flush: bool) -> None: ...


@dataclass
class StorageRuntime:
    """The assemblies' storage of one engine: the lock on its runtime root and its backend."""

    settings: Settings
    lock: RuntimeLock
    backend: Backend  # also the engine's own stores: backend.engine_store() and the like
    # The backend's assembly stores, kept here because every service uses them.
    databases: DomainStores
    journal: WriteJournal
    payloads: PayloadStore
    cache: AssemblyCache
    # The official library's signature state (contract/signatures.py): what each official
    # record's status is looked up in; set by every sync, refused or not.
    official_trust: OfficialTrust = OfficialTrust(SignaturePolicy.OFF)

    # Set when the engine started read-only on a full disk (contract/read_only.py).
    read_only: ReadOnlyBoot | None = None

    @classmethod
    def open(
        cls, settings: Settings, *, start_worker: bool = True, read_only_cause: str | None = None
    ) -> StorageRuntime:
        """Open the home's storage; with ``read_only_cause`` (what full_disk_at_start
        said), open it for reading only."""
        root = settings.runtime_root
        root.mkdir(parents=True, exist_ok=True)
        lock = RuntimeLock(root)
        lock.acquire()
        try:
            backend: Backend
            if read_only_cause is not None:
                embedded = open_read_only(settings, read_only_cause)
                runtime = cls(
                    settings,
                    lock,
                    embedded,
                    embedded.databases,
                    embedded.journal,
                    embedded.payloads,
                    embedded.cache,
                )
                runtime.read_only = embedded.read_only
                return runtime
            if settings.database_url is not None:
                # Imported here: an embedded engine never loads the PostgreSQL driver.
                from assembly_engine.storage.postgresql.backend import ClusterBackend

                backend = ClusterBackend.open(settings, start_worker=start_worker)
            else:
                backend = EmbeddedBackend.open(settings, start_worker=start_worker)
            return cls(
                settings,
                lock,
                backend,
                backend.databases,
                backend.journal,
                backend.payloads,
                backend.cache,
                backend.boot_sync.trust or OfficialTrust(SignaturePolicy.OFF),
            )
        except BaseException as exc:
            lock.release()
            cause = full_disk_cause(exc, settings.home)
            if cause is not None:
                raise DiskFullAtStart(cause) from exc
            raise

    @staticmethod
    def full_disk_at_start(exc: BaseException, settings: Settings) -> str | None:
        """Why a start that failed with ``exc`` may go on read-only (the embedded home's
        disk is full), or None: a cluster node has no read-only start (its data is in
        PostgreSQL, whose own disk this engine cannot judge)."""
        if settings.database_url is not None:
            return None
        if isinstance(exc, DiskFullAtStart):
            return exc.cause
        return full_disk_cause(exc, settings.home)

    @staticmethod
    def full_disk_before_start(settings: Settings) -> str | None:
        """Why the embedded home should start read-only right away (its disk is full now),
        or None. Starting normally first would be tried on a disk that cannot take it:
        a step that does fit (a schema stamp reusing WAL space) would change files for
        nothing."""
        if settings.database_url is not None:
            return None
        return full_disk_now(settings.home) or full_disk_now(settings.runtime_root)

    def start_background(self) -> None:
        """What a start leaves for after ready: building every record from its row, and
        bringing the search index up to date (a read-only start has no index to build)."""
        self.cache.start_background()

    def library_payloads(self) -> LibraryPayloads:
        """Which payloads the library references, and retention."""
        return LibraryPayloads(self.databases, self.journal, self.cache, self.payloads)

    def others_running(self) -> bool:
        """Whether other engines serve the same library (cluster nodes)."""
        return self.backend.others_running()

    def resync_official(self) -> SyncReport:
        """Rebuild runtime official from staging while running (Dev Mode / CLI), atomic
        with respect to the write queue (official/resync.py)."""
        running = RunningLibrary(
            self.cache,
            self.journal,
            self.databases,
            self.payloads,
            sync_lock=self.backend.official_sync_lock,
            rebuilt=self.backend.official_rebuilt,
        )
        return resync_official(
            self.settings.staging_root, TrustRules.of(self.settings), running, self._trusted
        )

    def _trusted(self, trust: OfficialTrust) -> None:
        self.official_trust = trust

    def write_staging_copy(self, destination: Path, records: list[AssemblyRecord]) -> int:
        """Write ``records`` with their payloads as a new staging copy in ``destination``."""
        return write_staging_copy(destination, records, self.payloads, connection_options(self.settings))

    def close(self, *, flush: bool = True) -> None:
        try:
            self.backend.close(flush=flush)
        finally:
            self.lock.release()
