"""Moments of the storage layer that monitoring counts: flushes and journal group commits.

The storage layer knows nothing of Prometheus: the flusher and the journal announce what
happened here, and whoever watches (services/metrics.py) subscribes. With no listener an
announcement costs one empty loop. A listener must be quick and must not raise; one that
does is logged and ignored, so monitoring can never fail a flush or a commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from assembly_engine.domain.types import Domain

log = logging.getLogger("assembly_engine.storage.events")

# (domain, seconds the flush of that domain took — None when it could not start —, whether it failed)
FlushListener = Callable[[Domain, float | None, bool], None]
# (entries written by one group commit)
CommitListener = Callable[[int], None]


class StorageEvents:
    def __init__(self) -> None:
        self._flush: list[FlushListener] = []
        self._commit: list[CommitListener] = []

    def on_flush(self, listener: FlushListener) -> None:
        self._flush.append(listener)

    def on_group_commit(self, listener: CommitListener) -> None:
        self._commit.append(listener)

    def flushed(self, domain: Domain, seconds: float | None, failed: bool) -> None:
        for listener in self._flush:
            try:
                listener(domain, seconds, failed)
            except Exception:  # noqa: BLE001 - monitoring never fails a flush
                log.exception("a flush listener failed")

    def group_committed(self, entries: int) -> None:
        for listener in self._commit:
            try:
                listener(entries)
            except Exception:  # noqa: BLE001 - monitoring never fails a commit
                log.exception("a commit listener failed")
