"""Other nodes' changes and flushes reaching this node's cache (cluster mode).

A part of :class:`~assembly_engine.storage.cache.assembly_cache.AssemblyCache` (a mixin), fed by the
change feed (storage/postgresql/change_feed.py) from the shared write queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from assembly_engine.storage.cache.entry import CacheEntry, apply_journal_entry
from assembly_engine.storage.contract.journal_entry import JournalEntry


class ClusterChanges:
    _lock: Any  # threading.RLock, shared with the rest of the cache
    _changed: threading.Condition
    _entries: dict[str, CacheEntry]
    _generation: int

    _entry: Callable[[str], CacheEntry | None]  # the cache's lookup (cache_loading)
    settle: Callable[[Iterable[tuple[str, int]], str], None]  # the cache's (queue.py)
    depth: Callable[[], int]  # the cache's (cache.py)

    def apply_remote(self, changes: Sequence[tuple[JournalEntry, str | None]]) -> int:
        """Apply committed changes read from the shared queue, in sequence order, each
        with when it was flushed (None: still queued). Changes this cache already holds
        (its own, or read before) are skipped, so reading one twice changes nothing.
        Returns how many were applied."""
        applied = 0
        with self._changed:
            for entry, flushed_at in changes:
                current = self._entry(entry.assembly_guid)
                if current is not None and (
                    current.seq >= entry.seq
                    or (current.seq == 0 and entry.record.revision < current.record.revision)
                ):
                    continue  # already applied, or the loaded row is newer
                if current is None and entry.op == "delete" and flushed_at is not None:
                    continue  # created and deleted elsewhere, and written: nothing to show
                done = apply_journal_entry(self._entries, entry)
                if flushed_at is not None:
                    done.mark_persisted(flushed_at, entry.seq)
                    if done.deleted:
                        del self._entries[entry.assembly_guid]
                applied += 1
            if applied:
                self._generation += 1
                self._changed.notify_all()
        return applied

    def dirty_seqs(self) -> dict[int, str]:
        """seq -> assembly id of every queued change's latest seq (cluster mode asks which
        of them another node flushed)."""
        if not self.depth():  # counted once per generation: no walk of an idle library
            return {}
        with self._lock:
            return {e.seq: guid for guid, e in self._entries.items() if e.dirty and e.seq}

    def mark_flushed(self, flushed: dict[int, str], by_seq: dict[int, str]) -> None:
        """Changes another node flushed (seq -> when); ``by_seq`` maps seq -> assembly id."""
        for seq, when in flushed.items():
            if seq in by_seq:
                self.settle([(by_seq[seq], seq)], when)
