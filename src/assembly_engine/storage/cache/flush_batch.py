"""What one flush takes from the cache and writes: the batch, its history rows, the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assembly_engine.domain.types import Domain
from assembly_engine.storage.cache.entry import PendingChange, Row
from assembly_engine.storage.contract.history import DeletionRow, HistoryWrite, RevisionRow
from assembly_engine.storage.contract.models import AssemblyRecord

# A queued change as a flush takes it: (guid, record, row or None for a delete, seq, the
# changes since the last flush whose revisions it writes).
QueuedChange = tuple[str, AssemblyRecord, Row | None, int, tuple[PendingChange, ...]]


def history_write(changes: Sequence[QueuedChange]) -> HistoryWrite:
    """The history rows of queued changes: a revision per upsert, and for an assembly that
    ends the batch deleted, its deletion (when and by whom)."""
    revisions: list[RevisionRow] = []
    deletions: list[DeletionRow] = []
    undeleted: list[str] = []
    for guid, record, row, _, pending in changes:
        for change in pending:
            if change.op == "upsert":
                rec = change.record
                revisions.append(
                    (
                        guid,
                        rec.revision,
                        change.action,
                        change.row_core,
                        rec.payload.payload_guid,
                        change.at,
                        change.metadata_apart,
                    )
                )
        if row is None:
            last = next((p for p in reversed(pending) if p.op == "delete"), None)
            if last is not None:  # the last change: its record is the entry's
                deletions.append((guid, record.revision, last.at, last.actor, last.row_json))
        elif any(p.action == "undelete" for p in pending):
            undeleted.append(guid)
    return HistoryWrite(revisions, deletions, undeleted)


@dataclass(frozen=True)
class FlushResult:
    domain: Domain
    persisted: int
    error: str | None = None  # the domain could not be written at all
    busy: bool = False
    refused: tuple[tuple[str, str], ...] = ()  # (guid, why) of entries left queued alone

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DomainFlushState:
    last_flush: str | None = None
    last_error: str | None = None
    failures: int = 0
    waiting_since: str | None = None  # a flush is waiting on a lock held since then
