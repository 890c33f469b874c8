"""A domain as library-folder files: one assembly's item at the path a write gives it, and
the whole domain for ``sync write`` (Docs/library-as-code.md).

An assembly that came in through sync carries a note in ``metadata.sync`` (its path, form,
and for Tactical RMM its place in the manifest and the manifest's layout), so a write puts
it back where it was read from.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.sync import LeftOut, ManifestShape, Rendered, RenderedItem
from assembly_engine.services.assemblies import library_paths
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.formats import InvalidDocument, library_folder
from assembly_engine.services.assemblies.formats.library_folder import LibraryItem
from assembly_engine.services.assemblies.formats.manifest_layout import UPSTREAM, ManifestLayout
from assembly_engine.services.assemblies.legacy import record_fields
from assembly_engine.services.assemblies.library_paths import Selection
from assembly_engine.services.assemblies.records import require_whole_row
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import EngineError
from assembly_engine.storage.contract.models import AssemblyRecord, CachedAssembly

SYNC_KEY = "sync"


def sync_note(record: AssemblyRecord | CachedAssembly) -> dict[str, Any] | None:
    metadata = record.record.metadata if isinstance(record, CachedAssembly) else record.metadata
    note = metadata.get(SYNC_KEY)
    return note if isinstance(note, dict) else None


class LibraryRender:
    def __init__(self, changes: Changes) -> None:
        self._changes = changes

    def engine_item(self, current: CachedAssembly, form: str) -> LibraryItem | None:
        """``current`` as the files of ``form`` at its own path; None when it cannot be rendered."""
        try:
            require_whole_row(current)
            content = self._changes.contents.read(current)
            item = library_folder.render(record_fields(current.record, content), form)
        except (EngineError, InvalidDocument):
            return None
        note = sync_note(current)
        if note is not None and "text" in note and item.path.endswith(library_paths.WORKFLOW_SUFFIX):
            item = dataclasses.replace(item, main=library_folder.kept_text(item.main, note["text"]))
        return item

    def placed_item(self, current: CachedAssembly, form: str = "library") -> LibraryItem | None:
        """``current`` as the files of ``form`` at the path a write gives it (an assembly
        that came in through sync goes back to its path); None when it cannot be rendered."""
        rendered = self.engine_item(current, form)
        if rendered is None:
            return None
        path = _synced_path(sync_note(current), form)
        return rendered if path is None else dataclasses.replace(rendered, path=path)

    def render(self, caller: Caller, domain: Domain, form: str, selection: Selection) -> Rendered:
        """Every assembly of ``domain`` as the files of ``form`` (for ``sync write``)."""
        self._changes.auditor.require(
            policy.may_export(caller.actor), caller, "assembly.export", domain=domain
        )
        items: list[RenderedItem] = []
        left_out: list[LeftOut] = []
        taken: set[str] = set()
        layouts: dict[ManifestLayout, int] = {}
        for current in sorted(self._changes.cache.items(domain), key=lambda c: _written_order(c, form)):
            rendered = self.placed_item(current, form)
            if rendered is None:
                reason = f"not representable as {form}"
                left_out.append(LeftOut(current.assembly_guid, reason))
                continue
            note = sync_note(current)
            if _synced_path(note, form) is not None and note is not None and "manifest" in note:
                layout = ManifestLayout.from_view(note["manifest"])
                layouts[layout] = layouts.get(layout, 0) + 1
            if rendered.path.casefold() in taken or selection.why_not(rendered.path) is not None:
                reason = (
                    "left out by the selection"
                    if rendered.path.casefold() not in taken
                    else "its path is taken by another assembly"
                )
                left_out.append(LeftOut(current.assembly_guid, reason, rendered.path))
                continue
            taken.add(rendered.path.casefold())
            items.append(item_view(rendered))
        manifest = None
        if form == "tactical-rmm":
            # The layout most of the synced entries came in with (the upstream one if none).
            chosen = max(layouts, key=lambda k: layouts[k]) if layouts else UPSTREAM
            manifest = ManifestShape(chosen.indent, chosen.ensure_ascii, chosen.final_newline)
        # manifest is always set: the answer has shown it (null but for tactical-rmm)
        return Rendered.built(
            domain=domain.value, format=form, items=items, left_out=left_out, manifest=manifest
        )


def _synced_path(note: dict[str, Any] | None, form: str) -> str | None:
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


def item_view(item: LibraryItem) -> RenderedItem:
    return RenderedItem(
        path=item.path,
        content=base64.b64encode(item.main).decode("ascii"),
        sidecar=dict(item.sidecar) if item.sidecar is not None else None,
        files=tuple((f.file_name, base64.b64encode(f.data).decode("ascii")) for f in item.files),
        tactical_rmm=dict(item.entry) if item.entry is not None else None,
    )
