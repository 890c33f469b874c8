"""What the write queue holds right now, as plain values (the API's JSON is the services')."""

from __future__ import annotations

from dataclasses import dataclass

from assembly_engine.domain.types import Domain


@dataclass(frozen=True, slots=True)
class WaitingChange:
    """One assembly whose latest change is not yet in its database."""

    assembly_guid: str
    display_name: str
    deleted: bool
    revision: int
    dirty_since: str | None
    flush_error: str | None  # set while its database refuses this row


@dataclass(frozen=True, slots=True)
class DomainQueue:
    domain: Domain
    changes: tuple[WaitingChange, ...]  # in the order they were made
    last_flush: str | None
    last_error: str | None
    waiting_since: str | None  # a flush has been waiting on the database's lock since

    @property
    def upserts(self) -> int:
        return sum(1 for change in self.changes if not change.deleted)

    @property
    def deletes(self) -> int:
        return sum(1 for change in self.changes if change.deleted)

    @property
    def oldest_dirty_since(self) -> str | None:
        return min((change.dirty_since or "" for change in self.changes), default=None)


@dataclass(frozen=True, slots=True)
class QueueStatus:
    depth: int
    flush_interval: float
    domains: tuple[DomainQueue, ...]  # one per domain, in Domain order
