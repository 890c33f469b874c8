"""Dataclasses for an assembly record, its payload reference and its cache state.

Records are immutable (frozen, slots) and keep ``metadata``/``tags`` as JSON text, so the
cache can hand out the same object to many readers without any of them changing it:
``record.metadata`` decodes a fresh dict on every access.

Rows are data from disk, and anyone with the sqlite3 shell can put anything into them, so
``from_row`` never trusts a column's type: a value of the wrong type is replaced by a safe
one and noted in ``load_problem``, and ``metadata``/``tags`` that do not decode read as
empty. Such a record still lists; ``row_problem`` says what is wrong, so the service can
refuse to show or rewrite it as if it were whole.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from assembly_engine.domain.clock import utc_now
from assembly_engine.domain.types import AssemblyKind, Domain, Integrity, PayloadType

# The assemblies table, in column order. The names are part of the contract (Docs/assemblies.md §3.1).
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
REVISION_COLUMN = COLUMNS.index("revision")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_KINDS = {kind.value: kind for kind in AssemblyKind}
_PAYLOAD_TYPES = {ptype.value: ptype for ptype in PayloadType}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def decode_stored_json(text: str) -> tuple[Any, str | None]:
    """Decode a JSON column: (value, None), or (None, why it cannot be read).

    orjson, not json: it refuses NaN and absurd nesting instead of recursing, and reads an
    integer beyond 64 bits as a float, so whatever it returns can always be answered.
    """
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as exc:
        return None, str(exc)


class _RowReader:
    """Turns the columns of one row into the types a record needs, noting each repair."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, column: str, value: Any, default: str | None = None) -> str | None:
        if value is None:
            return default
        if type(value) is str:
            return value
        self.problems.append(f"{column} is stored as {type(value).__name__}, not text")
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return str(value)

    def integer(self, column: str, value: Any, default: int | None) -> int | None:
        if value is None:
            return default
        if type(value) is int and _INT64_MIN <= value <= _INT64_MAX:
            return value
        if (
            isinstance(value, float)
            and math.isfinite(value)
            and value.is_integer()
            and _INT64_MIN <= value <= _INT64_MAX
        ):
            return int(value)
        shown = repr(value) if len(repr(value)) <= 40 else type(value).__name__
        self.problems.append(f"{column} {shown} is not a whole number within signed 64-bit")
        return default


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
    # Not a column: what from_row had to repair in the stored row (None for a whole row).
    load_problem: str | None = field(default=None, compare=False)

    @property
    def metadata(self) -> dict[str, Any]:
        value, _ = decode_stored_json(self.metadata_json)
        return value if isinstance(value, dict) else {}

    @property
    def tags(self) -> list[str]:
        value, _ = decode_stored_json(self.tags_json)
        return [str(tag) for tag in value] if isinstance(value, list) else []

    @property
    def row_problem(self) -> str | None:
        """Why the stored row cannot be shown whole (odd types, unreadable JSON), or None."""
        problems = [self.load_problem] if self.load_problem else []
        for column, text, kind in (
            ("metadata_json", self.metadata_json, dict),
            ("tags_json", self.tags_json, list),
        ):
            value, error = decode_stored_json(text)
            if error is not None:
                problems.append(f"{column} is not valid JSON ({error})")
            elif not isinstance(value, kind):
                problems.append(f"{column} is not a JSON {'object' if kind is dict else 'list'}")
        return "; ".join(problems) or None

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
        values = tuple(row)
        (
            guid,
            name,
            summary,
            category,
            kind,
            atype,
            version,
            revision,
            metadata_json,
            tags_json,
            payload_guid,
            payload_type,
            size,
            checksum,
            created_at,
            updated_at,
            created_by,
            updated_by,
        ) = values
        if not _plain_row(values):
            return cls._from_odd_row(values, domain)
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
            payload=PayloadRef(
                payload_guid,
                _PAYLOAD_TYPES.get(payload_type) or PayloadType(payload_type),
                int(size or 0),
                checksum or "",
            ),
            created_at=created_at,
            updated_at=updated_at,
            created_by=created_by,
            updated_by=updated_by,
        )

    @classmethod
    def _from_odd_row(cls, values: tuple[Any, ...], domain: Domain) -> AssemblyRecord:
        """The slow path of from_row: every column checked, every repair noted."""
        read = _RowReader()
        column = dict(zip(COLUMNS, values, strict=True))
        kind_text = read.text("assembly_kind", column["assembly_kind"], "")
        kind = _KINDS.get(kind_text or "")
        if kind is None:
            read.problems.append(f"assembly_kind {kind_text!r} is not one of {', '.join(_KINDS)}")
            kind = AssemblyKind.SCRIPT
        type_text = read.text("payload_type", column["payload_type"], "")
        payload_type = _PAYLOAD_TYPES.get(type_text or "")
        if payload_type is None:
            read.problems.append(f"payload_type {type_text!r} is not one of {', '.join(_PAYLOAD_TYPES)}")
            payload_type = PayloadType.SCRIPT
        record = cls(
            assembly_guid=read.text("assembly_guid", column["assembly_guid"], "") or "",
            domain=domain,
            display_name=read.text("display_name", column["display_name"], "") or "",
            summary=read.text("summary", column["summary"]),
            category=read.text("category", column["category"]),
            assembly_kind=kind,
            assembly_type=read.text("assembly_type", column["assembly_type"]),
            version=read.integer("version", column["version"], None),
            revision=read.integer("revision", column["revision"], 1) or 1,
            metadata_json=read.text("metadata_json", column["metadata_json"], "{}") or "{}",
            tags_json=read.text("tags_json", column["tags_json"], "[]") or "[]",
            payload=PayloadRef(
                read.text("payload_guid", column["payload_guid"], "") or "",
                payload_type,
                read.integer("payload_size_bytes", column["payload_size_bytes"], 0) or 0,
                read.text("payload_checksum", column["payload_checksum"], "") or "",
            ),
            created_at=read.text("created_at", column["created_at"], "") or "",
            updated_at=read.text("updated_at", column["updated_at"], "") or "",
            created_by=read.text("created_by", column["created_by"]),
            updated_by=read.text("updated_by", column["updated_by"]),
        )
        return replace(record, load_problem="; ".join(read.problems) or None)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON form used by the write-ahead journal."""
        return {"domain": self.domain.value, "row": list(self.to_row())}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AssemblyRecord:
        return cls.from_row(tuple(value["row"]), Domain(value["domain"]))


_TEXT_COLUMNS = tuple(
    COLUMNS.index(name)
    for name in (
        "assembly_guid",
        "display_name",
        "assembly_kind",
        "payload_guid",
        "payload_type",
        "created_at",
        "updated_at",
    )
)
_OPTIONAL_TEXT_COLUMNS = tuple(
    COLUMNS.index(name)
    for name in (
        "summary",
        "category",
        "assembly_type",
        "metadata_json",
        "tags_json",
        "payload_checksum",
        "created_by",
        "updated_by",
    )
)
_OPTIONAL_INT_COLUMNS = tuple(COLUMNS.index(name) for name in ("version", "payload_size_bytes"))
_REVISION_COLUMN = COLUMNS.index("revision")
_KIND_COLUMN = COLUMNS.index("assembly_kind")
_PAYLOAD_TYPE_COLUMN = COLUMNS.index("payload_type")


def _plain_row(values: tuple[Any, ...]) -> bool:
    """Whether every column has the type the engine writes (the fast path of from_row)."""
    for index in _TEXT_COLUMNS:
        if type(values[index]) is not str:
            return False
    for index in _OPTIONAL_TEXT_COLUMNS:
        value = values[index]
        if value is not None and type(value) is not str:
            return False
    for index in _OPTIONAL_INT_COLUMNS:
        value = values[index]
        if value is not None and type(value) is not int:
            return False
    return (
        type(values[_REVISION_COLUMN]) is int
        and values[_KIND_COLUMN] in _KINDS
        and values[_PAYLOAD_TYPE_COLUMN] in _PAYLOAD_TYPES
    )


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
