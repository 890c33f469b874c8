"""Removing orphan payload folders in the background (issue 23, O1).

A kill or a lost database connection between writing a change's payload folder and
recording the change leaves a folder nothing refers to. ``assemblies verify --fix`` removes
such orphans by hand; this sweep does the same on its own, shortly after boot and then
every ``ENGINE_ORPHAN_SWEEP_SECONDS``, so ``verify`` stays clean without an operator.
Only folders older than :data:`GRACE_SECONDS` go: a younger one may belong to a change
still being made.
"""

from __future__ import annotations

import logging
import threading

from assembly_engine.storage.contract.interfaces import Maintenance
from assembly_engine.storage.contract.reports import SweepScope
from assembly_engine.storage.runtime import StorageRuntime

log = logging.getLogger("assembly_engine.maintenance")

# Longer than any change takes between writing its folder and recording it (a change
# waits ENGINE_LOCK_RETRY_SECONDS at most), with a wide margin.
GRACE_SECONDS = 600.0


def sweep_orphans(
    storage: StorageRuntime, files: Maintenance, grace_seconds: float = GRACE_SECONDS
) -> list[str]:
    """Remove the payload folders nothing refers to (cache, journal, database rows, kept
    revisions) and older than ``grace_seconds``; return their ids."""
    with storage.cache.flushes_paused():  # no folder changes hands between a database and the cache
        listed = storage.payloads.list_guids()  # before the references: a newer folder is not judged
        referenced = storage.library_payloads().referenced()
        scope = SweepScope(listed=listed, grace_seconds=grace_seconds, remove=True)
        sweep = files.sweep_orphans(referenced, scope)
    if sweep.removed:
        log.info("orphan sweep: removed %d payload folder(s) nothing refers to", len(sweep.removed))
    return list(sweep.removed)


class OrphanSweeper:
    """Runs :func:`sweep_orphans` every ``interval`` seconds on a daemon thread (0: never)."""

    def __init__(self, storage: StorageRuntime, files: Maintenance, interval: float) -> None:
        self._storage = storage
        self._files = files
        self.interval = interval
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or self._worker is not None:
            return
        self._worker = threading.Thread(target=self._run, name="orphan-sweep", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        # The first sweep comes one interval after boot (at most a minute): boot itself
        # stays as fast as it was, and what a kill left is gone soon after.
        delay = min(self.interval, 60.0)
        while not self._stop.wait(delay):
            try:
                sweep_orphans(self._storage, self._files)
            except Exception:  # noqa: BLE001 - retried at the next interval
                log.exception("background orphan sweep failed; retried in %.0fs", self.interval)
            delay = self.interval

    def close(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
