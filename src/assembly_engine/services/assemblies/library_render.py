"""A domain as library-folder items (``sync write``, Docs/library-as-code.md), and the sync
note every synced record carries in ``metadata.sync``."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.services.assemblies.formats.library_folder import LibraryItem
from assembly_engine.services.assemblies.formats.manifest_layout import UPSTREAM, ManifestLayout
from assembly_engine.services.assemblies.library_paths import Selection
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly

SYNC_KEY = "sync"


def sync_note(record: AssemblyRecord | CachedAssembly) -> dict[str, Any] | None:
    metadata = record.record.metadata if isinstance(record, CachedAssembly) else record.metadata
    note = metadata.get(SYNC_KEY)
    return note if isinstance(note, dict) else None


def render_domain(
    records: list[CachedAssembly],
    placed_item: Callable[[CachedAssembly, str], LibraryItem | None],
    domain: Domain,
    form: str,
    selection: Selection,
) -> dict[str, Any]:
    """``records`` as the files of ``form``, each at the path ``placed_item`` gives it."""
    items: list[dict[str, Any]] = []
    left_out: list[dict[str, Any]] = []
    taken: set[str] = set()
    layouts: dict[ManifestLayout, int] = {}
    for current in sorted(records, key=lambda c: _written_order(c, form)):
        rendered = placed_item(current, form)
        if rendered is None:
            left_out.append(
                {"assembly_guid": current.assembly_guid, "reason": f"not representable as {form}"}
            )
            continue
        note = sync_note(current)
        if synced_path(note, form) is not None and note is not None and "manifest" in note:
            layout = ManifestLayout.from_view(note["manifest"])
            layouts[layout] = layouts.get(layout, 0) + 1
        if rendered.path.casefold() in taken or selection.why_not(rendered.path) is not None:
            reason = (
                "left out by the selection"
                if rendered.path.casefold() not in taken
                else "its path is taken by another assembly"
            )
            left_out.append({"assembly_guid": current.assembly_guid, "path": rendered.path, "reason": reason})
            continue
        taken.add(rendered.path.casefold())
        items.append(item_view(rendered))
    answer: dict[str, Any] = {
        "domain": domain.value,
        "format": form,
        "items": items,
        "left_out": left_out,
    }
    if form == "tactical-rmm":
        # The layout most of the synced entries came in with (the upstream one if none).
        chosen = max(layouts, key=lambda k: layouts[k]) if layouts else UPSTREAM
        answer["manifest"] = chosen.view()
    return answer


def synced_path(note: dict[str, Any] | None, form: str) -> str | None:
    """The path an assembly came in at through sync in ``form``, where a write puts it back."""
    if note is not None and isinstance(note.get("path"), str) and note.get("form", "library") == form:
        return str(note["path"])
    return None


def _written_order(current: CachedAssembly, form: str) -> tuple[int, str, str, str]:
    """Synced Tactical RMM entries first, in their manifest's order; then by category and name."""
    note = sync_note(current) if form == "tactical-rmm" else None
    position = note.get("position") if note is not None else None
    rank = position if isinstance(position, int) and not isinstance(position, bool) else 1 << 62
    record = current.record
    return rank, record.category or "", record.display_name, current.assembly_guid


def item_view(item: LibraryItem) -> dict[str, Any]:
    return {
        "path": item.path,
        "content": base64.b64encode(item.main).decode("ascii"),
        "sidecar": dict(item.sidecar) if item.sidecar is not None else None,
        "files": [
            {"file_name": f.file_name, "data": base64.b64encode(f.data).decode("ascii")} for f in item.files
        ],
        "tactical_rmm": dict(item.entry) if item.entry is not None else None,
    }
