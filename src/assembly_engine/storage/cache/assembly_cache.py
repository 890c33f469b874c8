"""AssemblyCache: every assembly in memory, with a durable write queue behind it.

Reads return immutable snapshots. A mutation is planned under the lock, made durable in
the journal (group commit) outside it, and only then applied to the entry, which turns
dirty: durable in the journal, not yet in its domain database. Changes of one assembly are
serialised; the flush (flush.py) writes what the cache holds. Loading is loading.py's,
other nodes' changes cluster_changes.py's, the queue the flush drains queue.py's, the
refusals refusals.py's. Why and how in
Docs/design.md, "A durable journal in front of the in-memory queue".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace

from assembly_engine.domain.types import Domain, Integrity
from assembly_engine.storage.cache.body_search import BodySearch
from assembly_engine.storage.cache.cluster_changes import ClusterChanges
from assembly_engine.storage.cache.entry import (
    CacheEntry,
    PendingChange,
    Row,
    apply_journal_entry,
)
from assembly_engine.storage.cache.flush import Flusher, PersistHook
from assembly_engine.storage.cache.flush_batch import FlushResult
from assembly_engine.storage.cache.loading import CacheLoading
from assembly_engine.storage.cache.queue import CacheQueue
from assembly_engine.storage.cache.refusals import (
    AssemblyExists,
    AssemblyNotFound,
    CacheClosed,
    ChangeBusy,
    InvalidChange,
    StaleRevision,
)
from assembly_engine.storage.contract.errors import ChangedElsewhere, OutcomeUnknown, StorageFailed
from assembly_engine.storage.contract.interfaces import (
    DomainStores,
    FlushCoordinator,
    PayloadStore,
    WriteJournal,
)
from assembly_engine.storage.contract.journal_entry import new_entry
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly, PayloadContent, PayloadRef
from assembly_engine.storage.files import failpoints

log = logging.getLogger("assembly_engine.cache")

# Builds a change's note (stored with it in the journal) from the record it will have.
NoteFor = Callable[[AssemblyRecord], str]


class AssemblyCache(CacheLoading, CacheQueue, ClusterChanges):
    def __init__(
        self,
        databases: DomainStores,
        journal: WriteJournal,
        payloads: PayloadStore,
        *,
        flush_interval: float = 60.0,
        on_persisted: PersistHook | None = None,
        change_wait_seconds: float = 10.0,
        coordinator: FlushCoordinator | None = None,
    ) -> None:
        self._dbs = databases
        self._journal = journal
        self._payloads = payloads
        self._entries: dict[str, CacheEntry] = {}  # built entries
        self._unbuilt: dict[Domain, dict[str, Row]] = {}  # loaded rows not built yet
        self._missing_payloads: set[str] = set()  # payload folders absent when loaded
        self._warmer: threading.Thread | None = None
        self._lock = threading.RLock()
        # Signalled whenever an in-flight change ends or a domain pause lifts.
        self._changed = threading.Condition(self._lock)
        self._in_flight: dict[str, Domain] = {}  # guid -> domain of a change not durable yet
        self._paused: set[Domain] = set()
        self.change_wait_seconds = change_wait_seconds
        # Told each durable change's note (the services record its audit entry); notes of
        # changes replayed at hydration are in ``replayed_notes`` for the same purpose.
        self.on_durable_note: Callable[[str], None] | None = None
        self.replayed_notes: list[str] = []
        self.flusher = Flusher(
            self,
            databases,
            journal,
            flush_interval=flush_interval,
            on_persisted=on_persisted,
            coordinator=coordinator,
        )
        # Cluster mode: brings the cache up to date with every node's committed changes
        # (set by the change feed); called before a refused change is planned again.
        self.catch_up: Callable[[], None] | None = None
        self._stop = threading.Event()
        # Bumped on every change a reader could see; lets readers cache derived views.
        self._generation = 0
        self._depth = 0
        self._depth_generation = -1
        self._closed = False
        self.search: BodySearch | None = None  # the body index, attached by the backend

    # -- reads ---------------------------------------------------------------------------
    def get(self, guid: str) -> CachedAssembly | None:
        with self._lock:
            entry = self._entry(guid)
            if entry is None or entry.deleted:
                return None
            return entry.snapshot()

    def require(self, guid: str) -> CachedAssembly:
        found = self.get(guid)
        if found is None:
            raise AssemblyNotFound(guid)
        return found

    def items(self, domain: Domain | None = None) -> list[CachedAssembly]:
        with self._lock:
            return [
                e.snapshot()
                for e in self._all_entries().values()
                if not e.deleted and (domain is None or e.record.domain is domain)
            ]

    @property
    def generation(self) -> int:
        """Changes whenever anything a reader could see changes (records or their state)."""
        return self._generation

    def referenced_payloads(self, *, exclude_domain: Domain | None = None) -> set[str]:
        """Payload folders records point at, and those of revisions not flushed yet (not
        those of ``exclude_domain``'s records, whose folders its rebuild decides on; their
        revisions' folders the database's history keeps)."""
        with self._lock:
            entries = self._all_entries()
            refs = {
                e.record.payload.payload_guid
                for e in entries.values()
                if not e.deleted and e.record.domain is not exclude_domain
            }
            for entry in entries.values():
                refs.update(p.record.payload.payload_guid for p in entry.pending)
        return refs

    # -- history not flushed yet ---------------------------------------------------------
    def pending_history(self, guid: str) -> tuple[CachedAssembly | None, list[PendingChange]]:
        """The entry of ``guid`` (None if not cached; a snapshot with ``pending_delete`` if
        its delete is queued) and its changes not flushed yet, oldest first. Read before the
        database's history: a flush in between then shows a revision twice, never not at all."""
        with self._lock:
            entry = self._entry(guid)
            if entry is None:
                return None, []
            return entry.snapshot(), list(entry.pending)

    def queued_deletes(self) -> list[tuple[AssemblyRecord, str, str | None]]:
        """Deletes not flushed yet: (record as deleted, deleted_at, deleted_by)."""
        with self._lock:
            result = []
            for entry in self._entries.values():
                if entry.deleted:
                    last = next((p for p in reversed(entry.pending) if p.op == "delete"), None)
                    at, actor = (last.at, last.actor) if last else (entry.dirty_since or "", None)
                    result.append((entry.record, at, actor))
            return result

    def is_cached(self, guid: str) -> bool:
        """The cache knows ``guid``: live, or with its delete still queued."""
        with self._lock:
            return self._entry(guid) is not None

    def is_live(self, guid: str) -> bool:
        with self._lock:
            entry = self._entry(guid)
            return entry is not None and not entry.deleted

    def set_integrity(self, guid: str, status: Integrity, *, payload_guid: str | None = None) -> None:
        with self._lock:
            entry = self._entry(guid)
            if entry is None:
                return
            if payload_guid is not None and entry.record.payload.payload_guid != payload_guid:
                return  # the record moved on to another payload meanwhile
            if entry.integrity is not status:
                entry.set_integrity(status)
                self._generation += 1

    # -- mutations -----------------------------------------------------------------------
    @contextmanager
    def new_payload(self, content: PayloadContent | None) -> Iterator[PayloadRef | None]:
        """A new write-once payload folder holding ``content``, for the change made inside
        the block (None: the change keeps its payload). If the block raises, the change was
        refused and nothing points at the folder: it is removed again, so a refused change
        leaves no trace. A change whose outcome is unknown keeps it: it may have been made."""
        if content is None:
            yield None
            return
        try:
            ref = self._payloads.write_new(content)
        except OSError as exc:
            raise StorageFailed(
                f"The payload could not be written to disk ({exc.strerror or exc}); nothing was "
                "changed. Free disk space or fix permissions of the Payloads folder, then retry."
            ) from None
        if self.search is not None:  # findable once acknowledged, before any flush
            self.search.note(ref.payload_guid, content)
        try:
            yield ref
        except OutcomeUnknown:
            raise  # once unreferenced and old, the orphan sweep removes it
        except BaseException:
            try:
                self._payloads.delete(ref.payload_guid)
            except OSError as exc:
                log.warning("could not remove unused payload %s: %s", ref.payload_guid, exc)
            raise

    def create(
        self,
        record: AssemblyRecord,
        *,
        note: NoteFor | None = None,
        action: str = "create",
        revision: int = 1,
    ) -> CachedAssembly:
        """Create ``record`` at ``revision`` (an undelete continues the numbering of the
        deleted assembly's history)."""
        if record.revision != revision:
            record = record.evolve(revision=revision)

        def plan(current: CacheEntry | None) -> tuple[str, AssemblyRecord]:
            if current is not None and not current.deleted:
                raise AssemblyExists(record.assembly_guid, current.record.domain)
            if current is not None:  # re-created while its delete is still queued
                if current.record.domain is not record.domain:
                    raise AssemblyExists(record.assembly_guid, current.record.domain)
                return "upsert", record.evolve(revision=current.record.revision + 1)
            return "upsert", record

        return self._mutate(record.assembly_guid, plan, note, action=action, actor=record.updated_by)

    def update(
        self,
        guid: str,
        change: Callable[[AssemblyRecord], AssemblyRecord],
        *,
        expected_revision: int | None = None,
        note: NoteFor | None = None,
        action: str = "update",
    ) -> CachedAssembly:
        """Apply ``change`` to the current record atomically; revision becomes current + 1."""

        def plan(current: CacheEntry | None) -> tuple[str, AssemblyRecord]:
            old = _live_at(guid, current, expected_revision)
            new = change(old)
            if new.assembly_guid != guid or new.domain is not old.domain:
                raise InvalidChange("an update cannot change an assembly's id or domain")
            return "upsert", new.evolve(revision=old.revision + 1)

        return self._mutate(guid, plan, note, action=action)

    def delete(
        self,
        guid: str,
        *,
        expected_revision: int | None = None,
        note: NoteFor | None = None,
        actor: str | None = None,
    ) -> CachedAssembly:
        def plan(current: CacheEntry | None) -> tuple[str, AssemblyRecord]:
            return "delete", _live_at(guid, current, expected_revision)

        return self._mutate(guid, plan, note, action="delete", actor=actor)

    def _mutate(
        self,
        guid: str,
        plan: Callable[[CacheEntry | None], tuple[str, AssemblyRecord]],
        note: NoteFor | None = None,
        *,
        action: str | None = None,
        actor: str | None = None,
    ) -> CachedAssembly:
        deadline = time.monotonic() + self.change_wait_seconds
        while True:
            try:
                return self._mutate_once(guid, plan, note, deadline, action=action, actor=actor)
            except ChangedElsewhere:
                # Another node changed it first: learn what it did, then plan again (the
                # plan now refuses with the right reason, or succeeds on the new state).
                # Until the change's deadline, not a count: under contention a change
                # without an expected revision may lose several times in a row.
                if self.catch_up is None or time.monotonic() >= deadline:
                    raise
                self.catch_up()

    def _mutate_once(
        self,
        guid: str,
        plan: Callable[[CacheEntry | None], tuple[str, AssemblyRecord]],
        note: NoteFor | None,
        deadline: float,
        *,
        action: str | None,
        actor: str | None,
    ) -> CachedAssembly:
        with self._changed:
            while True:
                if self._closed:
                    raise CacheClosed("The engine is shutting down; try again in a moment.")
                if guid in self._in_flight:  # plan against a durable state only
                    self._wait_for_change(deadline, "another change of this assembly")
                    continue
                current = self._entry(guid)
                op, record = plan(current)
                if record.domain in self._paused:
                    self._wait_for_change(deadline, f"the {record.domain.value} domain's sync")
                    continue
                break
            entry = new_entry(
                self._journal,
                op,
                record,
                note(record) if note else None,
                action=action,
                actor=actor if op == "delete" else record.updated_by,
                base_revision=None if current is None or current.deleted else current.record.revision,
            )
            future = self._journal.submit(entry)
            self._in_flight[guid] = record.domain
        try:
            seq = future.result()
        except BaseException:
            with self._changed:
                del self._in_flight[guid]
                self._changed.notify_all()
            raise
        if seq != entry.seq:  # a shared queue numbers changes when it commits them
            entry = replace(entry, seq=seq)
        failpoints.reached("after-journal-commit")
        if entry.note is not None and self.on_durable_note is not None:
            # Before the change is applied, so no flush can drop its journal entry (and with
            # it the note a restart would replay) before the note is recorded.
            try:
                self.on_durable_note(entry.note)
            except Exception:  # noqa: BLE001 - the change is durable; it must be applied
                log.exception("recording the note of a durable change of %s failed", guid)
        with self._changed:
            applied = self._entries.get(guid)
            if applied is None or applied.seq < entry.seq:  # the change feed may have been first
                apply_journal_entry(self._entries, entry)
                self._generation += 1
            del self._in_flight[guid]
            self._changed.notify_all()
            return self._entries[guid].snapshot()

    def _wait_for_change(self, deadline: float, what: str) -> None:
        """Wait (holding nothing) until an in-flight change ends or a pause lifts; caller
        holds ``_changed``."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not self._changed.wait(remaining):
            raise ChangeBusy(
                f"The change was not made: it waited {self.change_wait_seconds:.0f}s "
                f"for {what}. Retry in a few seconds."
            )

    @contextmanager
    def domain_paused(self, domain: Domain) -> Iterator[None]:
        """No change of ``domain`` starts meanwhile, and those in flight have ended (an
        official sync rebuilds the domain under this). Other domains carry on."""
        deadline = time.monotonic() + self.change_wait_seconds
        with self._changed:
            self._paused.add(domain)
            try:
                while domain in self._in_flight.values():
                    self._wait_for_change(deadline, f"changes in flight in {domain.value}")
            except BaseException:
                self._paused.discard(domain)
                self._changed.notify_all()
                raise
        try:
            yield
        finally:
            with self._changed:
                self._paused.discard(domain)
                self._changed.notify_all()

    # -- flushing (storage/cache/flush.py) -------------------------------------------
    def flush_now(
        self, domain: Domain | None = None, *, budget_seconds: float | None = None
    ) -> list[FlushResult]:
        return self.flusher.flush_now(domain, budget_seconds=budget_seconds)

    def flushes_paused(self) -> AbstractContextManager[None]:
        """Hold back flushes (and so payload removals) while a consistent copy is taken."""
        return self.flusher.paused()

    def flush_paused(self, domain: Domain | None = None) -> list[FlushResult]:
        """Flush from inside :meth:`flushes_paused` (whose holder owns the flush lock)."""
        return self.flusher.flush_paused(domain)

    def start(self) -> None:
        """Start the background flush worker."""
        self.flusher.start()

    def bulk_writes(self) -> AbstractContextManager[None]:
        """A bulk write runs in the block: the body index's background work waits for it."""
        return self.search.bulk() if self.search is not None else nullcontext()

    def start_background(self) -> None:
        """Start what a serving engine runs once it has answered ready (the flush worker,
        :meth:`start`, runs from the start): the warm-up of entries not built yet and the
        body index's build (once ``search`` is attached)."""
        self.start_warming()
        if self.search is not None:
            self.search.start_building()

    def close(self, *, flush: bool = True) -> list[FlushResult]:
        """Stop the worker, flush what is queued (unless told not to), close the journal."""
        self._stop.set()
        self.flusher.stop()
        if self._warmer is not None:
            self._warmer.join()
            self._warmer = None
        results: list[FlushResult] = []
        if flush:
            results = self.flush_now()
            for result in results:
                if not result.ok:
                    log.error(
                        "shutdown flush of %s failed; its %s stays in the journal "
                        "and is replayed at the next start",
                        result.domain.value,
                        "queue",
                    )
        with self._changed:
            self._closed = True
            self._changed.notify_all()  # changes waiting to start are refused at once
        self._journal.close()
        return results


def _live_at(guid: str, current: CacheEntry | None, expected_revision: int | None) -> AssemblyRecord:
    """The record an update or delete starts from: it must exist and, when the caller named
    the revision it saw (If-Match or ``expected_revision``), still be at that revision."""
    if current is None or current.deleted:
        raise AssemblyNotFound(guid)
    if expected_revision is not None and expected_revision != current.record.revision:
        raise StaleRevision(guid, expected_revision, current.record.revision)
    return current.record
