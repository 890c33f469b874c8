"""The JSON shapes of an assembly record and of the write queue (Docs/assemblies.md §7, "Record shape")."""

from __future__ import annotations

from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import CachedAssembly
from assembly_engine.storage.contract.queue_status import QueueStatus
from assembly_engine.storage.contract.signatures import OfficialTrust
from assembly_engine.storage.contract.upstream import UpstreamNote, without_note


def record_view(
    item: CachedAssembly,
    *,
    include_payload_guid: bool,
    include_metadata: bool = True,
    trust: OfficialTrust | None = None,
) -> dict[str, Any]:
    """An assembly's columns; list items leave ``metadata`` out (include_metadata=False):
    it is free-form and can be large, and only the detail shows it. ``trust`` (the official
    library's signature state) adds ``signature`` and, for an assembly the vendor
    deprecated, ``vendor`` to official records; every official record shows ``upstream``."""
    record, state = item.record, item.state
    view: dict[str, Any] = {
        "assembly_guid": record.assembly_guid,
        "display_name": record.display_name,
        "summary": record.summary,
        "category": record.category,
        "assembly_kind": record.assembly_kind.value,
        "assembly_type": record.assembly_type,
        "version": record.version,
        "revision": record.revision,
        "source": record.domain.value,
        "is_dirty": state.is_dirty,
        "dirty_since": state.dirty_since,
        "last_persisted": state.last_persisted,
        "integrity": state.integrity.value,
        "flush_error": state.flush_error,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "created_by": record.created_by,
        "updated_by": record.updated_by,
        "tags": record.tags,
    }
    note = UpstreamNote.of(record) if record.domain is Domain.OFFICIAL else None
    if include_metadata:  # an official record's vendor note is the engine's, shown as ``upstream``
        view["metadata"] = (
            without_note(record.metadata) if record.domain is Domain.OFFICIAL else record.metadata
        )
    if include_payload_guid:
        view["payload_guid"] = record.payload.payload_guid
    if trust is not None and record.domain is Domain.OFFICIAL:
        view["signature"] = trust.status_of(record).value
        entry = trust.entries.get(record.assembly_guid)
        if entry is not None and entry.status == "deprecated":
            view["vendor"] = {"status": entry.status, "note": entry.note, "replaced_by": entry.replaced_by}
    if record.domain is Domain.OFFICIAL:
        view["upstream"] = (note or UpstreamNote()).view()
    return view


def queue_view(status: QueueStatus) -> dict[str, Any]:
    domains: dict[str, Any] = {}
    for queue in status.domains:
        domains[queue.domain.value] = {
            "pending": len(queue.changes),
            "upserts": queue.upserts,
            "deletes": queue.deletes,
            "oldest_dirty_since": queue.oldest_dirty_since,
            "last_flush": queue.last_flush,
            "last_error": (
                f"waiting on a lock since {queue.waiting_since}" if queue.waiting_since else queue.last_error
            ),
            "waiting_since": queue.waiting_since,
            "items": [
                {
                    "assembly_guid": change.assembly_guid,
                    "display_name": change.display_name,
                    "operation": "delete" if change.deleted else "upsert",
                    "revision": change.revision,
                    "dirty_since": change.dirty_since,
                    "flush_error": change.flush_error,
                }
                for change in queue.changes
            ],
        }
    return {"depth": status.depth, "flush_interval": status.flush_interval, "domains": domains}
