"""Password-throttle counters kept in memory, and the arithmetic of one counter's window.

:class:`ThrottleCounter` is one counter and its sliding window; every throttle store counts
through it (this module's in-memory store for the embedded engine, which a restart forgets,
and postgresql/throttle_store.py's rows for a cluster), so they count alike.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assembly_engine.storage.contract.throttle import (
    MAX_REMEMBERED_FAILURES,
    Begun,
    Lockout,
    Refusal,
    ThrottleCount,
)


@dataclass
class ThrottleCounter:
    failures: list[float] = field(default_factory=list)
    lockouts: int = 0
    locked_until: float = 0.0
    last_failure: float = float("-inf")
    in_flight: int = 0

    def count(self, now: float, window: float) -> ThrottleCount:
        # Failures older than the window are forgotten first.
        self.failures = [t for t in self.failures if t > now - window]
        return ThrottleCount(len(self.failures), self.in_flight, self.lockouts, self.locked_until - now)

    def fail(self, key: str, now: float, window: float, lockout: Lockout) -> float:
        """Count a failure; the seconds the counter is locked for after it (0.0 if none)."""
        if self.quiet(now, window):
            self.lockouts = 0  # quiet for a full window: start over
        self.failures = [t for t in self.failures if t > now - window][-MAX_REMEMBERED_FAILURES + 1 :]
        self.failures.append(now)
        self.last_failure = now
        delay = lockout(key, self.count(now, window))
        if delay > 0:
            self.lockouts += 1
            self.locked_until = max(self.locked_until, now + delay)
        return max(0.0, self.locked_until - now)

    def clear_failures(self) -> None:
        self.failures, self.lockouts, self.locked_until = [], 0, 0.0
        self.last_failure = float("-inf")

    def quiet(self, now: float, window: float) -> bool:
        """No lockout running and no failure within the window: the same as no counter."""
        return self.locked_until <= now and now - self.last_failure >= window


class MemoryThrottleStore:
    """The counters in this process, under one lock; quiet ones are forgotten once more
    than ``max_tracked_keys`` are held."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_tracked_keys: int = 10_000) -> None:
        self._clock = clock
        self._max_keys = max_tracked_keys
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.counters: dict[str, ThrottleCounter] = {}

    def begin(self, keys: Sequence[str], window: float, refusal: Refusal) -> Begun:
        now = self._clock()
        with self._lock:
            self._sweep(now, window)
            counts = {key: c.count(now, window) for key in keys if (c := self.counters.get(key)) is not None}
            refused = refusal(counts)
            if refused > 0:
                return Begun(None, refused, counts)
            for key in keys:
                self.counters.setdefault(key, ThrottleCounter()).in_flight += 1
            return Begun(str(next(self._ids)), 0.0, counts)

    def fail(self, attempt: str, keys: Sequence[str], window: float, lockout: Lockout) -> float:
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                counter = self.counters.setdefault(key, ThrottleCounter())
                counter.in_flight = max(0, counter.in_flight - 1)
                wait = max(wait, counter.fail(key, now, window, lockout))
        return wait

    def succeed(self, attempt: str, keys: Sequence[str], clear: Sequence[str]) -> None:
        with self._lock:
            self._end(keys)
            for key in clear:
                counter = self.counters.get(key)
                if counter is None:
                    continue
                if counter.in_flight:
                    counter.clear_failures()  # other checks of it are still in flight
                else:
                    del self.counters[key]

    def withdraw(self, attempt: str, keys: Sequence[str]) -> None:
        with self._lock:
            self._end(keys)

    def clear(self) -> None:
        with self._lock:
            self.counters.clear()

    def _end(self, keys: Sequence[str]) -> None:
        for key in keys:
            counter = self.counters.get(key)
            if counter is not None:
                counter.in_flight = max(0, counter.in_flight - 1)

    def _sweep(self, now: float, window: float) -> None:
        # Bound memory when someone sprays many names or addresses.
        if len(self.counters) < self._max_keys:
            return
        stale = [key for key, c in self.counters.items() if c.in_flight == 0 and c.quiet(now, window)]
        for key in stale:
            del self.counters[key]
