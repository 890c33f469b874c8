"""The work a start leaves until the engine has said it is ready: building every record,
the search index, the script-check sweep, history retention, the orphan sweep and a warm
checker. None of it is needed to serve (records are built when first asked for, searches
build what they need), and on a few cores it would slow the start-up it runs beside.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("assembly_engine")

AFTER_READY_SECONDS = 0.5  # after the first ready health answer: let its answer go out first
FALLBACK_SECONDS = 5.0  # after start-up when nobody asks for health (a browser, the CLI)


class BackgroundStart:
    """Runs ``start`` once: soon after the first health answer, after a fallback delay
    otherwise, or at once when asked; never after ``close``."""

    def __init__(self, start: Callable[[], None]) -> None:
        self._start = start
        self._lock = threading.Lock()
        self._started = False  # taken: set before the start runs, so it runs once
        self._ran = threading.Event()
        self._answered = False
        self._closed = False
        self._timers: list[threading.Timer] = []

    @property
    def started(self) -> bool:
        """The start has run (its threads exist)."""
        return self._ran.is_set()

    def start_after_ready(self, fallback: float = FALLBACK_SECONDS) -> None:
        """Arm the fallback: the engine's start-up is done, its server about to listen."""
        self._later(fallback)

    def ready_answered(self) -> None:
        """Health has just answered ready; the first answer arms the start."""
        if self._answered or self._started:
            return
        self._answered = True
        self._later(AFTER_READY_SECONDS)

    def now(self) -> None:
        # Under the lock (starting threads is quick): a close waits for it, so nothing is
        # started beside a shutdown.
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            for timer in self._timers:
                timer.cancel()
            try:
                self._start()
            except Exception:  # noqa: BLE001 - the engine serves without it; say so
                log.exception("starting the engine's background work failed")
            self._ran.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()

    def _later(self, seconds: float) -> None:
        with self._lock:
            if self._started or self._closed:
                return
            timer = threading.Timer(seconds, self.now)
            timer.daemon = True
            timer.name = "background-start"
            self._timers.append(timer)
        timer.start()
