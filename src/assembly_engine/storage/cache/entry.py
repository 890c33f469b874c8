"""One assembly as the cache holds it: its record, its queue state, its reader snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from assembly_engine.domain.types import Integrity, is_valid_payload_guid
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly, CacheEntryState
from assembly_engine.storage.contract.shared_metadata import METADATA_COLUMN, SHARED_FROM_BYTES, join_row

Row = tuple[Any, ...]  # a database row in COLUMNS order


def load_integrity(payload_guid: str, present: bool) -> Integrity:
    """The cheap check made when loading (is the folder there?); reads verify checksums."""
    if present:
        return Integrity.OK
    return Integrity.MISSING if is_valid_payload_guid(payload_guid) else Integrity.CORRUPT


class PendingChange(NamedTuple):
    """A change an entry made since its last flush, kept until that flush writes its
    revision (or, for a delete, its deletion row)."""

    seq: int
    op: str  # "upsert" or "delete"
    # What made it (create, update, restore, …; "baseline" for the state loaded from the
    # database, written only if the history lacks it).
    action: str
    record: AssemblyRecord
    actor: str | None
    at: str
    # The record's row as JSON, made with the change like ``row``, with large metadata
    # (SHARED_FROM_BYTES or more) left out (null): that text stays in ``record`` alone,
    # one string shared by every change that keeps it, so changes waiting for a flush hold
    # large metadata once, not once per change (issue 23, 5), and the flush writes their
    # revisions from this form (``metadata_apart``). ``row_json`` is the whole row.
    row_core: str

    @property
    def metadata_apart(self) -> str | None:
        """The large metadata ``row_core`` leaves out (None when the row is whole)."""
        metadata = self.record.metadata_json
        return metadata if _shared(metadata) else None

    @property
    def row_json(self) -> str:
        """The record's whole row as the history keeps it."""
        metadata = self.metadata_apart
        return self.row_core if metadata is None else join_row(self.row_core, metadata)


def row_json(row: Row) -> str:
    # orjson: the same compact UTF-8 text as json.dumps, several times faster
    return orjson.dumps(row).decode()


def _shared(metadata: object) -> bool:
    return isinstance(metadata, str) and len(metadata) >= SHARED_FROM_BYTES


def row_core(row: Row) -> str:
    """``row`` as JSON with large metadata left out (PendingChange.row_core)."""
    if not _shared(row[METADATA_COLUMN]):
        return row_json(row)
    core = list(row)
    core[METADATA_COLUMN] = None
    return row_json(tuple(core))


@dataclass(slots=True)
class CacheEntry:
    record: AssemblyRecord
    deleted: bool = False
    dirty: bool = False
    dirty_since: str | None = None
    last_persisted: str | None = None
    integrity: Integrity = Integrity.OK
    seq: int = 0  # journal sequence of the last change applied (0: as loaded)
    flush_error: str | None = None  # set while its database refuses this entry's row
    # Every change since the last flush, oldest first: the flush writes one revision each.
    pending: list[PendingChange] = field(default_factory=list)
    # The database row of a queued upsert, built when the change is made so a flush (which
    # holds the domain's write lock) only writes.
    row: Row | None = field(default=None, repr=False, compare=False)
    # The immutable snapshot readers get, built once and reused until a field changes (lists
    # of 100,000s of entries then cost no allocation per entry).
    _snap: CachedAssembly | None = field(default=None, repr=False, compare=False)

    # Fields are changed only by the methods below, and each drops the snapshot once: that
    # is what keeps a snapshot from going stale (never assign a field from outside).

    def apply(self, entry: JournalEntry) -> None:
        """One queued change to this assembly: its record becomes the current one."""
        record = entry.record
        metadata = self.record.metadata_json
        if record.metadata_json is not metadata and _shared(metadata) and record.metadata_json == metadata:
            # An update that names the metadata makes a new string of the same text: keep
            # the one already held (in the record and every pending change).
            record = record.evolve(metadata_json=metadata)
        self.deleted = entry.op == "delete"
        row = record.to_row()
        self.pending.append(
            PendingChange(
                entry.seq,
                entry.op,
                entry.revision_action,
                record,
                entry.actor if self.deleted else record.updated_by,
                entry.created_at,
                row_core(row),
            )
        )
        self.record = record
        self.row = None if self.deleted else row
        if not self.dirty:
            self.dirty = True
            self.dirty_since = entry.created_at
        self.seq = entry.seq
        self.integrity = Integrity.OK
        self._snap = None

    def set_integrity(self, status: Integrity) -> None:
        self.integrity = status
        self._snap = None

    def refuse(self, error: str) -> None:
        """Its database refused this entry's row; it stays queued."""
        self.flush_error = error
        self._snap = None

    def mark_persisted(self, when: str, seq: int) -> None:
        """The change up to ``seq`` (and its revisions) is in the database. The entry is
        clean unless changed since ``seq``."""
        self.last_persisted = when
        if self.pending:
            self.pending = [p for p in self.pending if p.seq > seq]
        if self.seq == seq:
            self.dirty = False
            self.dirty_since = None
            self.row = None
            self.flush_error = None
        self._snap = None

    def snapshot(self) -> CachedAssembly:
        snap = self._snap
        if snap is None:
            snap = CachedAssembly(
                self.record,
                CacheEntryState(
                    is_dirty=self.dirty,
                    dirty_since=self.dirty_since,
                    last_persisted=self.last_persisted,
                    integrity=self.integrity,
                    pending_delete=self.deleted,
                    flush_error=self.flush_error,
                ),
            )
            self._snap = snap
        return snap


def apply_journal_entry(entries: dict[str, CacheEntry], entry: JournalEntry) -> CacheEntry:
    """Apply one journal entry to the entry map (shared by mutations and replay)."""
    record = entry.record
    current = entries.get(record.assembly_guid)
    if current is None:
        current = CacheEntry(record)
    elif current.seq == 0 and not current.dirty and not current.pending:
        # First change of a record as loaded: its state goes into the history too (written
        # only if the history lacks it, e.g. a database from before history), so the folder
        # it points at stays referenced.
        loaded = current.record
        current.pending.append(
            PendingChange(
                entry.seq,
                "upsert",
                "baseline",
                loaded,
                loaded.updated_by,
                loaded.updated_at,
                row_core(loaded.to_row()),
            )
        )
    current.apply(entry)
    entries[record.assembly_guid] = current
    return current
