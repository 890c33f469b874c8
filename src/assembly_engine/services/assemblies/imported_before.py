"""Whether a document was imported into a domain before. An import still creates a new
assembly; its answer names the earlier one so the CLI can point to ``assemblies sync``.

Two matches, each against the domain's records (by import and by sync alike):

* a Tactical RMM entry: the same ``guid`` (kept in ``metadata.legacy.tactical_rmm``);
* a plain script file: the same path below the imported folder (``metadata.legacy_format``'s
  ``folder`` and ``file_name``) *and* the same content (the payload checksum). Both, because
  a path alone (``Windows/cleanup.ps1``) is common to unrelated libraries and content alone
  is common to copies kept on purpose; a file edited since, in the folder or in the
  engine, is not matched (the hint is advice, never a refusal).

List items carry no metadata, so the match is made here, and only for batches that hold
such a document (an import of other documents pays nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assembly_engine.storage.contract.errors import EngineError
from assembly_engine.storage.contract.models import CachedAssembly, PayloadContent
from assembly_engine.storage.contract.payload_manifest import image_of

PLAIN_SCRIPT = "plain-script"
# image_of only uses the guid to name the payload in a refusal; new content has none yet.
_NO_PAYLOAD = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class PlainKey:
    """A plain script file as an import records it: where it was and what it held."""

    folder: str
    file_name: str
    checksum: str


def tactical_guid(metadata: Mapping[str, Any]) -> str | None:
    legacy = metadata.get("legacy")
    entry = legacy.get("tactical_rmm") if isinstance(legacy, dict) else None
    guid = entry.get("guid") if isinstance(entry, dict) else None
    return guid.lower() if isinstance(guid, str) and guid else None


def plain_key(metadata: Mapping[str, Any], checksum: str) -> PlainKey | None:
    """The key of a plain script import, or None for anything else."""
    notes = metadata.get("legacy_format")
    if not isinstance(notes, dict) or notes.get("source_format") != PLAIN_SCRIPT:
        return None
    file_name, folder = notes.get("file_name"), notes.get("folder") or ""
    if not isinstance(file_name, str) or not isinstance(folder, str):
        return None
    return PlainKey(folder, file_name, checksum)


def content_checksum(content: PayloadContent) -> str | None:
    """The payload checksum this content gets when written (None if it cannot be stored)."""
    try:
        return image_of(content, _NO_PAYLOAD).checksum
    except (EngineError, ValueError):
        return None


@dataclass
class Earlier:
    """What the domain's records say was imported before."""

    by_guid: dict[str, str]
    by_plain: dict[PlainKey, str]


def earlier_imports(records: Iterable[CachedAssembly], *, guids: bool, plain: bool) -> Earlier:
    """Tactical RMM guid / plain script key -> the assembly_guid of a record holding it."""
    found = Earlier({}, {})
    for cached in records:
        metadata = cached.record.metadata
        guid = tactical_guid(metadata) if guids else None
        if guid is not None:
            found.by_guid.setdefault(guid, cached.assembly_guid)
        key = plain_key(metadata, cached.record.payload.checksum) if plain else None
        if key is not None:
            found.by_plain.setdefault(key, cached.assembly_guid)
    return found
