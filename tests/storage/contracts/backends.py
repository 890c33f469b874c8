"""The backends the storage contract suites run on (tests/storage/contracts/).

A backend builds each interface's store; ``reopen``-style calls build it again over the same
data (a restart, or another node), which every durable store must survive. A new backend
joins by adding a ``Backend`` subclass and a param of the ``backend`` fixture.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from assembly_engine.domain.types import DATABASE_FILES, AssemblyKind, Domain, PayloadType
from assembly_engine.storage.cache.throttle_counters import MemoryThrottleStore
from assembly_engine.storage.contract.interfaces import (
    AuditStore,
    CheckResultStore,
    DomainStore,
    EngineStore,
    Maintenance,
    PayloadStore,
    ThrottleStore,
    WriteJournal,
)
from assembly_engine.storage.contract.models import AssemblyRecord, PayloadRef
from assembly_engine.storage.postgresql.audit_store import PostgresAuditStore
from assembly_engine.storage.postgresql.check_results import PostgresCheckResults
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStore
from assembly_engine.storage.postgresql.engine_store import PostgresEngineStore
from assembly_engine.storage.postgresql.maintenance import PostgresMaintenance
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.pool import create_pool
from assembly_engine.storage.postgresql.throttle_store import PostgresThrottleStore
from assembly_engine.storage.postgresql.write_queue import PostgresWriteQueue
from assembly_engine.storage.sqlite.audit_log import HashChainedLog
from assembly_engine.storage.sqlite.check_results import SqliteCheckResults
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from assembly_engine.storage.sqlite.journal import Journal
from assembly_engine.storage.sqlite.maintenance import SqliteMaintenance
from assembly_engine.storage.sqlite.payload_folders import PayloadStore as FolderPayloadStore


class MovedTime:
    """Seconds a test moved time forward: the memory throttle's clock (from 1000), the
    offset added to PostgreSQL's clock."""

    def __init__(self) -> None:
        self.moved = 0.0

    def __call__(self) -> float:
        return self.moved

    def advance(self, seconds: float) -> None:
        self.moved += seconds


class Backend:
    """Builds each interface's store on one backend; ``reopen`` builds it again over the
    same data (a restart), which every durable store must survive."""

    name = ""
    time: MovedTime

    def throttle_store(self) -> ThrottleStore:
        """The throttle's counters; called again, another node's view of the same ones."""
        raise NotImplementedError

    def payloads(self) -> PayloadStore:
        raise NotImplementedError

    def domain_store(self, domain: Domain) -> DomainStore:
        raise NotImplementedError

    def journal(self) -> WriteJournal:
        raise NotImplementedError

    def engine_store(self) -> EngineStore:
        raise NotImplementedError

    def audit_store(self) -> AuditStore:
        raise NotImplementedError

    def check_results(self) -> CheckResultStore:
        """Script check results; called again, a restart's (or another node's) view."""
        raise NotImplementedError

    def maintenance(self) -> Maintenance:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    """SQLite files and payload folders under one temporary engine home."""

    name = "sqlite"

    def __init__(self, home: Path) -> None:
        self.root = home / "Assemblies"
        self.home = home
        self._opened: list[object] = []
        self._payloads: FolderPayloadStore | None = None
        self.time = MovedTime()
        self._throttle = MemoryThrottleStore(clock=lambda: 1000.0 + self.time())

    def _keep(self, store: object) -> object:
        self._opened.append(store)
        return store

    def payloads(self) -> FolderPayloadStore:
        if self._payloads is None:
            self._payloads = FolderPayloadStore(self.root / "Payloads")
        return self._payloads

    def domain_store(self, domain: Domain) -> DomainStore:
        db = DomainDatabase(domain, self.root / DATABASE_FILES[domain], ConnectionOptions(), history=True)
        db.validate()  # creates or migrates the schema, as a boot does
        self._keep(db)
        return db

    def journal(self) -> WriteJournal:
        journal = Journal(self.root / "journal.db", ConnectionOptions())
        self._keep(journal)
        return journal

    def engine_store(self) -> EngineStore:
        store = SqliteEngineStore(self.home / "engine.db", busy_timeout_ms=2000)
        self._keep(store)
        return store

    def audit_store(self) -> AuditStore:
        return HashChainedLog(self.home / "Logs" / "audit.log")

    def check_results(self) -> CheckResultStore:
        self.engine_store()  # engine.db's schema first, as an engine's start does
        return self._keep(SqliteCheckResults(self.home / "engine.db", busy_timeout_ms=2000))  # type: ignore[return-value]

    def throttle_store(self) -> ThrottleStore:
        return self._throttle  # one process: one store

    def maintenance(self) -> Maintenance:
        for domain in Domain:  # the databases a maintenance run expects to find
            self.domain_store(domain)
        self.journal()
        self.engine_store()
        return SqliteMaintenance(self.root, self.home / "engine.db", self.payloads())

    def close(self) -> None:
        for store in reversed(self._opened):
            store.close()  # type: ignore[attr-defined]
        self._opened.clear()


class PostgresBackend(Backend):
    """Cluster mode: every store on one pool of a fresh, migrated PostgreSQL database.
    ``reopen`` is a new store on the same database (a node restarting, or another node)."""

    name = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool = create_pool(url, min_size=1, max_size=4)
        self._opened: list[object] = []
        self.time = MovedTime()

    def payloads(self) -> PayloadStore:
        return PostgresPayloadStore(self.pool, cache_bytes=1 << 20)  # cached, as a node's is

    def domain_store(self, domain: Domain) -> DomainStore:
        return PostgresDomainStore(self.pool, domain, lock_budget_seconds=2.0)

    def journal(self) -> WriteJournal:
        queue = PostgresWriteQueue(self.pool)
        self._opened.append(queue)
        return queue

    def engine_store(self) -> EngineStore:
        return PostgresEngineStore(self.pool)

    def audit_store(self) -> AuditStore:
        return PostgresAuditStore(self.pool)

    def check_results(self) -> CheckResultStore:
        return PostgresCheckResults(self.pool)

    def throttle_store(self) -> ThrottleStore:
        return PostgresThrottleStore(self.pool, offset=self.time)

    def maintenance(self) -> Maintenance:
        return PostgresMaintenance(self.pool, self.payloads())

    def close(self) -> None:
        for store in reversed(self._opened):
            store.close()  # type: ignore[attr-defined]
        self._opened.clear()
        self.pool.close()


# -- rows the domain store suites write (a domain store keeps payload references, never reads them)


def stored_record(domain: Domain, name: str, *, guid: str | None = None, revision: int = 1) -> AssemblyRecord:
    """A row to store: a domain store keeps payload references, never reads them."""
    return AssemblyRecord(
        assembly_guid=guid or uuid.uuid4().hex,
        domain=domain,
        display_name=name,
        assembly_kind=AssemblyKind.SCRIPT,
        assembly_type="powershell",
        payload=PayloadRef(uuid.uuid4().hex, PayloadType.SCRIPT, 12, "ab" * 32),
        revision=revision,
        version=1,
        metadata_json=json.dumps({"big": 2**70}),  # beyond 64 bits: fine inside JSON text
        created_by="tester",
    )


def revision_row(record: AssemblyRecord, action: str) -> tuple[str, int, str, str, str, str]:
    row = record.to_row()
    return (record.assembly_guid, record.revision, action, json.dumps(list(row)), row[10], record.updated_at)
