"""Background checks held back while bulk writes run (a batch import, a sync apply).

A save's check runs beside it on the pool; during a bulk import the pool then never
rests, and the in-process part of every check (reading the checker's answer, storing the
result) competes with the import's writes for the interpreter. While a bulk write holds
the checks, saves' checks are kept in order instead, and handed to the pool once no bulk
write has held them for QUIET_SECONDS (the CLI sends its batches back to back: releasing
between two batches would run them during the next). Nothing is dropped that the pool
would have taken: the kept checks count against the same queue bound. Foreground checks
(drafts, blocking saves) are never held.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

from assembly_engine.services.checks.diagnostics import CheckResult

QUIET_SECONDS = 3.0


@dataclass(frozen=True)
class HeldCheck:
    language: str
    text: str
    key: str
    future: Future[CheckResult]  # what the save's caller was given; set when it ran


class HeldChecks:
    def __init__(
        self, release: Callable[[list[HeldCheck]], None], quiet_seconds: float = QUIET_SECONDS
    ) -> None:
        self._release = release
        self._quiet = quiet_seconds
        self._lock = threading.Lock()
        self._holders = 0
        self._kept: list[HeldCheck] = []
        self._timer: threading.Timer | None = None
        self._closed = False

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Hold background checks for as long as the block runs (and QUIET_SECONDS after)."""
        with self._lock:
            self._holders += 1
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._kept and not self._closed:
                    self._timer = threading.Timer(self._quiet, self._release_if_quiet)
                    self._timer.daemon = True
                    self._timer.start()

    def keep(self, check: HeldCheck) -> bool:
        """True: ``check`` is kept until the hold ends; False: nothing holds checks now."""
        with self._lock:
            if self._closed or (self._holders == 0 and self._timer is None):
                return False
            self._kept.append(check)
            return True

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._kept)

    def _release_if_quiet(self) -> None:
        with self._lock:
            if self._holders or self._closed:
                return
            kept, self._kept, self._timer = self._kept, [], None
        self._release(kept)

    def close(self) -> list[HeldCheck]:
        """Stop holding; the checks still kept (their futures are the caller's to cancel)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            kept, self._kept = self._kept, []
        return kept
