"""One queued change as every write queue holds it (the SQLite journal, the PostgreSQL queue)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from assembly_engine.domain.clock import utc_now
from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.contract.models import AssemblyRecord


class Sequencer(Protocol):
    """Hands out the sequence numbers of new entries (every WriteJournal does)."""

    def next_seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    op: str  # "upsert" | "delete"
    record: AssemblyRecord  # for a delete: the record as it was when deleted
    created_at: str
    # Made durable with the change: what the layer above must record once the change is
    # durable (its audit entry), so a crash in between can be made good at the next start.
    note: str | None = None
    # What made the change, kept as its revision's ``action`` (create, update, restore, …;
    # None in entries written before version history), and who made it (for a delete,
    # whose record does not say who deleted it).
    action: str | None = None
    actor: str | None = None
    # The live revision the change was planned on (None: the assembly was absent or
    # deleted). Not stored: a queue shared by several nodes checks it when it commits.
    base_revision: int | None = None

    @property
    def assembly_guid(self) -> str:
        return self.record.assembly_guid

    @property
    def revision_action(self) -> str:
        """The action, or for an entry from before history the likeliest one."""
        if self.action:
            return self.action
        if self.op == "delete":
            return "delete"
        return "create" if self.record.revision == 1 else "update"


class JournalClosed(Unavailable):
    """The write queue was closed: the engine is shutting down."""

    pass


def new_entry(
    journal: Sequencer,
    op: str,
    record: AssemblyRecord,
    note: str | None = None,
    *,
    action: str | None = None,
    actor: str | None = None,
    base_revision: int | None = None,
) -> JournalEntry:
    return JournalEntry(journal.next_seq(), op, record, utc_now(), note, action, actor, base_revision)
