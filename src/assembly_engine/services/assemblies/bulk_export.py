"""A bulk export: selected assemblies as a zip of the library-folder layout (the files
``assemblies sync write`` writes, rendered by the same code: Docs/library-as-code.md).

The zip is streamed one assembly at a time, so memory stays at one assembly's content
whatever the selection; what was left out, and why, is known before the first byte (so the
answer's headers can say it) and is repeated in a report file inside the zip.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from assembly_engine.services.assemblies import library_paths as layout
from assembly_engine.services.assemblies.changes import Changes
from assembly_engine.services.assemblies.formats.library_folder import LibraryItem
from assembly_engine.services.assemblies.library_render import LibraryRender
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller

# A hidden file: `sync plan` of the unpacked folder skips it ("hidden file or folder").
REPORT_NAME = ".assembly-export.json"


@dataclass(frozen=True)
class ExportEntry:
    assembly_guid: str
    path: str | None = None  # where it is in the zip; None when left out
    reason: str | None = None  # why it was left out


@dataclass(frozen=True)
class ExportPlan:
    """Every requested assembly, in request order: placed at a path, or left out with why."""

    entries: tuple[ExportEntry, ...]

    @property
    def exported(self) -> list[ExportEntry]:
        return [e for e in self.entries if e.path is not None]

    @property
    def left_out(self) -> list[ExportEntry]:
        return [e for e in self.entries if e.path is None]

    def report(self) -> bytes:
        value = {
            "exported": [{"assembly_guid": e.assembly_guid, "path": e.path} for e in self.exported],
            "left_out": [{"assembly_guid": e.assembly_guid, "reason": e.reason} for e in self.left_out],
        }
        return layout.sidecar_bytes(value)


class _Chunks:
    """A write-only file for ZipFile that hands out what was written so far (no seek, so
    the zip carries data descriptors and can be sent as it is made)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _unsafe(path: str) -> bool:
    """A path a zip must not carry: absolute, or climbing out of the folder it is unpacked in."""
    parts = path.split("/")
    return path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts)


class BulkExport:
    def __init__(self, changes: Changes, library: LibraryRender) -> None:
        self._changes = changes
        self._library = library

    def plan(self, caller: Caller, guids: list[str]) -> ExportPlan:
        """Where each assembly goes (audited: one export entry per assembly placed)."""
        auditor = self._changes.auditor
        auditor.require(policy.may_export(caller.actor), caller, "assembly.export")
        taken: set[str] = set()
        entries: list[ExportEntry] = []
        for guid in guids:
            entry = self._place(guid, taken)
            entries.append(entry)
            if entry.path is not None:
                current = self._changes.cache.get(guid)
                auditor.record(
                    caller,
                    "assembly.export",
                    Outcome.SUCCESS,
                    domain=current.domain if current is not None else None,
                    guid=guid,
                    detail=f"in a library zip as {entry.path}",
                )
        return ExportPlan(tuple(entries))

    def _item(self, guid: str) -> LibraryItem | None:
        current = self._changes.cache.get(guid)
        return None if current is None else self._library.placed_item(current)

    def _place(self, guid: str, taken: set[str]) -> ExportEntry:
        if self._changes.cache.get(guid) is None:
            return ExportEntry(guid, reason="no assembly with this id exists (it may have been deleted)")
        item = self._item(guid)
        if item is None:
            return ExportEntry(guid, reason="its content is missing or cannot be written as a library file")
        if _unsafe(item.path):
            return ExportEntry(guid, reason=f"its path {item.path!r} cannot be written safely into a zip")
        if item.path.casefold() in taken:
            return ExportEntry(guid, reason=f"its path {item.path} is taken by another selected assembly")
        taken.add(item.path.casefold())
        return ExportEntry(guid, path=item.path)

    def stream(self, plan: ExportPlan) -> Iterator[bytes]:
        """The zip, one assembly at a time (an assembly gone since the plan is reported)."""
        out = _Chunks()
        stamp = datetime.now(UTC).timetuple()[:6]
        gone: list[ExportEntry] = []
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            def put(name: str, data: bytes) -> None:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)

            for entry in plan.exported:
                item = self._item(entry.assembly_guid)
                if item is None:
                    gone.append(ExportEntry(entry.assembly_guid, reason="deleted while the zip was made"))
                    continue
                path = entry.path or item.path
                put(path, item.main)
                if item.sidecar:
                    put(path + layout.SIDECAR_SUFFIX, layout.sidecar_bytes(item.sidecar))
                for attached in item.files:
                    put(f"{path}{layout.FILES_SUFFIX}/{attached.file_name}", attached.data)
                yield out.take()
            gone_by_guid = {e.assembly_guid: e for e in gone}
            final = ExportPlan(tuple(gone_by_guid.get(e.assembly_guid, e) for e in plan.entries))
            put(REPORT_NAME, final.report())
        yield out.take()


def export_name(count: int) -> str:
    """The download's file name."""
    return f"assemblies-{count}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.zip"


def report_json(plan: ExportPlan) -> str:
    """The left-out items for a header: ASCII JSON, the first 20 (the report file has all)."""
    shown = [{"assembly_guid": e.assembly_guid, "reason": e.reason} for e in plan.left_out[:20]]
    return json.dumps(shown, ensure_ascii=True, separators=(",", ":"))
