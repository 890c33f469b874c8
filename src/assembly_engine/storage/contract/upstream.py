"""What an official record remembers of its vendor (Docs/official-library.md, "Upgrades").

The note lives in the record's own metadata (``metadata.upstream``), so it travels with the
record through the journal, both backends, the cluster's change stream and history, and a
change of it is as durable and atomic as any edit. The engine owns the note: updates keep
the stored one, clones and exports leave it out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from assembly_engine.storage.contract.models import AssemblyRecord, decode_stored_json

UPSTREAM_KEY = "upstream"


class UpstreamState(StrEnum):
    CURRENT = "current"  # nothing to decide (the local copy may still be edited here)
    UPDATE_AVAILABLE = "update_available"  # the vendor changed it and so did someone here
    REMOVED_UPSTREAM = "removed_upstream"  # the vendor no longer ships it; kept here


class UpstreamAction(StrEnum):
    TAKE_UPSTREAM = "take_upstream"
    KEEP_LOCAL = "keep_local"


def vendor_checksum(record: AssemblyRecord) -> str:
    """The identity of what a record says, leaving out what every copy stamps for itself
    (revision, times, authors, payload folder, this note): a vendor rebuild that only
    restamps an assembly does not count as a change of it."""
    metadata = {k: v for k, v in record.metadata.items() if k != UPSTREAM_KEY}
    content = [
        record.display_name,
        record.summary,
        record.category,
        record.assembly_kind.value,
        record.assembly_type,
        record.version,
        metadata,
        record.tags,
        record.payload.checksum,
    ]
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class UpstreamNote:
    """``base``: the vendor checksum last taken; ``base_revision``: the revision holding that
    vendor version (None when history does not know it). With ``update_available``,
    ``revision`` is the revision that holds the new vendor version and ``checksum`` its
    vendor checksum."""

    base: str | None = None
    base_revision: int | None = None
    state: UpstreamState = UpstreamState.CURRENT
    revision: int | None = None
    checksum: str | None = None

    @classmethod
    def of(cls, record: AssemblyRecord) -> UpstreamNote | None:
        return cls._of_metadata(record.metadata)

    @staticmethod
    def may_wait(metadata_json: str) -> bool:
        """Whether a record's ``metadata_json`` can hold a note that waits for an admin's
        choice: health counts those among every official record, and most texts rule it
        out without being decoded (only a \\u escape could spell a state otherwise)."""
        return (
            UpstreamState.UPDATE_AVAILABLE.value in metadata_json
            or UpstreamState.REMOVED_UPSTREAM.value in metadata_json
            or "\\u" in metadata_json
        )

    @classmethod
    def of_metadata_json(cls, text: str) -> UpstreamNote | None:
        value, _ = decode_stored_json(text)
        return cls._of_metadata(value) if isinstance(value, dict) else None

    @classmethod
    def _of_metadata(cls, metadata: dict[str, Any]) -> UpstreamNote | None:
        raw = metadata.get(UPSTREAM_KEY)
        if not isinstance(raw, dict):
            return None
        try:
            state = UpstreamState(raw.get("state", UpstreamState.CURRENT.value))
        except ValueError:
            state = UpstreamState.CURRENT
        return cls(
            base=_text(raw.get("base")),
            base_revision=_number(raw.get("base_revision")),
            state=state,
            revision=_number(raw.get("revision")),
            checksum=_text(raw.get("checksum")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "base_revision": self.base_revision,
            "state": self.state.value,
            "revision": self.revision,
            "checksum": self.checksum,
        }

    def view(self) -> dict[str, Any]:
        """The record's ``upstream`` in the API."""
        return {"state": self.state.value, "revision": self.revision, "base_revision": self.base_revision}


def with_note(record: AssemblyRecord, note: UpstreamNote | None) -> AssemblyRecord:
    """``record`` carrying ``note`` (or none)."""
    metadata = record.metadata
    if note is None:
        metadata.pop(UPSTREAM_KEY, None)
    else:
        metadata[UPSTREAM_KEY] = note.to_json()
    return record.evolve(metadata_json=json.dumps(metadata, ensure_ascii=False))


def without_note(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k != UPSTREAM_KEY}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
