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
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from assembly_engine.services.auth.users import HashingBusy, InvalidCredentials, User, UserService
from assembly_engine.services.errors import ServiceError


class TooManyAttempts(ServiceError):
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Counter:
    failures: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    lockouts: int = 0
    locked_until: float = 0.0
    last_failure: float = float("-inf")


@dataclass(frozen=True)
class Attempt:
    """One begun password check. ``refused_for`` > 0: do not check, answer 429 with that
    wait. ``delay``: seconds to wait before hashing (the username is under pressure)."""

    keys: tuple[str, ...] = ()
    refused_for: float = 0.0
    delay: float = 0.0


@dataclass(frozen=True)
class _Limit:
    failures: int
    locks: bool  # False: the counter only slows (the per-username ceiling)


class PasswordThrottle:
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
    ) -> None:
        self._limits = {
            "pair": _Limit(pair_failures, True),
            "addr": _Limit(address_failures, True),
            "user": _Limit(username_ceiling, False),
        }
        self._window = window_seconds
        self._base_delay = base_delay_seconds
        self._max_delay = max_delay_seconds
        self._pressure_delay = pressure_delay_seconds
        self._max_keys = max_tracked_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}

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

    def begin(self, username: str | None, address: str | None) -> Attempt:
        """Start a check: refuse it, or count it (in flight) and say how long to wait."""
        now = self._clock()
        keys = self._keys(username, address)
        with self._lock:
            self._sweep(now)
            refused = 0.0
            pressured = False
            for key in keys:
                limit = self._limits[key.split(":", 1)[0]]
                counter = self._counters.get(key)
                if counter is None:
                    continue
                self._prune(counter, now)
                if not limit.locks:
                    pressured = len(counter.failures) + counter.in_flight >= limit.failures
                    continue
                refused = max(refused, counter.locked_until - now)
                if counter.in_flight and len(counter.failures) + counter.in_flight >= limit.failures:
                    # Checks still in flight would reach the limit: wait for their outcome.
                    refused = max(refused, 1.0)
            if refused > 0:
                return Attempt(refused_for=refused)
            for key in keys:
                self._counters.setdefault(key, _Counter()).in_flight += 1
        return Attempt(tuple(keys), delay=self._pressure_delay if pressured else 0.0)

    def failed(self, attempt: Attempt) -> float:
        """The check failed: count it; returns the lockout it imposes (0.0 if none)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in attempt.keys:
                counter = self._counters.setdefault(key, _Counter())
                counter.in_flight = max(0, counter.in_flight - 1)
                wait = max(wait, self._fail(counter, self._limits[key.split(":", 1)[0]], now))
        return wait

    def succeeded(self, attempt: Attempt) -> None:
        with self._lock:
            for key in attempt.keys:
                counter = self._counters.get(key)
                if counter is None:
                    continue
                counter.in_flight = max(0, counter.in_flight - 1)
                if key.startswith("pair:"):
                    del self._counters[key]

    def withdraw(self, attempt: Attempt) -> None:
        """The check never looked at the password (the engine was busy): forget it."""
        with self._lock:
            for key in attempt.keys:
                counter = self._counters.get(key)
                if counter is not None:
                    counter.in_flight = max(0, counter.in_flight - 1)

    def clear(self) -> None:
        """Forget every count and lockout (a fresh start, as after a restart)."""
        with self._lock:
            self._counters.clear()

    def _fail(self, counter: _Counter, limit: _Limit, now: float) -> float:
        if counter.locked_until <= now and now - counter.last_failure >= self._window:
            counter.lockouts = 0  # quiet for a full window: start over
        self._prune(counter, now)
        counter.failures.append(now)
        counter.last_failure = now
        if not limit.locks:
            return 0.0
        if counter.lockouts > 0 or len(counter.failures) >= limit.failures:
            delay = min(self._max_delay, self._base_delay * 2.0 ** min(counter.lockouts, 32))
            counter.lockouts += 1
            counter.locked_until = max(counter.locked_until, now + delay)
        return max(0.0, counter.locked_until - now)

    def _prune(self, counter: _Counter, now: float) -> None:
        while counter.failures and counter.failures[0] <= now - self._window:
            counter.failures.popleft()

    def _sweep(self, now: float) -> None:
        # Bound memory when someone sprays many names or addresses.
        if len(self._counters) < self._max_keys:
            return
        stale = [
            key
            for key, counter in self._counters.items()
            if counter.in_flight == 0
            and counter.locked_until <= now
            and now - counter.last_failure >= self._window
        ]
        for key in stale:
            del self._counters[key]


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
        attempt = self.throttle.begin(username, address)
        if attempt.refused_for > 0:
            wait = int(attempt.refused_for) + (0 if attempt.refused_for.is_integer() else 1)
            raise TooManyAttempts(
                f"Too many failed password checks; wait {wait} seconds and try again.",
                retry_after=wait,
            )
        try:
            if attempt.delay > 0:
                self._sleep(attempt.delay)
            user = self.users.authenticate(username, password)
        except InvalidCredentials:
            self.throttle.failed(attempt)
            raise
        except HashingBusy as exc:
            self.throttle.withdraw(attempt)
            raise TooManyAttempts(exc.message, retry_after=exc.retry_after) from None
        except BaseException:
            self.throttle.withdraw(attempt)
            raise
        self.throttle.succeeded(attempt)
        return user

    def verify(self, username: str, password: str, address: str | None) -> bool:
        """Re-check a signed-in user's password (sudo-style); False when it is wrong."""
        try:
            self.authenticate(username, password, address)
        except InvalidCredentials:
            return False
        return True
