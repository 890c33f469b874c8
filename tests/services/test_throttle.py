"""The password throttle and the gate every password check goes through (auth/throttle.py)."""

from __future__ import annotations

import threading
import time

import pytest

from assembly_engine.services.auth.throttle import PasswordGate, PasswordThrottle, TooManyAttempts
from assembly_engine.services.auth.users import (
    MAX_CONCURRENT_HASHES,
    InvalidCredentials,
    Role,
    UserService,
)
from tests.support import PASSWORD, FakeClock


def fail(throttle: PasswordThrottle, username: str, address: str | None) -> float:
    attempt = throttle.begin(username, address)
    assert attempt.refused_for == 0.0, attempt
    return throttle.failed(attempt)


# -- the throttle ------------------------------------------------------------------------------


def test_pair_allows_four_failures_then_locks_that_client_only() -> None:
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock)
    for _ in range(4):
        assert fail(throttle, "alice", "10.0.0.1") == 0.0
        clock.advance(1)
    assert fail(throttle, "alice", "10.0.0.1") == 30.0
    assert throttle.begin("alice", "10.0.0.1").refused_for == 30.0
    assert throttle.begin("ALICE", "10.0.0.1").refused_for == 30.0  # names match case-insensitively
    # The stranger's failures do not lock the real user out from their own client …
    real_user = throttle.begin("alice", "10.9.9.9")
    assert real_user.refused_for == 0.0
    throttle.succeeded(real_user)
    # … nor the stranger's address out of other accounts (5 < the address limit).
    other = throttle.begin("bob", "10.0.0.1")
    assert other.refused_for == 0.0
    throttle.withdraw(other)
    clock.advance(30)
    assert throttle.begin("alice", "10.0.0.1").refused_for == 0.0


def test_pair_delay_grows_and_is_capped() -> None:
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock, max_delay_seconds=200)
    for _ in range(5):
        fail(throttle, "alice", "10.0.0.1")
    waits = []
    for _ in range(4):
        clock.advance(throttle.begin("alice", "10.0.0.1").refused_for)
        waits.append(fail(throttle, "alice", "10.0.0.1"))
    assert waits == [60.0, 120.0, 200.0, 200.0]


def test_window_forgets_old_failures() -> None:
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock)
    for _ in range(4):
        fail(throttle, "alice", "10.0.0.1")
    clock.advance(301)
    assert fail(throttle, "alice", "10.0.0.1") == 0.0


def test_an_address_spraying_names_is_locked() -> None:
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock, address_failures=20)
    for i in range(19):
        assert fail(throttle, f"user{i}", "10.0.0.1") == 0.0
    assert fail(throttle, "user19", "10.0.0.1") == 30.0
    assert throttle.begin("someone-else", "10.0.0.1").refused_for == 30.0
    assert throttle.begin("someone-else", "10.0.0.2").refused_for == 0.0


def test_username_ceiling_slows_but_never_refuses() -> None:
    """Strangers on many addresses push 'admin' over its ceiling: every check of that name is
    delayed, but a client that has not failed is never refused."""
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock, username_ceiling=20, pressure_delay_seconds=1.0)
    assert throttle.begin("admin", "192.168.1.10").delay == 0.0
    throttle.withdraw(throttle.begin("admin", "192.168.1.10"))
    for i in range(100):
        attempt = throttle.begin("admin", f"10.0.{i // 250}.{i % 250}")
        assert attempt.refused_for == 0.0
        throttle.failed(attempt)
    real_user = throttle.begin("admin", "192.168.1.10")
    assert real_user.refused_for == 0.0
    assert real_user.delay == 1.0
    throttle.succeeded(real_user)


def test_attempts_in_flight_count_before_any_hash() -> None:
    """A burst of concurrent checks from one client is cut off at the limit while the first
    ones are still being hashed."""
    throttle = PasswordThrottle(clock=FakeClock())
    begun = [throttle.begin("alice", "10.0.0.1") for _ in range(40)]
    allowed = [a for a in begun if a.refused_for == 0.0]
    assert len(allowed) == 5
    assert all(a.refused_for > 0 for a in begun if a not in allowed)


def test_success_withdraws_its_count_and_clears_only_its_pair() -> None:
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock)
    for _ in range(4):
        fail(throttle, "alice", "10.0.0.1")
    throttle.succeeded(throttle.begin("alice", "10.0.0.1"))
    for _ in range(4):
        assert fail(throttle, "alice", "10.0.0.1") == 0.0  # the pair's count restarted


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    throttle = PasswordThrottle(clock=clock, max_tracked_keys=10)
    for i in range(10):
        fail(throttle, f"user{i}", None)
    clock.advance(301)
    fail(throttle, "late", None)
    assert len(throttle._counters) == 2  # the late name's pair and user counters


# -- the gate ----------------------------------------------------------------------------------


@pytest.fixture
def users(users: UserService) -> UserService:
    users.create("alice", PASSWORD, Role.ADMIN)
    return users


def test_gate_refuses_with_retry_after_and_never_hashes_then(users: UserService) -> None:
    gate = PasswordGate(users, PasswordThrottle())
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            gate.authenticate("alice", "wrong guess", "10.0.0.1")
    hashed: list[str] = []
    original = users.authenticate
    users.authenticate = lambda name, typed, **how: hashed.append(name) or original(name, typed, **how)  # type: ignore[method-assign]
    with pytest.raises(TooManyAttempts) as refused:
        gate.authenticate("alice", PASSWORD, "10.0.0.1")
    assert refused.value.retry_after == 30
    assert hashed == []
    # The right password from a client that has not failed still works.
    assert gate.authenticate("alice", PASSWORD, "10.0.0.2").username == "alice"


def test_gate_waits_the_pressure_delay(users: UserService) -> None:
    slept: list[float] = []
    gate = PasswordGate(users, PasswordThrottle(username_ceiling=3), sleep=slept.append)
    for i in range(3):
        with pytest.raises(InvalidCredentials):
            gate.authenticate("alice", "wrong guess", f"10.0.0.{i}")
    assert slept == []
    assert gate.authenticate("alice", PASSWORD, "10.1.1.1").username == "alice"
    assert slept == [1.0]


def test_no_more_than_a_few_hashes_at_once(users: UserService) -> None:
    """Forty concurrent checks from forty clients: at most MAX_CONCURRENT_HASHES Argon2
    computations run at the same time."""
    running = 0
    peak = 0
    lock = threading.Lock()
    real = users._hasher

    class CountingHasher:
        def verify(self, stored: str, typed: str) -> bool:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            try:
                time.sleep(0.02)  # stands in for a 64 MiB Argon2 computation
                return real.verify(stored, typed)
            finally:
                with lock:
                    running -= 1

        def hash(self, password: str) -> str:
            return real.hash(password)

        def check_needs_rehash(self, stored: str) -> bool:
            return real.check_needs_rehash(stored)

    users._hasher = CountingHasher()  # type: ignore[assignment]
    gate = PasswordGate(users, PasswordThrottle(username_ceiling=1000))
    outcomes: list[str] = []

    def guess(i: int) -> None:
        try:
            gate.authenticate("alice", f"wrong guess {i}", f"10.0.0.{i}")
        except InvalidCredentials:
            outcomes.append("wrong")
        except TooManyAttempts:
            outcomes.append("busy")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 40
    assert 1 <= peak <= MAX_CONCURRENT_HASHES
