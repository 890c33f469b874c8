"""The JSON shape of an assembly record (Docs/assemblies.md §7, "Record shape")."""

from __future__ import annotations

from typing import Any

from ...persistence.models import CachedAssembly


def record_view(item: CachedAssembly, *, include_payload_guid: bool) -> dict[str, Any]:
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
        "metadata": record.metadata,
        "tags": record.tags,
    }
    if include_payload_guid:
        view["payload_guid"] = record.payload.payload_guid
    return view
