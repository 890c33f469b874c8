"""Loading the cache: a domain's rows read at start (or after an official sync), the journal
replayed on top, and entries built from their rows lazily or by a background warmer.

A part of :class:`~assembly_engine.storage.cache.assembly_cache.AssemblyCache` (a mixin): it works on the
cache's own entry maps and lock, declared below for the type checker.
"""

from __future__ import annotations

import logging
import threading
import time
from operator import itemgetter
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.entry import CacheEntry, Row, apply_journal_entry, load_integrity
from assembly_engine.storage.cache.heap import collector_paused, freeze_long_lived
from assembly_engine.storage.cache.refusals import QueuedChangesPending
from assembly_engine.storage.contract.interfaces import DomainStores, PayloadStore, WriteJournal
from assembly_engine.storage.contract.models import PAYLOAD_GUID_COLUMN, AssemblyRecord

log = logging.getLogger("assembly_engine.cache")

# The order domains are loaded and flushed in (a GUID in two domains keeps the first).
DOMAIN_PRIORITY = (Domain.OFFICIAL, Domain.COMMUNITY, Domain.USER)
WARM_CHUNK = 2000  # entries built per hold of the cache lock while warming up
WARM_DELAY = 1.0  # seconds between loading the rows and starting to build entries


class CacheLoading:
    _dbs: DomainStores
    _journal: WriteJournal
    _payloads: PayloadStore
    _lock: Any  # threading.RLock, shared with the rest of the cache
    _stop: threading.Event
    _entries: dict[str, CacheEntry]
    _unbuilt: dict[Domain, dict[str, Row]]
    _missing_payloads: set[str]
    _warmer: threading.Thread | None
    _generation: int
    replayed_notes: list[str]
    _counted: tuple[int, dict[str, int]] | None = None  # (generation, counts): health asks per visit

    def hydrate(self, preloaded: dict[Domain, list[Row]], present_payloads: set[str]) -> dict[str, int]:
        """Load every domain's rows, then replay the journal on top. Returns counts.

        Entries are built from their rows lazily: on first access, or by
        :meth:`start_warming` in the background, so the engine is ready once the rows are
        read. ``preloaded`` gives a domain's rows when the caller already read them
        (official sync), ``present_payloads`` the names the caller listed in the payload
        folder.
        """
        unbuilt: dict[Domain, dict[str, Row]] = {}
        for domain in DOMAIN_PRIORITY:
            rows = preloaded[domain] if domain in preloaded else self._dbs[domain].load_rows()
            by_guid = {row[0]: row for row in rows}
            for earlier, kept in unbuilt.items():
                for guid in by_guid.keys() & kept.keys():
                    log.warning(
                        "assembly %s is in both %s and %s; keeping the %s copy",
                        guid,
                        earlier.value,
                        domain.value,
                        earlier.value,
                    )
                    del by_guid[guid]
            unbuilt[domain] = by_guid
        missing: set[str] = set()
        for domain, kept in unbuilt.items():
            payload_guids = map(itemgetter(PAYLOAD_GUID_COLUMN), kept.values())
            if present_payloads.issuperset(payload_guids):
                continue  # the usual case, checked without building a set
            for row in kept.values():
                if row[PAYLOAD_GUID_COLUMN] not in present_payloads:
                    missing.add(row[PAYLOAD_GUID_COLUMN])
                    log.warning(
                        "assembly %s (%s, %s): payload %r is %s",
                        row[0],
                        row[1],
                        domain.value,
                        row[PAYLOAD_GUID_COLUMN],
                        load_integrity(row[PAYLOAD_GUID_COLUMN], False).value,
                    )
        with self._lock:
            self._unbuilt = unbuilt
            self._missing_payloads = missing
            self._entries = {}
            replayed = self._journal.pending()
            for entry in replayed:
                current = self._entry(entry.assembly_guid)
                if (
                    current is not None
                    and current.seq == 0
                    and entry.record.revision < current.record.revision
                ):
                    continue  # the database already holds a newer revision (e.g. a restored backup)
                applied = apply_journal_entry(self._entries, entry)
                payload_guid = applied.record.payload.payload_guid
                applied.set_integrity(load_integrity(payload_guid, payload_guid in present_payloads))
            self.replayed_notes = [e.note for e in replayed if e.note is not None]
            if replayed:
                log.warning("replayed %d queued change(s) from the journal", len(replayed))
            self._generation += 1
        return self.counts()

    def start_warming(self, delay: float = WARM_DELAY) -> None:
        """Build the entries not built yet in the background, a chunk at a time, so the
        first list after a boot finds them ready; requests meanwhile build what they need.

        Starts after ``delay`` seconds: threads share one interpreter lock, and building
        at once would slow the server's own start-up by about as much as it saves."""
        if self._unbuilt_count() == 0:
            return
        self._warmer = threading.Thread(target=self._warm, args=(delay,), name="cache-warmer", daemon=True)
        self._warmer.start()

    @property
    def warm(self) -> bool:
        """Every entry is built (until then, entries are built when first needed)."""
        return self._unbuilt_count() == 0

    def wait_warm(self, timeout: float | None = None) -> bool:
        warmer = self._warmer
        if warmer is not None:
            warmer.join(timeout)
        return self.warm

    def _warm(self, delay: float) -> None:
        self._stop.wait(delay)
        while not self._stop.is_set():
            with self._lock:
                if not self._build_some(WARM_CHUNK):
                    break
            time.sleep(0)  # let waiting requests take the lock between chunks
        freeze_long_lived()

    def _unbuilt_count(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._unbuilt.values())

    def _build_some(self, limit: int | None) -> int:
        """Build up to ``limit`` (all if None) entries from their rows; caller holds the lock.

        Many long-lived objects are created here: the cyclic collector is paused meanwhile
        (it would rescan the growing heap again and again)."""
        built = 0
        with collector_paused(then_freeze=False):
            for domain, rows in self._unbuilt.items():
                while rows and (limit is None or built < limit):
                    guid, row = rows.popitem()
                    self._entries[guid] = self._entry_from_row(row, domain)
                    built += 1
        return built

    def _entry_from_row(self, row: Row, domain: Domain) -> CacheEntry:
        record = AssemblyRecord.from_row(row, domain)
        if record.payload.payload_guid in self._missing_payloads:
            return CacheEntry(
                record,
                last_persisted=record.updated_at,
                integrity=load_integrity(record.payload.payload_guid, False),
            )
        return CacheEntry(record, last_persisted=record.updated_at)

    def _entry(self, guid: str) -> CacheEntry | None:
        """The entry of ``guid``, built from its row if needed; caller holds the lock."""
        entry = self._entries.get(guid)
        if entry is None:
            for domain, rows in self._unbuilt.items():
                row = rows.pop(guid, None)
                if row is not None:
                    entry = self._entries[guid] = self._entry_from_row(row, domain)
                    break
        return entry

    def _all_entries(self) -> dict[str, CacheEntry]:
        """Every entry, built; caller holds the lock."""
        if any(self._unbuilt.values()):
            self._build_some(None)
        return self._entries

    def live_payloads(self) -> set[str]:
        """The payload GUIDs live records point at, read from rows not built yet without
        building them (the search index asks at boot: building 100,000s of records under
        the lock would hold up the start-up)."""
        with self._lock:
            found = {e.record.payload.payload_guid for e in self._entries.values() if not e.deleted}
            for rows in self._unbuilt.values():
                found.update(map(itemgetter(PAYLOAD_GUID_COLUMN), rows.values()))
        return found

    def reload_domain(self, domain: Domain) -> int:
        """Replace a domain's entries with its database rows (after an official sync)."""
        rows = self._dbs[domain].load_rows()
        present = self._payloads.list_guids()
        with self._lock:
            entries = self._all_entries()
            dirty = [g for g, e in entries.items() if e.dirty and e.record.domain is domain]
            if dirty:
                raise QueuedChangesPending(f"{len(dirty)} queued change(s) in {domain.value}; flush first")
            for guid in [g for g, e in entries.items() if e.record.domain is domain]:
                del entries[guid]
            # Every other entry is built by now: only this domain's rows still use the set.
            self._missing_payloads = {row[PAYLOAD_GUID_COLUMN] for row in rows} - present
            for row in rows:
                if row[0] in entries:
                    log.warning(
                        "assembly %s exists in two domains; keeping %s",
                        row[0],
                        entries[row[0]].record.domain.value,
                    )
                    continue
                entries[row[0]] = self._entry_from_row(row, domain)
            self._generation += 1
        return len(rows)

    def counts(self) -> dict[str, int]:
        """Live assemblies per domain; counted once per generation (building an entry moves
        it between the two maps without changing the counts)."""
        with self._lock:
            if self._counted is not None and self._counted[0] == self._generation:
                return dict(self._counted[1])
            result = {d.value: len(self._unbuilt.get(d, ())) for d in Domain}
            for entry in self._entries.values():
                if not entry.deleted:
                    result[entry.record.domain.value] += 1
            self._counted = (self._generation, result)
        return dict(result)
