"""The write queue, a flush and the official sync (Docs/assemblies.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.base import Answer, OpenAnswer, PublishedAsObject
from assembly_engine.storage.contract.queue_status import QueueStatus
from assembly_engine.storage.contract.reports import SyncReport


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


@dataclass(frozen=True)
class SignatureCheck(PublishedAsObject):
    """The staging copy's signature after a sync (published as a free-form object)."""

    refused: bool
    signed_by: str | None
    problems: tuple[str, ...]

    def published(self) -> dict[str, Any]:
        return {"refused": self.refused, "signed_by": self.signed_by, "problems": list(self.problems)}


class OfficialSynced(OpenAnswer):
    """The storage's sync report as it gives it (SyncReport.as_dict)."""

    staging_count: int
    runtime_count: int
    payloads_copied: int
    payloads_removed: int
    problems: list[str]
    matches: bool
    signatures: SignatureCheck | None = Field(
        default=None, description="the staging copy's signature: refused, signed_by, problems"
    )
    # Shown since the upgrades came, never listed in the published schema (it allows more
    # fields); listing them would change the document.
    removed_upstream: SkipJsonSchema[int] = 0
    update_available: SkipJsonSchema[int] = 0

    @classmethod
    def of(cls, report: SyncReport) -> OfficialSynced:
        trust = report.trust
        return cls.built(
            staging_count=report.staging_count,
            runtime_count=report.runtime_count,
            payloads_copied=report.payloads_copied,
            payloads_removed=report.payloads_removed,
            problems=list(report.problems),
            matches=report.matches,
            signatures=None
            if trust is None
            else SignatureCheck(trust.refused, trust.signed_by, tuple(trust.problems)),
            removed_upstream=report.removed_upstream,
            update_available=report.update_available,
        )
