"""The cache's queue: the changes durable in the journal but not yet in their domain
store, as the flush takes and settles them and as the queue status shows them.

A part of :class:`~assembly_engine.storage.cache.assembly_cache.AssemblyCache` (a mixin): it
works on the cache's own entries and lock, declared below for the type checker.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.entry import CacheEntry
from assembly_engine.storage.cache.flush import Flusher
from assembly_engine.storage.cache.flush_batch import QueuedChange
from assembly_engine.storage.contract.queue_status import DomainQueue, QueueStatus, WaitingChange


class CacheQueue:
    _lock: Any  # threading.RLock, shared with the rest of the cache
    _entries: dict[str, CacheEntry]
    _generation: int
    _depth: int
    _depth_generation: int
    flusher: Flusher

    def queue_status(self) -> QueueStatus:
        with self._lock:
            pending = [e for e in self._entries.values() if e.dirty]
            domains: list[DomainQueue] = []
            for domain in Domain:
                items = sorted((e for e in pending if e.record.domain is domain), key=lambda e: e.seq)
                state = self.flusher.state[domain]
                changes = tuple(
                    WaitingChange(
                        e.record.assembly_guid,
                        e.record.display_name,
                        e.deleted,
                        e.record.revision,
                        e.dirty_since,
                        e.flush_error,
                    )
                    for e in items
                )
                domains.append(
                    DomainQueue(domain, changes, state.last_flush, state.last_error, state.waiting_since)
                )
            return QueueStatus(len(pending), self.flusher.flush_interval, tuple(domains))

    def depth(self) -> int:
        """Queued changes; counted once per generation (lists ask on every request)."""
        with self._lock:
            if self._depth_generation != self._generation:
                self._depth = sum(1 for e in self._entries.values() if e.dirty)
                self._depth_generation = self._generation
            return self._depth

    def dirty_batches(self) -> dict[Domain, tuple[list[QueuedChange], list[QueuedChange]]]:
        """Every queued change by domain, in one pass over the entries: those to write
        together, and those a database refused before (retried one by one). A change made
        after this is flushed the next time (its seq differs from the one taken here)."""
        batches: dict[Domain, tuple[list[QueuedChange], list[QueuedChange]]] = {d: ([], []) for d in Domain}
        with self._lock:
            for guid, e in self._entries.items():
                if e.dirty:
                    fresh, suspects = batches[e.record.domain]
                    (fresh if e.flush_error is None else suspects).append(
                        (guid, e.record, e.row, e.seq, tuple(e.pending))
                    )
        return batches

    def settle(
        self, persisted: Iterable[tuple[str, int]], when: str, refused: Iterable[tuple[str, str]] = ()
    ) -> None:
        """Changes now in their domain store ((guid, up-to seq), written ``when``), and
        changes the store refused ((guid, why)), which stay queued."""
        with self._lock:
            entries = self._entries
            for guid, seq in persisted:
                entry = entries.get(guid)
                if entry is None:
                    continue
                entry.mark_persisted(when, seq)
                if entry.deleted and entry.seq == seq:
                    del entries[guid]
            for guid, error in refused:
                if (entry := entries.get(guid)) is not None:
                    entry.refuse(error)
            self._generation += 1
