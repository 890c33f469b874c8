"""Dataclasses for an assembly record, its payload reference and its cache state.

Records are immutable (frozen, slots) and keep ``metadata``/``tags`` as JSON text, so the
cache can hand out the same object to many readers without any of them changing it:
``record.metadata`` decodes a fresh dict on every access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..types import AssemblyKind, Domain, Integrity, PayloadType

# The assemblies table, in column order. The names are part of the contract (SPEC §2.3).
COLUMNS: tuple[str, ...] = (
    "assembly_guid",
    "display_name",
    "summary",
    "category",
    "assembly_kind",
    "assembly_type",
    "version",
    "revision",
    "metadata_json",
    "tags_json",
    "payload_guid",
    "payload_type",
    "payload_size_bytes",
    "payload_checksum",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)
# Positions in a row read with COLUMNS, for code that works on rows without records.
PAYLOAD_GUID_COLUMN = COLUMNS.index("payload_guid")
PAYLOAD_CHECKSUM_COLUMN = COLUMNS.index("payload_checksum")


def utc_now() -> str:
    """ISO-8601 UTC with a ``Z`` suffix and millisecond precision."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_KINDS = {kind.value: kind for kind in AssemblyKind}
_PAYLOAD_TYPES = {ptype.value: ptype for ptype in PayloadType}


@dataclass(frozen=True, slots=True)
class PayloadRef:
    """Where an assembly's content lives: ``Payloads/<payload_guid>/``."""

    payload_guid: str
    payload_type: PayloadType
    size_bytes: int
    checksum: str  # SHA-256 hex of the payload's manifest (which lists each file's SHA-256)


@dataclass(frozen=True, slots=True)
class AssemblyRecord:
    assembly_guid: str
    domain: Domain
    display_name: str
    assembly_kind: AssemblyKind
    assembly_type: str | None
    payload: PayloadRef
    revision: int = 1
    summary: str | None = None
    category: str | None = None
    version: int | None = None
    metadata_json: str = "{}"
    tags_json: str = "[]"
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    created_by: str | None = None
    updated_by: str | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        value = json.loads(self.metadata_json)
        return value if isinstance(value, dict) else {}

    @property
    def tags(self) -> list[str]:
        value = json.loads(self.tags_json)
        return [str(tag) for tag in value] if isinstance(value, list) else []

    def evolve(self, **changes: Any) -> AssemblyRecord:
        return replace(self, **changes)

    def to_row(self) -> tuple[Any, ...]:
        return (
            self.assembly_guid,
            self.display_name,
            self.summary,
            self.category,
            self.assembly_kind.value,
            self.assembly_type,
            self.version,
            self.revision,
            self.metadata_json,
            self.tags_json,
            self.payload.payload_guid,
            self.payload.payload_type.value,
            self.payload.size_bytes,
            self.payload.checksum,
            self.created_at,
            self.updated_at,
            self.created_by,
            self.updated_by,
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...] | Any, domain: Domain) -> AssemblyRecord:
        # Hydration builds one of these per row (100,000s): enum members come from plain
        # dict lookups, which are several times cheaper than calling the enum class.
        """Build a record from a row in ``COLUMNS`` order (a tuple or sqlite3.Row)."""
        (
            guid, name, summary, category, kind, atype, version, revision, metadata_json,
            tags_json, payload_guid, payload_type, size, checksum, created_at, updated_at,
            created_by, updated_by,
        ) = tuple(row)
        return cls(
            assembly_guid=guid,
            domain=domain,
            display_name=name,
            summary=summary,
            category=category,
            assembly_kind=_KINDS.get(kind) or AssemblyKind(kind),
            assembly_type=atype,
            version=version,
            revision=int(revision),
            metadata_json=metadata_json or "{}",
            tags_json=tags_json or "[]",
            payload=PayloadRef(payload_guid, _PAYLOAD_TYPES.get(payload_type) or PayloadType(payload_type),
                               int(size or 0), checksum or ""),
            created_at=created_at,
            updated_at=updated_at,
            created_by=created_by,
            updated_by=updated_by,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form used by the write-ahead journal."""
        return {"domain": self.domain.value, "row": list(self.to_row())}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AssemblyRecord:
        return cls.from_row(tuple(value["row"]), Domain(value["domain"]))


@dataclass(frozen=True, slots=True)
class CacheEntryState:
    """What the write queue knows about one cached assembly."""

    is_dirty: bool = False
    dirty_since: str | None = None
    last_persisted: str | None = None
    integrity: Integrity = Integrity.OK
    pending_delete: bool = False
    flush_error: str | None = None  # why the last flush could not write this entry


@dataclass(frozen=True, slots=True)
class CachedAssembly:
    """What cache reads return: the record and its queue state (both immutable)."""

    record: AssemblyRecord
    state: CacheEntryState

    @property
    def assembly_guid(self) -> str:
        return self.record.assembly_guid

    @property
    def domain(self) -> Domain:
        return self.record.domain


@dataclass(frozen=True, slots=True)
class PayloadFile:
    """An attached file, kept as raw bytes on disk."""

    file_name: str
    data: bytes
    mime_type: str = "application/octet-stream"

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class PayloadContent:
    """The decoded content of a payload folder.

    ``main`` is the script/playbook text (UTF-8) or the workflow JSON; ``main_file_name``
    is its file name inside the folder (``script.ps1``, ``playbook.yml``, ``workflow.json``).
    """

    payload_type: PayloadType
    main_file_name: str
    main: bytes
    files: tuple[PayloadFile, ...] = ()

    @property
    def text(self) -> str:
        return self.main.decode("utf-8")
