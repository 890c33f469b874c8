"""Version history: every revision of an assembly, restore, the deleted view, undelete and
retention.

Revisions live in the ``revisions`` table of the assembly's domain database, written by the
flush in the same transaction as the row; changes not flushed yet are still in the cache
entry (``AssemblyCache.pending_history``). Reads merge both: the cache first, then the
database, so a flush in between shows a revision twice (merged by number), never not at
all. A deleted assembly keeps its revisions and a row in ``deleted_assemblies`` (when, by
whom) until it is undeleted or retention purges it.

Payload folders are write-once, so a restore or an undelete points the new revision at the
old revision's folder; no content is copied. Retention (``prune``) is the only thing that
removes folders of old revisions, and it holds ``_lock``, which restores and undeletes hold
too, so it never removes a folder that one of them is about to point at.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.clock import utc_iso, utc_now
from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.history import (
    DeletedAssembly,
    DeletedPage,
    RevisionDetail,
    RevisionEntry,
    RevisionPage,
)
from assembly_engine.services.answers.maintenance import Pruned
from assembly_engine.services.answers.records import AssemblyView, payload_answer
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.exporting import export_file_name
from assembly_engine.services.assemblies.legacy import export_document, record_fields
from assembly_engine.services.assemblies.list_query import SORT_KEYS, ListQuery, record_matches
from assembly_engine.services.assemblies.records import Details, next_revision
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import ANONYMOUS, Caller
from assembly_engine.services.errors import Conflict, InvalidInput, NotFound
from assembly_engine.storage.contract.interfaces import DomainStores, PayloadLifecycle
from assembly_engine.storage.contract.models import (
    AssemblyRecord,
    CachedAssembly,
    CacheEntryState,
)
from assembly_engine.storage.contract.upstream import UpstreamNote, with_note

log = logging.getLogger("assembly_engine.history")

# What ``changed_fields`` compares between one revision and the one before it.
COMPARED_FIELDS = (
    "display_name",
    "summary",
    "category",
    "assembly_kind",
    "assembly_type",
    "version",
    "metadata",
    "tags",
    "payload",
)

DELETED_SORT_KEYS = (*SORT_KEYS, "deleted_at")


@dataclass(frozen=True)
class Revision:
    revision: int
    action: str
    record: AssemblyRecord


@dataclass(frozen=True)
class History:
    domain: Domain
    current: CachedAssembly | None  # None when the assembly is deleted
    revisions: list[Revision]  # oldest first
    deleted_at: str | None = None
    deleted_by: str | None = None
    deleted_record: AssemblyRecord | None = None

    def find(self, number: int) -> Revision:
        for item in self.revisions:
            if item.revision == number:
                return item
        # The range, never the list: an assembly may keep thousands of revisions.
        first, last = self.revisions[0].revision, self.revisions[-1].revision
        guid = self.revisions[-1].record.assembly_guid
        raise NotFound(
            f"Assembly {guid} has no revision {number} ({len(self.revisions)} kept, from {first} "
            f"to {last}; GET /api/assemblies/{guid}/revisions lists them)."
        )


def changed_fields(before: AssemblyRecord | None, after: AssemblyRecord) -> list[str]:
    """The fields ``after`` changed against ``before`` (none for the first revision)."""
    if before is None:
        return []
    changed = []
    for name in COMPARED_FIELDS:
        if name == "payload":
            if before.payload.checksum != after.payload.checksum:
                changed.append(name)
        elif getattr(before, name) != getattr(after, name):
            changed.append(name)
    return changed


class HistoryService:
    def __init__(
        self,
        changes: Changes,
        databases: DomainStores,
        library: PayloadLifecycle,
        *,
        keep: int = 0,
        trash_days: int = 30,
        prune_interval: float = 0.0,
    ) -> None:
        self._changes = changes
        self._auditor = changes.auditor
        self._contents = changes.contents
        self.cache = changes.cache
        self.databases = databases
        self.library = library
        self.keep = keep
        self.trash_days = trash_days
        self.prune_interval = prune_interval
        self._lock = threading.Lock()  # restores and undeletes against retention
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    # -- reading -----------------------------------------------------------------------
    @property
    def changes(self) -> Changes:
        return self._changes

    @property
    def lock(self) -> threading.Lock:
        """Held by a use case that writes a kept revision back, so retention waits."""
        return self._lock

    def of(self, guid: str) -> History:
        return self._history(guid)

    def kept_revision(self, history: History, number: int) -> CachedAssembly | None:
        """Revision ``number`` as a cache entry (to read its content), or None if not kept."""
        found = next((item for item in history.revisions if item.revision == number), None)
        return self._cached(history, found) if found is not None else None

    def _history(self, guid: str) -> History:
        snap, pending = self.cache.pending_history(guid)  # before the database: see above
        databases = self.databases
        domain = snap.domain if snap is not None else None
        deletion = None
        if domain is None:
            for candidate in Domain:
                deletion = databases[candidate].deletion(guid)
                if deletion is not None or databases[candidate].revisions(guid):
                    domain = candidate
                    break
        if domain is None:
            raise NotFound(f"No assembly with id {guid} exists, and none with that id was deleted.")
        by_number: dict[int, Revision] = {}
        for kept in databases[domain].revisions(guid):
            by_number[kept.revision] = Revision(kept.revision, kept.action, kept.record(domain))
        for change in pending:
            record = change.record
            if change.op != "upsert" or (change.action == "baseline" and record.revision in by_number):
                continue
            by_number[record.revision] = Revision(record.revision, change.action, record)
        live = snap is not None and not snap.state.pending_delete
        if live and snap is not None and snap.record.revision not in by_number:
            by_number[snap.record.revision] = Revision(snap.record.revision, "baseline", snap.record)
        revisions = [by_number[n] for n in sorted(by_number)]
        if not revisions:
            raise NotFound(f"No assembly with id {guid} exists, and none with that id was deleted.")
        if live:
            return History(domain, snap, revisions)
        if snap is not None:  # its delete is still queued
            last = next((p for p in reversed(pending) if p.op == "delete"), None)
            return History(
                domain,
                None,
                revisions,
                last.at if last else snap.state.dirty_since,
                last.actor if last else None,
                snap.record,
            )
        if deletion is None:
            deletion = databases[domain].deletion(guid)
        if deletion is None:  # history without row or deletion: the last revision stands for it
            return History(domain, None, revisions, None, None, revisions[-1].record)
        return History(
            domain, None, revisions, deletion.deleted_at, deletion.deleted_by, deletion.record(domain)
        )

    def revisions(self, caller: Caller, guid: str, *, limit: int = 100, offset: int = 0) -> RevisionPage:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.history", guid=guid)
        history = self._history(guid)
        items = []
        previous: AssemblyRecord | None = None
        current = history.current.record.revision if history.current is not None else None
        for item in history.revisions:
            record = item.record
            items.append(
                RevisionEntry.built(
                    revision=item.revision,
                    action=item.action,
                    updated_at=record.updated_at,
                    updated_by=record.updated_by,
                    changed_fields=changed_fields(previous, record),
                    payload_checksum=record.payload.checksum,
                    payload_size_bytes=record.payload.size_bytes,
                    is_current=item.revision == current,
                )
            )
            previous = record
        items.reverse()
        return RevisionPage.built(
            assembly_guid=guid,
            source=history.domain,
            deleted=history.current is None,
            deleted_at=history.deleted_at,
            deleted_by=history.deleted_by,
            items=items[offset : offset + limit],
            total=len(items),
        )

    def revision(self, caller: Caller, guid: str, number: int) -> RevisionDetail:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.history", guid=guid)
        history = self._history(guid)
        item = history.find(number)
        cached = self._cached(history, item)
        content = self._contents.read(cached)
        checks = self._changes.checks
        checked: dict[str, Any] = (  # the same shape as the detail
            {"checks": checks.summary(content, cached.record.payload.payload_guid)}
            if checks is not None
            else {}
        )
        return RevisionDetail.of(
            cached, admin=caller.is_admin, action=item.action, payload=payload_answer(content), **checked
        )

    def _cached(self, history: History, item: Revision) -> CachedAssembly:
        current = history.current
        if current is not None and current.record.revision == item.revision:
            return current
        return CachedAssembly(
            item.record,
            CacheEntryState(last_persisted=item.record.updated_at, pending_delete=current is None),
        )

    def export_revision(self, caller: Caller, guid: str, number: int) -> tuple[dict[str, Any], str]:
        self._auditor.require(policy.may_export(caller.actor), caller, "assembly.export", guid=guid)
        history = self._history(guid)
        item = history.find(number)
        record = item.record
        content = self._contents.read(self._cached(history, item))
        document = export_document(**record_fields(record, content))
        self._auditor.record(
            caller,
            "assembly.export",
            Outcome.SUCCESS,
            domain=history.domain,
            guid=guid,
            detail=f"{record.display_name} (revision {number})",
        )
        name = export_file_name(f"{record.display_name} r{number}")
        return document, name

    # -- restore -----------------------------------------------------------------------
    def restore(
        self, caller: Caller, guid: str, number: int, *, expected_revision: int | None = None
    ) -> AssemblyView:
        """Make revision ``number``'s content the assembly's new revision (history is never
        rewritten). Policy and conflicts as an update of the assembly's domain."""
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.restore", guid=guid)
        history = self._history(guid)
        if history.current is None:
            raise NotFound(
                f"Assembly {guid} is deleted; undelete it first "
                f"(POST /api/assemblies/{guid}/undelete), then restore a revision."
            )
        domain = history.domain
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.restore", domain=domain, guid=guid
        )
        history.find(number)  # a revision not kept is a 404 at once
        with self._lock, self._changes.audited(caller, "assembly.restore", domain=domain, guid=guid):
            history = self._history(guid)  # again under the lock: retention may have run since
            if history.current is None:
                raise NotFound(f"Assembly {guid} was deleted meanwhile; undelete it first.")
            old = history.find(number).record
            current = history.current.record.revision
            if expected_revision is not None and expected_revision != current:
                raise Conflict(
                    f"Assembly {guid} was changed by someone else: you looked at revision "
                    f"{expected_revision}, the current revision is {current}. Reload it "
                    "and restore again."
                )
            content = self._contents.read(self._cached(history, history.find(number)))  # intact?
            if self._changes.checks is not None:  # new content for the domain, as an update's
                self._changes.checks.before_store(domain, content)
            now = utc_now()

            def change(record: AssemblyRecord) -> AssemblyRecord:
                restored = next_revision(
                    record, Details.of(old), old.payload, author=caller.username, now=now
                )
                # The vendor note stays the current one: a restore is a local edit.
                return with_note(restored, UpstreamNote.of(record))

            restored = self._changes.update(
                caller,
                "assembly.restore",
                history.current,
                change,
                lambda record: f"revision {number} restored as revision {record.revision}",
                expected_revision=expected_revision,
            )
        return AssemblyView.of(restored, admin=caller.is_admin)

    # -- deleted assemblies ------------------------------------------------------------
    def deleted(self, caller: Caller, query: ListQuery) -> DeletedPage:
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.list")
        found: dict[str, tuple[AssemblyRecord, str, str | None]] = {}
        for record, at, actor in self.cache.queued_deletes():
            found[record.assembly_guid] = (record, at, actor)
        for domain in Domain:
            for gone in self.databases[domain].deletions():
                if gone.assembly_guid not in found and not self.cache.is_cached(gone.assembly_guid):
                    found[gone.assembly_guid] = (gone.record(domain), gone.deleted_at, gone.deleted_by)
        items = [i for i in found.values() if record_matches(i[0], query)]
        if query.sort == "deleted_at":
            items.sort(key=lambda i: (i[1], i[0].assembly_guid), reverse=query.descending)
        else:
            key = SORT_KEYS[query.sort]
            items.sort(key=lambda i: (key(i[0]), i[0].assembly_guid), reverse=query.descending)
        page = [
            DeletedAssembly.of(
                CachedAssembly(record, CacheEntryState(pending_delete=True)),
                admin=caller.is_admin,
                deleted_at=at,
                deleted_by=actor,
            )
            for record, at, actor in items[query.offset : query.offset + query.limit]
        ]
        return DeletedPage.built(items=page, total=len(items))

    def undelete(self, caller: Caller, guid: str) -> AssemblyView:
        """Bring a deleted assembly back at its last revision, as a new revision (policy as
        a create in its domain; 409 if the id is in use again)."""
        self._auditor.require(policy.may_read(caller.actor), caller, "assembly.undelete", guid=guid)
        history = self._history(guid)
        domain = history.domain
        if history.current is not None:
            raise Conflict(
                f"Assembly {guid} is not deleted: the id is in use "
                f"({history.current.record.display_name!r} in {domain.value})."
            )
        self._auditor.require(
            policy.may_write(caller.actor, domain), caller, "assembly.undelete", domain=domain, guid=guid
        )
        with self._lock, self._changes.audited(caller, "assembly.undelete", domain=domain, guid=guid):
            history = self._history(guid)  # again under the lock: retention may have purged it
            if history.current is not None:
                raise Conflict(f"Assembly {guid} is not deleted: the id is in use again.")
            last = history.deleted_record or history.revisions[-1].record
            self._contents.read(CachedAssembly(last, CacheEntryState()))  # intact?
            number = max(last.revision, history.revisions[-1].revision) + 1
            record = next_revision(last, Details.of(last), last.payload, author=caller.username)
            created = self._changes.create(
                caller,
                "assembly.undelete",
                record,
                detail=f"{last.display_name} (revision {number})",
                revision=number,
            )
        return AssemblyView.of(created, admin=caller.is_admin)

    # -- retention ---------------------------------------------------------------------
    def prune(self, caller: Caller, *, keep: int | None = None, trash_days: int | None = None) -> Pruned:
        """Apply retention now (``keep``/``trash_days`` default to the settings)."""
        self._auditor.require(policy.may_prune(caller.actor), caller, "history.prune")
        keep = self.keep if keep is None else keep
        trash_days = self.trash_days if trash_days is None else trash_days
        if keep < 0 or trash_days < 0:
            raise InvalidInput("keep and trash_days must be 0 (no limit) or more.")
        result = self._prune(keep, trash_days)
        self._auditor.record(
            caller,
            "history.prune",
            Outcome.SUCCESS,
            detail=f"keep={result.keep}, trash_days={result.trash_days}, "
            f"revisions_removed={result.revisions_removed}, deleted_purged={result.deleted_purged}",
        )
        return result

    def _prune(self, keep: int, trash_days: int) -> Pruned:
        cutoff = None
        if trash_days > 0:
            cutoff = utc_iso(time.time() - trash_days * 86400)
        with self._lock:  # no restore or undelete meanwhile
            report = self.library.prune(keep=keep or None, deleted_before=cutoff)
        return Pruned.built(
            keep=keep,
            trash_days=trash_days,
            revisions_removed=report.revisions_removed,
            deleted_purged=report.deleted_purged,
            payloads_removed=report.payloads_removed,
        )

    # -- background retention ----------------------------------------------------------
    def start(self) -> None:
        if self.prune_interval <= 0 or self._worker is not None or not (self.keep or self.trash_days):
            return
        self._worker = threading.Thread(target=self._run, name="history-retention", daemon=True)
        self._worker.start()

    def _run(self) -> None:
        while not self._stop.wait(self.prune_interval):
            try:
                result = self._prune(self.keep, self.trash_days)
                if result.revisions_removed or result.deleted_purged:
                    self._auditor.record(
                        ANONYMOUS,
                        "history.prune",
                        Outcome.SUCCESS,
                        user="engine",
                        detail=f"revisions_removed={result.revisions_removed} "
                        f"deleted_purged={result.deleted_purged}",
                    )
            except Exception:  # noqa: BLE001 - retried at the next interval
                log.exception("background retention failed; retried in %.0fs", self.prune_interval)

    def close(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
