"""Payloads in PostgreSQL: what only the database backend can get wrong.

Rows written behind the store's back (a manifest that lists a file with other bytes, a
file row gone, a garbled manifest, rows without a manifest) are judged as the folder
store judges the same damage on disk; two nodes writing one GUID at once leave one
payload; and a name the database's own rule refuses is a plain InvalidFileName."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import Integrity, PayloadType
from assembly_engine.storage.contract.models import PayloadContent, PayloadFile
from assembly_engine.storage.contract.payload_manifest import image_of
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.pool import connect, create_pool
from assembly_engine.storage.sqlite.payload_folders import (
    InvalidFileName,
    PayloadCorrupt,
    PayloadExists,
    PayloadMissing,
)

GUID = "0f" * 16


def content(text: str = "Write-Host 'hi'\n") -> PayloadContent:
    return PayloadContent(
        PayloadType.SCRIPT,
        "script.ps1",
        text.encode(),
        files=(PayloadFile("notes.txt", b"notes", "text/plain"),),
    )


@pytest.fixture
def pool(migrated_url: str) -> Iterator[ConnectionPool]:
    opened = create_pool(migrated_url, min_size=1, max_size=3)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def db(migrated_url: str) -> Iterator[psycopg.Connection]:
    with connect(migrated_url) as conn:
        yield conn


def insert_rows(db: psycopg.Connection, files: dict[str, bytes], *, hours_ago: int = 0) -> None:
    with db.transaction():
        for name, data in files.items():
            db.execute(
                "INSERT INTO payload_files "
                "(payload_guid, file_name, content, size_bytes, sha256, created_at) "
                "VALUES (%s, %s, %s, %s, %s, now() - make_interval(hours => %s))",
                (GUID, name, data, len(data), hashlib.sha256(data).hexdigest(), hours_ago),
            )


def stored(text: str = "Write-Host 'hi'\n") -> dict[str, bytes]:
    image = image_of(content(text), GUID)
    return {**dict(image.stored_files()), "manifest.json": image.manifest_bytes}


def test_a_file_that_differs_from_its_manifest_entry_is_corrupt(
    pool: ConnectionPool, db: psycopg.Connection
) -> None:
    rows = stored()
    rows["files/notes.txt"] = b"other bytes"
    insert_rows(db, rows)
    store = PostgresPayloadStore(pool)
    assert store.exists(GUID)
    assert store.check(GUID) is Integrity.CORRUPT
    with pytest.raises(PayloadCorrupt, match="'notes.txt' does not match its checksum"):
        store.read(GUID)


def test_a_listed_file_without_its_row_is_missing(pool: ConnectionPool, db: psycopg.Connection) -> None:
    rows = stored()
    del rows["script.ps1"]
    insert_rows(db, rows)
    store = PostgresPayloadStore(pool)
    assert store.check(GUID) is Integrity.MISSING
    with pytest.raises(PayloadMissing, match="'script.ps1' is missing"):
        store.ref_for(GUID)


def test_a_garbled_manifest_is_corrupt(pool: ConnectionPool, db: psycopg.Connection) -> None:
    insert_rows(db, {"manifest.json": b"{not json"})
    store = PostgresPayloadStore(pool)
    assert store.check(GUID) is Integrity.CORRUPT
    assert store.manifest_bytes(GUID) == b"{not json"


def test_rows_without_a_manifest_are_stale_leftovers(pool: ConnectionPool, db: psycopg.Connection) -> None:
    rows = stored()
    del rows["manifest.json"]
    insert_rows(db, rows)
    store = PostgresPayloadStore(pool)
    assert not store.exists(GUID) and store.list_guids() == set()
    assert store.sweep_orphans(set(), SweepScope(grace_seconds=3600)).stale_temp == ()
    swept = store.sweep_orphans(set(), SweepScope(remove=True))
    assert (swept.stale_temp, swept.removed) == ((GUID,), (GUID,))
    assert db.execute("SELECT count(*) FROM payload_files").fetchone() == (0,)


def test_the_grace_period_counts_from_the_row_s_created_at(
    pool: ConnectionPool, db: psycopg.Connection
) -> None:
    rows = stored()
    insert_rows(db, rows)
    store = PostgresPayloadStore(pool)
    assert store.sweep_orphans(set(), SweepScope(grace_seconds=60)).recent == (GUID,)
    db.execute("DELETE FROM payload_files")  # rows are write-once: the older copy is a new insert
    insert_rows(db, rows, hours_ago=1)
    assert store.sweep_orphans(set(), SweepScope(grace_seconds=60)).orphans == (GUID,)


def test_two_nodes_writing_one_guid_at_once_leave_one_payload(migrated_url: str) -> None:
    pools = [create_pool(migrated_url, min_size=1, max_size=1) for _ in range(2)]
    try:
        stores = [PostgresPayloadStore(p) for p in pools]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def write(index: int) -> None:
            barrier.wait()
            try:
                stores[index].write_with_guid(GUID, content(f"node {index}"))
                outcomes.append("written")
            except PayloadExists:
                outcomes.append("exists")

        threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["exists", "written"]
        assert stores[0].check(GUID) is Integrity.OK
    finally:
        for p in pools:
            p.close()


def test_a_name_the_database_refuses_is_an_invalid_file_name(pool: ConnectionPool) -> None:
    store = PostgresPayloadStore(pool)
    bad = PayloadContent(
        PayloadType.SCRIPT, "script.ps1", b"x", files=(PayloadFile("c1-\u0085-control", b"", "text/plain"),)
    )
    with pytest.raises(InvalidFileName, match="refused by the database"):
        store.write_new(bad)
    assert store.list_guids() == set()
