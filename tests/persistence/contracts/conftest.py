"""One contract suite per storage interface (persistence/interfaces.py), run per backend.

Every test here asks the ``backend`` fixture for the store it checks, so a new backend
(PostgreSQL) joins by adding a param and a ``Backend`` subclass; the assertions stay the
same for every backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assembly_engine.persistence.audit_log import HashChainedLog
from assembly_engine.persistence.databases import ConnectionOptions, DomainDatabase
from assembly_engine.persistence.engine_store import SqliteEngineStore
from assembly_engine.persistence.interfaces import (
    AuditStore,
    DomainStore,
    EngineStore,
    Maintenance,
    PayloadStore,
    WriteJournal,
)
from assembly_engine.persistence.journal import Journal
from assembly_engine.persistence.maintenance import SqliteMaintenance
from assembly_engine.persistence.payloads import PayloadStore as FolderPayloadStore
from assembly_engine.types import DATABASE_FILES, Domain


class Backend:
    """Builds each interface's store on one backend; ``reopen`` builds it again over the
    same data (a restart), which every durable store must survive."""

    name = ""

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


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    built = {"sqlite": SqliteBackend}[request.param](tmp_path / "home")
    yield built
    built.close()
