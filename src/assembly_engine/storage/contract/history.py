"""What a flush writes to the history tables, alike for every backend."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import AssemblyRecord


def _record(row_json: str, domain: Domain) -> AssemblyRecord:
    return AssemblyRecord.from_row(tuple(json.loads(row_json)), domain)


class StoredRevision(NamedTuple):
    """One kept revision of an assembly, as a domain store returns it."""

    revision: int
    action: str
    row_json: str  # the record's row as the history keeps it
    recorded_at: str

    def record(self, domain: Domain) -> AssemblyRecord:
        return _record(self.row_json, domain)


class StoredDeletion(NamedTuple):
    """A deleted assembly, as a domain store keeps it for undelete."""

    assembly_guid: str
    revision: int
    deleted_at: str
    deleted_by: str | None
    row_json: str  # the record as it was when deleted

    def record(self, domain: Domain) -> AssemblyRecord:
        return _record(self.row_json, domain)


class RevisionRef(NamedTuple):
    """Which payload one kept revision points at (what verify and retention look at)."""

    assembly_guid: str
    revision: int
    payload_guid: str
    row_json: str

    def record(self, domain: Domain) -> AssemblyRecord:
        return _record(self.row_json, domain)


# One revision as the flush writes it: (assembly_guid, revision, action, row_json,
# payload_guid, recorded_at), or with a seventh element, the row's large metadata kept
# apart: then row_json already leaves it out (null), as the cache's pending changes keep
# it, so writing many revisions never makes a copy of the text per revision (issue 23, 5).
# A deletion: (assembly_guid, revision, deleted_at, deleted_by, row_json).
RevisionRow = tuple[str, int, str, str, str, str] | tuple[str, int, str, str, str, str, str | None]


DeletionRow = tuple[str, int, str, str | None, str]


@dataclass(frozen=True)
class HistoryWrite:
    """What a flush writes to the history tables with the rows, in the same transaction."""

    revisions: Sequence[RevisionRow] = ()
    deletions: Sequence[DeletionRow] = ()
    undeleted: Sequence[str] = ()  # GUIDs live again: their deletion row goes

    def batches(
        self, insert_revision: str, forget_deletion: str, insert_deletion: str
    ) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
        """The (statement, rows) each backend runs, given its own three statements: a
        deletion is forgotten before new ones are recorded, so a GUID deleted again keeps
        its new deletion row."""
        for sql, rows in (
            (insert_revision, [tuple(r) for r in self.revisions]),
            (forget_deletion, [(g,) for g in self.undeleted]),
            (insert_deletion, [tuple(d) for d in self.deletions]),
        ):
            if rows:
                yield sql, rows
