"""Users, sessions and secrets in PostgreSQL: nodes on pools of their own, and text the
database cannot hold, refused in the engine's words before anything is changed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.engine_records import UserChange
from assembly_engine.storage.contract.errors import EngineError
from assembly_engine.storage.postgresql.engine_store import PostgresEngineStore
from assembly_engine.storage.postgresql.migrations import MIGRATIONS
from assembly_engine.storage.postgresql.pool import create_pool

NOW = "2026-01-01T00:00:00Z"
T = TypeVar("T")


@pytest.fixture
def nodes(migrated_url: str) -> Iterator[list[PostgresEngineStore]]:
    """Three nodes, each with a pool of its own, on one database."""
    pools: list[ConnectionPool] = [create_pool(migrated_url, min_size=1, max_size=2) for _ in range(3)]
    try:
        yield [PostgresEngineStore(pool) for pool in pools]
    finally:
        for pool in pools:
            pool.close()


def race(nodes: list[PostgresEngineStore], work: Callable[[PostgresEngineStore, int], T]) -> list[T]:
    barrier = threading.Barrier(len(nodes))

    def start(index: int) -> T:
        barrier.wait()
        return work(nodes[index], index)

    with ThreadPoolExecutor(len(nodes)) as pool:
        return list(pool.map(start, range(len(nodes))))


def test_the_schema_version_is_the_cluster_migration(nodes: list[PostgresEngineStore]) -> None:
    assert nodes[0].schema_version() == MIGRATIONS[-1].version


def test_nodes_on_their_own_pools_bootstrap_one_admin(nodes: list[PostgresEngineStore]) -> None:
    created = race(
        nodes, lambda node, i: node.insert_user(f"admin{i}", "h", "admin", NOW, only_if_empty=True)
    )
    assert created.count(True) == 1 and nodes[2].count_users() == 1


def test_nodes_on_their_own_pools_share_one_secret(nodes: list[PostgresEngineStore]) -> None:
    values = race(nodes, lambda node, i: node.secret("cookie-signing", 48))
    assert len(set(values)) == 1 and len(values[0]) == 48


def test_dev_mode_set_through_one_node_is_seen_and_ended_through_another(
    nodes: list[PostgresEngineStore],
) -> None:
    first, second, _ = nodes
    first.insert_user("alice", "h", "admin", NOW)
    first.insert_session("t", "alice", 100.0, 200.0)
    assert second.get_session("t") is not None  # read before the change: nothing is cached
    assert first.set_dev_mode("t", 150.0, "fix", now=110.0)
    seen = second.get_session("t")
    assert seen is not None and (seen.dev_mode_until, seen.dev_mode_reason) == (150.0, "fix")
    assert race(nodes[:2], lambda node, i: node.clear_expired_dev_mode("t", 160.0)).count(True) == 1
    assert second.revoke_session("t")
    revoked = first.get_session("t")
    assert revoked is not None and revoked.revoked


@pytest.mark.parametrize(
    "change",
    [
        lambda store: store.insert_user("nul\x00name", "h", "admin", NOW),
        lambda store: store.get_user("nul\x00name"),
        lambda store: store.update_user("alice", NOW, UserChange(password_hash="h\x00")),
        lambda store: store.set_dev_mode("t", 150.0, "reason\x00", now=110.0),
        lambda store: store.secret("nul\x00"),
    ],
    ids=["insert_user", "get_user", "update_user", "set_dev_mode", "secret"],
)
def test_text_with_nul_is_a_plain_refusal(
    nodes: list[PostgresEngineStore], change: Callable[[PostgresEngineStore], object]
) -> None:
    store = nodes[0]
    store.insert_user("alice", "h", "admin", NOW)
    store.insert_session("t", "alice", 100.0, 200.0)
    with pytest.raises(EngineError, match="NUL character") as caught:
        change(store)
    assert type(caught.value) is EngineError and caught.value.code == "invalid_request"
    user, session = store.get_user("alice"), store.get_session("t")
    assert user is not None and user.password_hash == "h"
    assert session is not None and session.dev_mode_reason is None


def test_text_that_is_not_unicode_is_a_plain_refusal(nodes: list[PostgresEngineStore]) -> None:
    with pytest.raises(EngineError, match="valid Unicode"):
        nodes[0].insert_user("half\ud800", "h", "admin", NOW)
    assert nodes[0].count_users() == 0
