"""An engine that started read-only because its disk was full (Docs/operations: "Boot on a
full disk"): why, and whether its reads hold every acknowledged change.

The engine stays read-only until it is restarted with space again: writing again by
itself would need every start-up step it skipped (schema, journal replay into the
databases, official sync) to run under live traffic, so a restart is the one way back.
"""

from __future__ import annotations

from dataclasses import dataclass

from assembly_engine.storage.contract.errors import StorageFailed


class DiskFullAtStart(StorageFailed):
    """The start failed because the home's disk is full; ``cause`` says which disk."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass(frozen=True)
class ReadOnlyBoot:
    """Why the engine serves read-only, and what it could read of the journal."""

    cause: str  # the full-disk sentence of storage/files/disk_space.py
    # The journal's queued changes are served when it could be read; when it could not,
    # reads miss them (they stay in the journal for the next start) and health says so.
    journal_problem: str | None = None
    queued_changes: int = 0

    @property
    def complete(self) -> bool:
        """Whether reads show every acknowledged change (the journal was read)."""
        return self.journal_problem is None

    def summary(self) -> str:
        """The one line health and the log show."""
        if self.complete:
            journal = f"{self.queued_changes} queued change(s) from the journal are served and kept"
        else:
            journal = (
                f"the journal could not be read ({self.journal_problem}): reads miss the changes "
                "still queued in it, which stay there for the next start"
            )
        return f"disk full: read-only until restarted with free space; {journal}; {self.cause}"

    def refusal(self) -> StorageFailed:
        """What every write answers (503 storage_error)."""
        return StorageFailed(
            "The engine started read-only because its disk is full; nothing was changed. "
            "Free some space and restart the engine to write again."
        )
