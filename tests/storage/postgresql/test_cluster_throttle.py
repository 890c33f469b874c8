"""What only the PostgreSQL throttle store has: rows a crashed node left behind, pruning,
and keys PostgreSQL text cannot hold (the shared behaviour: contracts/test_throttle_store.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from assembly_engine.services.auth.throttle import PasswordThrottle
from assembly_engine.storage.postgresql.pool import create_pool
from assembly_engine.storage.postgresql.throttle_store import IN_FLIGHT_SECONDS, PostgresThrottleStore


class Moved:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def pool(migrated_url: str) -> Iterator[ConnectionPool]:
    made = create_pool(migrated_url, min_size=1, max_size=2)
    yield made
    made.close()


def rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        found = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(found[0]) if found else 0


def test_checks_a_crashed_node_left_in_flight_age_out(pool: ConnectionPool) -> None:
    moved = Moved()
    crashed = PasswordThrottle(store=PostgresThrottleStore(pool, offset=moved))
    for _ in range(5):
        assert crashed.begin("alice", "10.0.0.1").refused_for == 0.0  # never ended
    survivor = PasswordThrottle(store=PostgresThrottleStore(pool, offset=moved))
    assert survivor.begin("alice", "10.0.0.1").refused_for == 1.0
    moved.seconds = IN_FLIGHT_SECONDS + 1
    assert survivor.begin("alice", "10.0.0.1").refused_for == 0.0


def test_quiet_counters_and_old_checks_are_pruned(pool: ConnectionPool, migrated_url: str) -> None:
    moved = Moved()
    throttle = PasswordThrottle(store=PostgresThrottleStore(pool, offset=moved, prune_every=0))
    for i in range(10):
        throttle.failed(throttle.begin(f"user{i}", "10.0.0.1"))
    throttle.begin("abandoned", "10.0.0.2")
    assert rows(migrated_url, "login_throttle") == 10 + 1 + 10 + 3  # pairs, address, names, abandoned
    moved.seconds = 301 + IN_FLIGHT_SECONDS
    throttle.begin("late", "10.0.0.3")
    # Only the late check's counters are left, and its checks in flight.
    assert rows(migrated_url, "login_throttle") == 3
    assert rows(migrated_url, "login_throttle_in_flight") == 3


def test_keys_hold_any_text_a_person_can_type(pool: ConnectionPool) -> None:
    throttle = PasswordThrottle(store=PostgresThrottleStore(pool))
    for name in ("nul\x00name", "half \ud800 pair", "x" * 10_000):
        attempt = throttle.begin(name, "10.0.0.1")
        assert attempt.refused_for == 0.0
        assert throttle.failed(attempt) == 0.0
