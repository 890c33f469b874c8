"""Writing the cache's queued changes to their domain stores: the flush.

A flush (background worker every ``flush_interval`` seconds, ``flush_now()``, or shutdown)
writes every queued change of a domain in one transaction, with the revisions its changes
made, then lets the journal forget those entries. A failed flush leaves every entry queued
and is retried with backoff; one domain failing never stops another, and one entry its
store refuses never stops the rest of its domain (it is isolated, keeps its error, and is
retried on its own). In cluster mode only the node whose turn it is flushes (the
coordinator's advisory lock), and it records each domain's flush state for every node.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Protocol

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.flush_batch import (
    DomainFlushState,
    FlushResult,
    QueuedChange,
    history_write,
)
from assembly_engine.storage.cache.loading import DOMAIN_PRIORITY
from assembly_engine.storage.contract.errors import Busy, DatabaseBusy, StorageFailed, Unavailable
from assembly_engine.storage.contract.events import StorageEvents
from assembly_engine.storage.contract.interfaces import DomainStores, FlushCoordinator, WriteJournal
from assembly_engine.storage.contract.models import AssemblyRecord

log = logging.getLogger("assembly_engine.cache")


# Called after a domain's rows are committed and before the journal forgets them;
# raising makes the flush count as failed (used to mirror official writes to staging).
class QueueSource(Protocol):
    """What the flush needs of the cache (AssemblyCache): its queued changes, and a way to
    say which of them are now persisted or refused."""

    def dirty_batches(self) -> dict[Domain, tuple[list[QueuedChange], list[QueuedChange]]]: ...

    def settle(
        self, persisted: Iterable[tuple[str, int]], when: str, refused: Iterable[tuple[str, str]] = ()
    ) -> None: ...


PersistHook = Callable[[Domain, Sequence[AssemblyRecord], Sequence[AssemblyRecord]], None]


# Failures of a whole domain's store, which no split of the batch gets past (a lock, the
# disk, a database that cannot be reached): the batch is retried whole, nothing is refused.
_DOMAIN_WIDE_FAILURES = (DatabaseBusy, Busy, Unavailable, StorageFailed, sqlite3.OperationalError, OSError)


class Flusher:
    def __init__(
        self,
        cache: QueueSource,
        databases: DomainStores,
        journal: WriteJournal,
        *,
        flush_interval: float,
        on_persisted: PersistHook | None,
        coordinator: FlushCoordinator | None,
    ) -> None:
        self._cache = cache
        self._dbs = databases
        self._journal = journal
        self.flush_interval = flush_interval
        self._on_persisted = on_persisted
        self._coordinator = coordinator  # cluster mode: which node flushes
        self._lock = threading.Lock()
        self.state = {d: DomainFlushState() for d in Domain}
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.events = StorageEvents()  # monitoring subscribes (services/metrics.py)

    def flush_now(
        self, domain: Domain | None = None, *, budget_seconds: float | None = None
    ) -> list[FlushResult]:
        with self._lock:
            return self._flush_locked(domain, budget_seconds)

    def _flush_locked(self, domain: Domain | None, budget_seconds: float | None) -> list[FlushResult]:
        """Flush ``domain`` (every domain if None); caller holds the flush lock. In cluster
        mode only the node whose turn it is flushes; the others leave it to that one."""
        domains: Iterable[Domain] = DOMAIN_PRIORITY if domain is None else (domain,)
        coordinator = self._coordinator
        try:
            with coordinator.flush_turn() if coordinator is not None else nullcontext(True) as my_turn:
                if not my_turn:
                    return [FlushResult(d, 0) for d in domains]
                batches = self._cache.dirty_batches()
                results = [self._flush_domain(d, batches[d], budget_seconds) for d in domains]
        except _DOMAIN_WIDE_FAILURES as exc:  # the coordinator's database cannot be reached
            for d in domains:
                self.state[d].failures += 1
                self.state[d].last_error = str(exc)
                self.events.flushed(d, None, True)
            log.error("flush skipped: %s", exc)
            return [FlushResult(d, 0, str(exc), busy=True) for d in domains]
        if coordinator is not None:
            for result in results:
                state = self.state[result.domain]
                try:
                    coordinator.record_flush(result.domain, state.last_flush, state.last_error)
                except _DOMAIN_WIDE_FAILURES as exc:  # the next flush records it again
                    log.warning("sharing the flush state of %s failed: %s", result.domain.value, exc)
        return results

    def _flush_domain(
        self,
        domain: Domain,
        queued: tuple[list[QueuedChange], list[QueuedChange]],
        budget_seconds: float | None,
    ) -> FlushResult:
        state = self.state[domain]
        fresh, suspects = queued
        batch = fresh + suspects
        if not batch:
            return FlushResult(domain, 0)
        started = time.monotonic()
        try:
            refused = self._persist(domain, fresh, budget_seconds, state)
            for change in suspects:
                refused += self._persist(domain, [change], budget_seconds, state)
        except Exception as exc:  # noqa: BLE001 - a failed flush must never lose entries
            self.events.flushed(domain, time.monotonic() - started, True)
            state.failures += 1
            state.last_error = str(exc)
            log.error("flush of %s failed (%d entries stay queued): %s", domain.value, len(batch), exc)
            return FlushResult(domain, 0, str(exc), busy=isinstance(exc, DatabaseBusy | Busy | Unavailable))
        finally:
            state.waiting_since = None
        self.events.flushed(domain, time.monotonic() - started, False)
        refused_guids = {guid for guid, _ in refused}
        persisted = [c for c in batch if c[0] not in refused_guids]
        now = utc_now()
        self._cache.settle(((guid, seq) for guid, _, _, seq, _ in persisted), now, refused)
        state.failures = 0
        state.last_error = (
            (
                f"{len(refused)} change(s) could not be written and stay queued; "
                f"first: {refused[0][0]}: {refused[0][1]}"
            )
            if refused
            else None
        )
        state.last_flush = now
        try:
            self._journal.discard([(guid, seq) for guid, _, _, seq, _ in persisted])
        except Exception as exc:  # noqa: BLE001 - replay of persisted entries is harmless
            log.warning("journal cleanup after flushing %s failed: %s", domain.value, exc)
        log.info("flushed %d change(s) to %s", len(persisted), domain.value)
        return FlushResult(domain, len(persisted), refused=tuple(refused))

    def _persist(
        self,
        domain: Domain,
        changes: list[QueuedChange],
        budget_seconds: float | None,
        state: DomainFlushState,
    ) -> list[tuple[str, str]]:
        """Write ``changes`` in as few transactions as possible; returns the (guid, error)
        of those the database (or the staging mirror) refused. A failure of the whole
        domain (locked, disk full, I/O) is raised instead: splitting cannot help it."""
        if not changes:
            return []
        try:
            self._write(domain, changes, budget_seconds, state)
            return []
        except _DOMAIN_WIDE_FAILURES:
            raise
        except Exception as exc:  # noqa: BLE001 - something in this batch; find out what
            if len(changes) == 1:
                guid = changes[0][0]
                error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "flush of %s: assembly %s cannot be written and stays queued: %s",
                    domain.value,
                    guid,
                    error,
                )
                return [(guid, error)]
        half = len(changes) // 2  # halve until each refused change stands alone
        return self._persist(domain, changes[:half], budget_seconds, state) + self._persist(
            domain, changes[half:], budget_seconds, state
        )

    def _write(
        self,
        domain: Domain,
        changes: list[QueuedChange],
        budget_seconds: float | None,
        state: DomainFlushState,
    ) -> None:
        def waiting() -> None:
            state.waiting_since = utc_now()

        rows = [row for _, _, row, _, _ in changes if row is not None]
        deletes = [record for _, record, row, _, _ in changes if row is None]
        self._dbs[domain].write(
            rows,
            [r.assembly_guid for r in deletes],
            budget_seconds,
            on_lock_wait=waiting,
            history=history_write(changes),
        )
        if self._on_persisted is not None:
            upserts = [record for _, record, row, _, _ in changes if row is not None]
            self._on_persisted(domain, upserts, deletes)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold back flushes (and so payload removals) while a consistent copy is taken."""
        with self._lock:
            yield

    def flush_paused(self, domain: Domain | None = None) -> list[FlushResult]:
        """Flush from inside :meth:`flushes_paused` (whose holder owns the flush lock)."""
        return self._flush_locked(domain, None)

    # -- worker --------------------------------------------------------------------------
    def start(self) -> None:
        if self._worker is not None:
            return
        self._worker = threading.Thread(target=self._run_worker, name="flush-worker", daemon=True)
        self._worker.start()

    def _run_worker(self) -> None:
        wait = self.flush_interval
        while not self._stop.wait(wait):
            results = self.flush_now()
            failures = max(self.state[r.domain].failures for r in results)
            # Back off after failures: quick retries first, never slower than the interval.
            wait = (
                self.flush_interval
                if failures == 0
                else min(self.flush_interval, 0.25 * (2 ** min(failures, 8)))
            )

    def stop(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def share_state(self, states: dict[Domain, tuple[str | None, str | None]]) -> None:
        """Each domain's last flush and error as the flushing node recorded them."""
        for domain, (last_flush, last_error) in states.items():
            state = self.state[domain]
            state.last_flush, state.last_error = last_flush, last_error
