"""A node reuses session rows for a second; its own changes are seen at once, another
node's within that second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.storage.postgresql.engine_store import PostgresEngineStore
from assembly_engine.storage.postgresql.pool import create_pool
from assembly_engine.storage.postgresql.session_cache import SessionRowCache
from tests.support import FakeClock

NOW = "2026-12-01T10:00:00Z"


@pytest.fixture
def pools(migrated_url: str) -> Iterator[list[ConnectionPool]]:
    made = [create_pool(migrated_url, max_size=2) for _ in range(2)]
    yield made
    for pool in made:
        pool.close()


def test_a_change_through_another_node_is_seen_within_the_ttl(pools: list[ConnectionPool]) -> None:
    clock = FakeClock()
    here = SessionRowCache(PostgresEngineStore(pools[0]), ttl=1.0, clock=clock)
    there = PostgresEngineStore(pools[1])
    assert here.insert_user("alice", "hash", "admin", NOW)
    assert here.insert_session("t1", "alice", 100.0, 10_000.0) is not None
    first = here.get_session("t1")
    assert first is not None and not first.revoked
    assert there.revoke_session("t1")
    assert here.get_session("t1") == first  # still the row read a moment ago
    clock.advance(1.0)
    again = here.get_session("t1")
    assert again is not None and again.revoked


def test_this_nodes_own_changes_are_seen_at_once(pools: list[ConnectionPool]) -> None:
    clock = FakeClock()
    here = SessionRowCache(PostgresEngineStore(pools[0]), ttl=60.0, clock=clock)
    assert here.insert_user("bob", "hash", "admin", NOW)
    here.insert_session("t2", "bob", 100.0, 10_000.0)
    assert here.get_session("t2") is not None
    assert here.set_dev_mode("t2", 5_000.0, "fix a vendor script", 200.0)
    row = here.get_session("t2")
    assert row is not None and row.dev_mode_until == 5_000.0
    assert here.revoke_session("t2")
    revoked = here.get_session("t2")
    assert revoked is not None and revoked.revoked


def test_unknown_tokens_are_not_kept(pools: list[ConnectionPool]) -> None:
    here = SessionRowCache(PostgresEngineStore(pools[0]), ttl=60.0, clock=FakeClock())
    there = PostgresEngineStore(pools[1])
    assert here.get_session("t3") is None
    assert there.insert_user("carol", "hash", "operator", NOW)
    there.insert_session("t3", "carol", 100.0, 10_000.0)
    assert here.get_session("t3") is not None  # a miss is asked again, not remembered
