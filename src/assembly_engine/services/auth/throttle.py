"""The one throttle every password check goes through: sign-in, the Dev Mode switch, one's
own password change and the re-check before admin-level user changes.

Three counters, each over a sliding window of failures:

* **pair** ``(username, client address)``: after ``pair_failures`` failures that client is
  locked out of that account (429 with ``Retry-After``), for ``base_delay_seconds``,
  doubling with every further failure up to ``max_delay_seconds``. This is the counter
  that stops a guesser.
* **address**: after ``address_failures`` failures from one address (over all usernames)
  the address is locked the same way. This stops one client from spraying many names.
* **username** (over all addresses): after ``username_ceiling`` failures the account is
  *under pressure*. That never refuses anyone; it only makes every check for that name
  wait ``pressure_delay_seconds`` before its hash is computed. So strangers spread over
  many addresses cannot lock the real user out: a client that has not failed still signs
  in with the right password, a little later.

An attempt is counted when it *begins*, before any hash is computed. Attempts in flight
count against the limits, so a burst of concurrent guesses is cut off at the limit
instead of all being hashed first. A success withdraws its own count and clears its pair
(never the address or the username counter, so signing in to one's own account does not
reset a guesser).

This module holds the rules; the counting is a ThrottleStore's (storage/contract/interfaces.py):
in this process for an embedded engine, in PostgreSQL for a cluster, whose nodes then all
count the same failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sized
from dataclasses import dataclass
from typing import NoReturn

from assembly_engine.services.auth.users import HashingBusy, InvalidCredentials, User, UserService
from assembly_engine.services.errors import TooManyRequests
from assembly_engine.storage.cache.throttle_counters import MemoryThrottleStore
from assembly_engine.storage.contract.interfaces import ThrottleStore
from assembly_engine.storage.contract.throttle import MAX_REMEMBERED_FAILURES, ThrottleCount


class TooManyAttempts(TooManyRequests):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """One begun password check. ``refused_for`` > 0: do not check, answer 429 with that
    wait. ``delay``: seconds to wait before hashing (the username is under pressure).
    ``token``: the store's name for the check in flight."""

    keys: tuple[str, ...] = ()
    refused_for: float = 0.0
    delay: float = 0.0
    token: str = ""
    # Neither this client's address nor its pair had a failure or a check in flight: the
    # one condition under which a sign-in may use the reserved lane (sign_in.py).
    clean: bool = False


@dataclass(frozen=True)
class _Limit:
    failures: int
    locks: bool  # False: the counter only slows (the per-username ceiling)


class PasswordThrottle:
    """The rules; the counting is the store's (``clock`` and ``max_tracked_keys`` configure
    the in-memory store used when none is given)."""

    def __init__(
        self,
        *,
        pair_failures: int = 5,
        address_failures: int = 20,
        username_ceiling: int = 20,
        window_seconds: float = 300.0,
        base_delay_seconds: float = 30.0,
        max_delay_seconds: float = 900.0,
        pressure_delay_seconds: float = 1.0,
        max_tracked_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        store: ThrottleStore | None = None,
    ) -> None:
        self._limits = {
            "pair": _Limit(pair_failures, True),
            "addr": _Limit(address_failures, True),
            "user": _Limit(username_ceiling, False),
        }
        if max(pair_failures, address_failures, username_ceiling) > MAX_REMEMBERED_FAILURES:
            raise ValueError(f"throttle limits are at most {MAX_REMEMBERED_FAILURES} failures")
        self._window = window_seconds
        self._base_delay = base_delay_seconds
        self._max_delay = max_delay_seconds
        self._pressure_delay = pressure_delay_seconds
        self._store = store if store is not None else MemoryThrottleStore(clock, max_tracked_keys)

    @property
    def _counters(self) -> Sized:
        """The in-memory store's counters (what max_tracked_keys bounds)."""
        return self._store.counters if isinstance(self._store, MemoryThrottleStore) else ()

    @staticmethod
    def _keys(username: str | None, address: str | None) -> list[str]:
        name = (username or "").casefold()
        keys = []
        if address:
            keys.append(f"pair:{address}\x00{name}")
            keys.append(f"addr:{address}")
        else:  # no address known: the username alone stands in for the pair
            keys.append(f"pair:\x00{name}")
        keys.append(f"user:{name}")
        return keys

    def _limit(self, key: str) -> _Limit:
        return self._limits[key.split(":", 1)[0]]

    def begin(self, username: str | None, address: str | None) -> Attempt:
        """Start a check: refuse it, or count it (in flight) and say how long to wait."""
        keys = self._keys(username, address)
        begun = self._store.begin(keys, self._window, self._refusal)
        if begun.attempt is None:
            return Attempt(refused_for=begun.refused_for)
        pressured = any(
            not self._limit(key).locks and count.failures + count.in_flight >= self._limit(key).failures
            for key, count in begun.counts.items()
        )
        clean = all(
            count.failures == 0 and count.in_flight == 0
            for key, count in begun.counts.items()
            if not key.startswith("user:")
        )
        delay = self._pressure_delay if pressured else 0.0
        return Attempt(tuple(keys), delay=delay, token=begun.attempt, clean=clean)

    def failed(self, attempt: Attempt) -> float:
        """The check failed: count it; returns the lockout it imposes (0.0 if none)."""
        return self._store.fail(attempt.token, attempt.keys, self._window, self._lockout)

    def succeeded(self, attempt: Attempt) -> None:
        pairs = [key for key in attempt.keys if key.startswith("pair:")]
        self._store.succeed(attempt.token, attempt.keys, pairs)

    def withdraw(self, attempt: Attempt) -> None:
        """The check ended without looking at the password: forget it."""
        self._store.withdraw(attempt.token, attempt.keys)

    def busy(self, attempt: Attempt) -> None:
        """The check was refused because the engine was too busy hashing: a failure of the
        client's address (so a flood from few addresses locks them), nothing for the
        account, whose real owner may simply have come at a bad moment."""
        address = [key for key in attempt.keys if key.startswith("addr:")]
        others = [key for key in attempt.keys if not key.startswith("addr:")]
        self._store.withdraw(attempt.token, others)
        if address:
            self._store.fail(attempt.token, address, self._window, self._lockout)

    def clear(self) -> None:
        """Forget every count and lockout (a fresh start, as after a restart)."""
        self._store.clear()

    def _refusal(self, counts: Mapping[str, ThrottleCount]) -> float:
        refused = 0.0
        for key, count in counts.items():
            limit = self._limit(key)
            if not limit.locks:
                continue
            refused = max(refused, count.locked_for)
            if count.in_flight and count.failures + count.in_flight >= limit.failures:
                # Checks still in flight would reach the limit: wait for their outcome.
                refused = max(refused, 1.0)
        return refused

    def _lockout(self, key: str, count: ThrottleCount) -> float:
        limit = self._limit(key)
        if not limit.locks or (count.lockouts == 0 and count.failures < limit.failures):
            return 0.0
        return min(self._max_delay, self._base_delay * 2.0 ** min(count.lockouts, 32))


class PasswordGate:
    """The only way the engine checks a password a person typed: through the throttle,
    then (maybe after the pressure delay) inside one of the few hashing slots."""

    def __init__(
        self, users: UserService, throttle: PasswordThrottle, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.users = users
        self.throttle = throttle
        self._sleep = sleep

    def authenticate(self, username: str, password: str, address: str | None) -> User:
        """The user, or InvalidCredentials; TooManyAttempts when the throttle or the
        hashing bound refuses (the password is then not looked at)."""
        attempt = self.start(username, address)
        try:
            if attempt.delay > 0:
                self._sleep(attempt.delay)
        except BaseException:
            self.throttle.withdraw(attempt)
            raise
        return self.check(attempt, username, password)

    def start(self, username: str, address: str | None) -> Attempt:
        """Begin a check (counted in flight), or TooManyAttempts. The caller waits
        ``attempt.delay`` seconds, then calls :meth:`check` or :meth:`refuse_busy`."""
        attempt = self.throttle.begin(username, address)
        if attempt.refused_for > 0:
            wait = int(attempt.refused_for) + (0 if attempt.refused_for.is_integer() else 1)
            raise TooManyAttempts(
                f"Too many failed password checks; wait {wait} seconds and try again.",
                retry_after=wait,
            )
        return attempt

    def check(self, attempt: Attempt, username: str, password: str, *, reserved: bool = False) -> User:
        """Compute the hash of a started check and count its outcome (``reserved``: in the
        reserved lane's own hashing slot)."""
        try:
            user = self.users.authenticate(username, password, reserved=reserved)
        except InvalidCredentials:
            self.throttle.failed(attempt)
            raise
        except HashingBusy as exc:
            self.refuse_busy(attempt, exc.message, exc.retry_after)
        except BaseException:
            self.throttle.withdraw(attempt)
            raise
        self.throttle.succeeded(attempt)
        return user

    def refuse_busy(self, attempt: Attempt, message: str, retry_after: int) -> NoReturn:
        """No hashing slot came free: counted against the address (PasswordThrottle.busy)."""
        self.throttle.busy(attempt)
        raise TooManyAttempts(message, retry_after=retry_after) from None

    def verify(self, username: str, password: str, address: str | None) -> bool:
        """Re-check a signed-in user's password (sudo-style); False when it is wrong."""
        try:
            self.authenticate(username, password, address)
        except InvalidCredentials:
            return False
        return True
