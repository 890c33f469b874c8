"""The write queue, a flush and the official sync (Docs/assemblies.md §6)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.base import Answer, DictAnswer
from assembly_engine.storage.contract.queue_status import QueueStatus


class QueuedChange(Answer):
    assembly_guid: str
    display_name: str
    operation: Literal["upsert", "delete"]
    revision: int
    dirty_since: str | None
    flush_error: str | None


class DomainQueue(Answer):
    pending: int
    upserts: int
    deletes: int
    oldest_dirty_since: str | None
    last_flush: str | None
    last_error: str | None
    waiting_since: str | None
    items: list[QueuedChange]


class QueueState(Answer):
    """Pending writes per domain (Docs/assemblies.md §6)."""

    depth: int
    flush_interval: float
    domains: dict[Domain, DomainQueue]

    @classmethod
    def of(cls, status: QueueStatus) -> QueueState:
        domains = {
            queue.domain: DomainQueue.built(
                pending=len(queue.changes),
                upserts=queue.upserts,
                deletes=queue.deletes,
                oldest_dirty_since=queue.oldest_dirty_since,
                last_flush=queue.last_flush,
                last_error=(
                    f"waiting on a lock since {queue.waiting_since}"
                    if queue.waiting_since
                    else queue.last_error
                ),
                waiting_since=queue.waiting_since,
                items=[
                    QueuedChange.built(
                        assembly_guid=change.assembly_guid,
                        display_name=change.display_name,
                        operation="delete" if change.deleted else "upsert",
                        revision=change.revision,
                        dirty_since=change.dirty_since,
                        flush_error=change.flush_error,
                    )
                    for change in queue.changes
                ],
            )
            for queue in status.domains
        }
        return cls.built(depth=status.depth, flush_interval=status.flush_interval, domains=domains)


class RefusedChange(Answer):
    assembly_guid: str
    error: str


class DomainFlush(Answer):
    persisted: int
    error: str | None
    refused: list[RefusedChange]


class Flushed(Answer):
    results: dict[Domain, DomainFlush]
    queue: QueueState


class OfficialSynced(DictAnswer):
    """The storage's sync report as it gives it (SyncReport.as_dict)."""

    staging_count: int
    runtime_count: int
    payloads_copied: int
    payloads_removed: int
    problems: list[str]
    matches: bool
    signatures: dict[str, Any] | None = Field(
        default=None, description="the staging copy's signature: refused, signed_by, problems"
    )
