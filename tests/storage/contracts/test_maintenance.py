"""Contract of the Maintenance interface: schema checks, orphan sweeps, backups."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.domain.types import DATABASE_FILES, Domain, PayloadType
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.models import PayloadContent
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from tests.storage.contracts.backends import Backend, revision_row, stored_record


def test_a_fresh_home_has_the_expected_schema(backend: Backend) -> None:
    maintenance = backend.maintenance()
    for domain in Domain:
        status = maintenance.schema(domain)
        assert status.ok and status.missing_columns == ()


def test_sweep_goes_through_the_payload_guard(backend: Backend) -> None:
    maintenance = backend.maintenance()
    payloads = backend.payloads()
    orphan = payloads.write_new(PayloadContent(PayloadType.SCRIPT, "a.ps1", b"x")).payload_guid
    listed = payloads.list_guids()
    sweep = maintenance.sweep_orphans(set(), SweepScope(listed=listed, grace_seconds=0, remove=True))
    assert sweep.removed == (orphan,)
    assert not payloads.exists(orphan)


def test_a_backup_needs_an_empty_destination(backend: Backend, tmp_path: Path) -> None:
    maintenance = backend.maintenance()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "file").write_text("x")
    with pytest.raises(FileExistsError):
        maintenance.start_backup(taken)


def test_a_backup_copies_every_store(backend: Backend, tmp_path: Path) -> None:
    maintenance = backend.maintenance()
    backend.payloads().write_new(PayloadContent(PayloadType.SCRIPT, "a.ps1", b"x"))
    destination = maintenance.start_backup(tmp_path / "backup")
    copied = maintenance.copy_stores(destination)
    maintenance.seal_backup(destination)
    assert copied["payloads"] == 1
    assert len(copied) == 2 + len(Domain) + 1  # journal, engine store, domains, payloads


def test_a_backup_holds_the_rows_and_their_history_in_the_embedded_layout(
    backend: Backend, tmp_path: Path
) -> None:
    maintenance = backend.maintenance()
    record = stored_record(Domain.USER, "Backed up")
    backend.domain_store(Domain.USER).write(
        [record.to_row()], [], history=HistoryWrite([revision_row(record, "create")])
    )
    destination = maintenance.start_backup(tmp_path / "backup")
    maintenance.copy_stores(destination)
    copy = DomainDatabase(
        Domain.USER,
        destination / "Assemblies" / DATABASE_FILES[Domain.USER],
        ConnectionOptions(),
        history=True,
    )
    try:
        assert copy.load_rows() == [record.to_row()]
        assert [(n, action) for n, action, _, _ in copy.revisions(record.assembly_guid)] == [(1, "create")]
    finally:
        copy.close()
