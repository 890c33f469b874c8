"""What the PostgreSQL domain store adds for several nodes sharing one library: rows never
go back to a lower revision, a held lock is waited for within a budget and then refused as
Busy, and the container checks the schema it finds (the contract suite covers the rest)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import AssemblyKind, Domain, PayloadType
from assembly_engine.storage.contract.errors import Busy, EngineError, SchemaError
from assembly_engine.storage.contract.history import HistoryWrite
from assembly_engine.storage.contract.models import AssemblyRecord, PayloadRef
from assembly_engine.storage.postgresql.domain_store import PostgresDomainStore, PostgresDomainStores
from assembly_engine.storage.postgresql.pool import connect, create_pool


@pytest.fixture
def pool(migrated_url: str) -> Iterator[ConnectionPool]:
    pool = create_pool(migrated_url, min_size=1, max_size=3)
    yield pool
    pool.close()


def _record(name: str, revision: int = 1, guid: str | None = None) -> AssemblyRecord:
    return AssemblyRecord(
        assembly_guid=guid or uuid.uuid4().hex,
        domain=Domain.USER,
        display_name=name,
        assembly_kind=AssemblyKind.SCRIPT,
        assembly_type="powershell",
        payload=PayloadRef(uuid.uuid4().hex, PayloadType.SCRIPT, 1, "cd" * 32),
        revision=revision,
    )


def test_a_stale_upsert_never_moves_a_row_back(pool: ConnectionPool) -> None:
    node_a = PostgresDomainStore(pool, Domain.USER)
    node_b = PostgresDomainStore(pool, Domain.USER)
    old = _record("Old", revision=1)
    new = old.evolve(display_name="New", revision=2)
    node_b.write([new.to_row()], [])
    node_a.write([old.to_row(), _record("Other").to_row()], [])  # a node flushing stale data
    assert sorted(r.display_name for r in node_b.load()) == ["New", "Other"]
    node_a.write([new.evolve(display_name="Same revision again").to_row()], [])  # a replay wins
    assert "Same revision again" in {r.display_name for r in node_b.load()}


def test_a_stale_delete_leaves_a_newer_revision(pool: ConnectionPool) -> None:
    store = PostgresDomainStore(pool, Domain.USER)
    record = _record("Undeleted", revision=3)
    store.write([record.to_row()], [])
    deletion = (record.assembly_guid, 2, "2026-01-01T00:00:00.000Z", None, json.dumps([]))
    store.write([], [record.assembly_guid], history=HistoryWrite(deletions=[deletion]))
    assert store.load() == [record]
    assert store.deletion(record.assembly_guid) is not None  # its history is kept as given
    store.write([], [record.assembly_guid])  # without a known revision: whatever is there
    assert store.load() == []


def test_a_held_lock_is_waited_for_then_refused_as_busy(pool: ConnectionPool, migrated_url: str) -> None:
    store = PostgresDomainStore(pool, Domain.USER)
    record = _record("Locked")
    store.write([record.to_row()], [])
    waits: list[str] = []
    with connect(migrated_url, autocommit=False) as other:
        other.execute(
            "UPDATE user_created.assemblies SET display_name = 'held' WHERE assembly_guid = %s",
            (record.assembly_guid,),
        )
        with pytest.raises(Busy) as refused:
            store.write(
                [record.evolve(revision=2).to_row()],
                [],
                budget_seconds=0.3,
                on_lock_wait=lambda: waits.append("waiting"),
            )
        other.rollback()
    assert waits == ["waiting"]
    assert "lock" in refused.value.message
    assert store.load() == [record]  # nothing of the refused write stayed
    store.write([record.evolve(revision=2).to_row()], [], budget_seconds=0.3)  # free again
    assert store.load()[0].revision == 2


def test_text_with_nul_is_refused_plainly(pool: ConnectionPool) -> None:
    store = PostgresDomainStore(pool, Domain.USER)
    with pytest.raises(EngineError, match="NUL"):
        store.write([_record("bad\x00name").to_row()], [])
    assert store.count() == 0


def test_only_official_keeps_a_stamp(pool: ConnectionPool) -> None:
    community = PostgresDomainStore(pool, Domain.COMMUNITY)
    assert community.stamp() is None
    with pytest.raises(ValueError, match="official"):
        community.set_stamp("x")
    with pytest.raises(ValueError, match="official"):
        community.replace_all([], stamp="x")


def test_the_container_checks_the_schema_it_finds(pool: ConnectionPool, database_url: str) -> None:
    stores = PostgresDomainStores(pool)
    assert stores.validate_all() == {d: [] for d in Domain}
    assert [s.domain for s in stores] == list(Domain)
    assert stores[Domain.OFFICIAL].domain is Domain.OFFICIAL
    empty = create_pool(database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(SchemaError, match="lacks schema migration"):
            PostgresDomainStores(empty).validate_all()
    finally:
        empty.close()
