"""The PostgreSQL payload store's cache of verified payloads: what it read or wrote is
served without the database (also while the server is halted), what replaces or removes
a payload evicts it, a read still compares the checksum it is given, and integrity
checks read the rows as stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.domain.types import Integrity, PayloadType
from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.contract.models import PayloadContent
from assembly_engine.storage.contract.payload_manifest import PayloadCorrupt, PayloadMissing, image_of
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.postgresql.payload_store import PostgresPayloadStore
from assembly_engine.storage.postgresql.pool import connect, create_pool, migrate_database
from tests.postgresql_server import PostgresServer

GUID = "0c" * 16
BUDGET = 1 << 20


def content(text: str) -> PayloadContent:
    return PayloadContent(PayloadType.SCRIPT, "script.ps1", text.encode())


@pytest.fixture
def pool(migrated_url: str) -> Iterator[ConnectionPool]:
    opened = create_pool(migrated_url, min_size=1, max_size=3)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def store(pool: ConnectionPool) -> PostgresPayloadStore:
    return PostgresPayloadStore(pool, cache_bytes=BUDGET)


def test_a_deleted_payload_is_not_served_from_the_cache(store: PostgresPayloadStore) -> None:
    ref = store.write_new(content("doomed"))
    assert store.read(ref.payload_guid).main == b"doomed"
    store.delete(ref.payload_guid)
    with pytest.raises(PayloadMissing):
        store.read(ref.payload_guid)


def test_swept_orphans_are_not_served_from_the_cache(store: PostgresPayloadStore) -> None:
    ref = store.write_new(content("orphan"))
    assert store.sweep_orphans(set(), SweepScope(remove=True)).removed == (ref.payload_guid,)
    with pytest.raises(PayloadMissing):
        store.read(ref.payload_guid)


def test_a_replaced_copy_is_read_again(store: PostgresPayloadStore) -> None:
    store.write_with_guid(GUID, content("the damaged copy"))
    assert store.read(GUID).main == b"the damaged copy"
    store.install_copy(GUID, image_of(content("the good copy"), GUID))
    assert store.read(GUID).main == b"the good copy"


def test_a_read_still_compares_the_checksum_it_is_given(store: PostgresPayloadStore) -> None:
    ref = store.write_new(content("cached"))
    with pytest.raises(PayloadCorrupt, match="checksum does not match"):
        store.read(ref.payload_guid, "f" * 64)
    assert store.read(ref.payload_guid, ref.checksum.upper()).main == b"cached"


def test_a_copy_replaced_by_another_node_is_read_from_the_database(pool: ConnectionPool) -> None:
    """A record naming another checksum than the cached copy's is judged by the rows."""
    here, other_node = PostgresPayloadStore(pool, cache_bytes=BUDGET), PostgresPayloadStore(pool)
    here.write_with_guid(GUID, content("before"))
    replacement = image_of(content("after"), GUID)
    other_node.install_copy(GUID, replacement)
    assert here.read(GUID, replacement.checksum).main == b"after"
    assert here.read(GUID).main == b"after"


def test_integrity_checks_read_the_rows_not_the_cache(store: PostgresPayloadStore, migrated_url: str) -> None:
    ref = store.write_new(content("damaged later"))
    with connect(migrated_url) as db:
        db.execute(
            "DELETE FROM payload_files WHERE payload_guid = %s AND file_name = %s",
            (ref.payload_guid, "script.ps1"),
        )
    assert store.check(ref.payload_guid, ref.checksum) is Integrity.MISSING
    with pytest.raises(PayloadMissing):
        store.ref_for(ref.payload_guid)
    # The verified copy read before the damage is still what a read answers.
    assert store.read(ref.payload_guid, ref.checksum).main == b"damaged later"


def test_without_a_budget_every_read_asks_the_database(pool: ConnectionPool, migrated_url: str) -> None:
    store = PostgresPayloadStore(pool)
    ref = store.write_new(content("uncached"))
    with connect(migrated_url) as db:
        db.execute("DELETE FROM payload_files WHERE payload_guid = %s", (ref.payload_guid,))
    with pytest.raises(PayloadMissing):
        store.read(ref.payload_guid)


def test_while_the_server_is_halted_cached_payloads_are_served_and_others_unavailable() -> None:
    with PostgresServer(durable=False) as server:  # its own: halting it disturbs no other test
        _, url = server.create_database()
        migrate_database(url)
        pool = create_pool(url, min_size=1, max_size=2, timeout=2.0, connect_timeout=2)
        try:
            store = PostgresPayloadStore(pool, cache_bytes=BUDGET)
            written = store.write_new(content("written here"))
            elsewhere = PostgresPayloadStore(pool)  # another node, which this one never asked
            read_before = elsewhere.write_new(content("read here before"))
            never_read = elsewhere.write_new(content("never read here"))
            store.read(read_before.payload_guid)
            server.halt("immediate")
            assert store.read(written.payload_guid, written.checksum).main == b"written here"
            assert store.read_image(read_before.payload_guid).content().main == b"read here before"
            with pytest.raises(Unavailable):
                store.read(never_read.payload_guid)
            with pytest.raises(Unavailable):
                store.check(written.payload_guid)  # an integrity check never trusts the cache
        finally:
            pool.close()
