"""Helpers of the storage tests: official rows staged and a storage booted on them."""

from __future__ import annotations

from pathlib import Path

from assembly_engine.config import Settings
from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.runtime import StorageRuntime
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import make_record


def write_rows(path: Path, domain: Domain, records: list[AssemblyRecord]) -> None:
    db = DomainDatabase(domain, path, ConnectionOptions())
    db.validate()
    db.write([r.to_row() for r in records], [])
    db.close()


def stage_official(settings: Settings, names: list[str]) -> list[AssemblyRecord]:
    store = PayloadStore(settings.staging_root / "Payloads")
    records = [make_record(store, Domain.OFFICIAL, name) for name in names]
    write_rows(settings.staging_root / "official.db", Domain.OFFICIAL, records)
    return records


def boot(settings: Settings) -> StorageRuntime:
    return StorageRuntime.open(settings, start_worker=False)


def runtime_official(settings: Settings) -> Path:
    return settings.runtime_root / "official.db"
