"""Revisions keep large metadata once, by content hash, rather than once per revision.

A revision is the whole assemblies row (``row_json``). Copying it whole made every small
edit of an assembly with 10 MiB of metadata cost 10 MiB more history (issue 23, 5). Each
backend therefore stores a revision's metadata of ``SHARED_FROM_BYTES`` or more in a side
table keyed by its SHA-256 (``revision_metadata``), shared by every revision with the same
text, and the revision's own row with that element left out (null) plus the hash. Reading
puts the text back, so ``StoredRevision.row_json`` means the same row as it always did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from assembly_engine.storage.contract.models import COLUMNS

METADATA_COLUMN = COLUMNS.index("metadata_json")
# Smaller metadata stays in the row: a lookup would cost more than the bytes it saves.
SHARED_FROM_BYTES = 1024


@dataclass(frozen=True)
class SplitRow:
    """A revision's row as stored: ``row_json`` without large metadata, and that metadata
    (``metadata_json``) under its hash, or both None when the row is kept whole."""

    row_json: str
    metadata_hash: str | None = None
    metadata_json: str | None = None


def metadata_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_row(row_json: str) -> SplitRow:
    """The stored form of a revision's ``row_json``."""
    if len(row_json) < SHARED_FROM_BYTES:
        return SplitRow(row_json)
    row = orjson.loads(row_json)
    metadata = row[METADATA_COLUMN] if isinstance(row, list) and len(row) == len(COLUMNS) else None
    if not isinstance(metadata, str) or len(metadata) < SHARED_FROM_BYTES:
        return SplitRow(row_json)
    row[METADATA_COLUMN] = None
    return SplitRow(orjson.dumps(row).decode(), metadata_hash(metadata), metadata)


def join_row(row_json: str, metadata_json: str | None) -> str:
    """The revision's whole ``row_json`` again, from its stored form and shared metadata."""
    if metadata_json is None:
        return row_json
    row = orjson.loads(row_json)
    row[METADATA_COLUMN] = metadata_json
    return orjson.dumps(row).decode()
