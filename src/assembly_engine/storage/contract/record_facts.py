"""The few columns of a record that health and metrics count (signature status, upstream
state), read straight from a database row when the record is not built yet: building
100,000s of records for the first health answer after a boot was most of a boot's time.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from assembly_engine.domain.types import Domain
from assembly_engine.storage.contract.models import COLUMNS, AssemblyRecord

_GUID = COLUMNS.index("assembly_guid")
_VERSION = COLUMNS.index("version")
_CHECKSUM = COLUMNS.index("payload_checksum")
_METADATA = COLUMNS.index("metadata_json")


class RecordFacts(NamedTuple):
    """The values the record would have (``AssemblyRecord.from_row``), not the raw columns."""

    assembly_guid: str
    version: int | None
    payload_checksum: str
    metadata_json: str

    @classmethod
    def of(cls, record: AssemblyRecord) -> RecordFacts:
        return cls(record.assembly_guid, record.version, record.payload.checksum, record.metadata_json)

    @classmethod
    def of_row(cls, row: tuple[Any, ...], domain: Domain) -> RecordFacts:
        """From a row in ``COLUMNS`` order. When these four columns have the types the
        engine writes, from_row keeps them as they are (None becoming its default) on its
        fast path and its repairing one alike; anything else goes through from_row."""
        guid, version, checksum, metadata = row[_GUID], row[_VERSION], row[_CHECKSUM], row[_METADATA]
        if (
            type(guid) is str
            and (version is None or type(version) is int)
            and (checksum is None or type(checksum) is str)
            and (metadata is None or type(metadata) is str)
        ):
            return cls(guid, version, checksum or "", metadata or "{}")
        return cls.of(AssemblyRecord.from_row(row, domain))
