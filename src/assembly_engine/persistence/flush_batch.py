"""What one flush takes from the cache and writes: the batch, its history rows, the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from ..types import Domain
from .cache_entry import PendingChange, Row
from .databases import DeletionRow, HistoryWrite, RevisionRow
from .models import AssemblyRecord

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
        for _, op, action, rec, _, at in pending:
            if op == "upsert":
                revisions.append((guid, rec.revision, action, _row_json(rec), rec.payload.payload_guid, at))
        if row is None:
            last = next((p for p in reversed(pending) if p[1] == "delete"), None)
            if last is not None:
                deletions.append((guid, record.revision, last[5], last[4], _row_json(record)))
        elif any(p[2] == "undelete" for p in pending):
            undeleted.append(guid)
    return HistoryWrite(revisions, deletions, undeleted)


def _row_json(record: AssemblyRecord) -> str:
    # orjson: the same compact UTF-8 text as json.dumps, several times faster (flushes hold
    # the domain's write lock while these are made)
    return orjson.dumps(record.to_row()).decode()


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


