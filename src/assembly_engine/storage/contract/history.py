"""What a flush writes to the history tables, alike for every backend."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# One revision as the flush writes it: (assembly_guid, revision, action, row_json,
# payload_guid, recorded_at); a deletion: (assembly_guid, revision, deleted_at, deleted_by,
# row_json).
RevisionRow = tuple[str, int, str, str, str, str]


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
