"""Contract of the ThrottleStore interface: the password throttle's scenarios, the same on
every backend (in memory for an embedded engine, shared by the nodes in PostgreSQL).

PostgreSQL's clock runs on while a test runs, so a wait is compared as the whole seconds a
Retry-After header would carry."""

from __future__ import annotations

import math
import threading

from assembly_engine.services.auth.throttle import Attempt, PasswordThrottle
from tests.storage.contracts.backends import Backend


def throttle(backend: Backend, **limits: float) -> PasswordThrottle:
    return PasswordThrottle(store=backend.throttle_store(), **limits)  # type: ignore[arg-type]


def fail(throttle: PasswordThrottle, username: str, address: str | None) -> int:
    attempt = throttle.begin(username, address)
    assert attempt.refused_for == 0.0, attempt
    return math.ceil(throttle.failed(attempt))


def refused(throttle: PasswordThrottle, username: str, address: str | None) -> int:
    attempt = throttle.begin(username, address)
    if attempt.refused_for == 0.0:
        throttle.withdraw(attempt)
    return math.ceil(attempt.refused_for)


def test_the_pair_locks_after_five_failures_that_client_only(backend: Backend) -> None:
    guarded = throttle(backend)
    assert [fail(guarded, "alice", "10.0.0.1") for _ in range(4)] == [0, 0, 0, 0]
    assert fail(guarded, "alice", "10.0.0.1") == 30
    assert refused(guarded, "ALICE", "10.0.0.1") == 30  # names match case-insensitively
    assert refused(guarded, "alice", "10.9.9.9") == 0
    assert refused(guarded, "bob", "10.0.0.1") == 0
    backend.time.advance(30)
    assert refused(guarded, "alice", "10.0.0.1") == 0


def test_lockouts_double_up_to_the_cap_and_the_window_forgets(backend: Backend) -> None:
    guarded = throttle(backend, max_delay_seconds=200)
    for _ in range(5):
        fail(guarded, "alice", "10.0.0.1")
    waits = []
    for _ in range(4):
        backend.time.advance(guarded.begin("alice", "10.0.0.1").refused_for)
        waits.append(fail(guarded, "alice", "10.0.0.1"))
    assert waits == [60, 120, 200, 200]
    for _ in range(4):
        fail(guarded, "bob", "10.0.0.2")
    backend.time.advance(301)
    assert fail(guarded, "bob", "10.0.0.2") == 0


def test_an_address_spraying_names_is_locked(backend: Backend) -> None:
    guarded = throttle(backend)
    assert {fail(guarded, f"user{i}", "10.0.0.1") for i in range(19)} == {0}
    assert fail(guarded, "user19", "10.0.0.1") == 30
    assert refused(guarded, "someone-else", "10.0.0.1") == 30
    assert refused(guarded, "someone-else", "10.0.0.2") == 0


def test_the_username_ceiling_slows_and_never_refuses(backend: Backend) -> None:
    guarded = throttle(backend, username_ceiling=20)
    for i in range(30):
        fail(guarded, "admin", f"10.0.0.{i}")
    real_user = guarded.begin("admin", "192.168.1.10")
    assert real_user.refused_for == 0.0 and real_user.delay == 1.0
    guarded.succeeded(real_user)


def test_success_clears_only_its_pair(backend: Backend) -> None:
    guarded = throttle(backend, address_failures=8)
    for _ in range(4):
        fail(guarded, "alice", "10.0.0.1")
    guarded.succeeded(guarded.begin("alice", "10.0.0.1"))
    assert [fail(guarded, "alice", "10.0.0.1") for _ in range(3)] == [0, 0, 0]
    # The address counter kept the four failures before the success: 4 + 3 + 1 = 8.
    assert fail(guarded, "alice", "10.0.0.1") == 30


def test_checks_in_flight_count_across_stores(backend: Backend) -> None:
    """Forty checks begun at once through two stores of one backend (two nodes, in cluster
    mode): five are let through, the others wait for their outcome."""
    nodes = [throttle(backend), throttle(backend)]
    barrier = threading.Barrier(40)
    begun: list[Attempt] = []

    def start(i: int) -> None:
        barrier.wait()
        begun.append(nodes[i % 2].begin("alice", "10.0.0.1"))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted = [a for a in begun if a.refused_for == 0.0]
    assert len(begun) == 40 and len(admitted) == 5
    for attempt in admitted:
        nodes[0].failed(attempt)
    assert refused(nodes[1], "alice", "10.0.0.1") == 30
