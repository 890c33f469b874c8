"""Checking a stored payload against its manifest and its record, alike in every store.

A store reads its own way (folders, database rows) and says what it found wrong with
:class:`MissingEntry` or :class:`BadEntry`; the checks here turn that into the results every
store gives: ``missing`` / ``corrupt`` (PayloadMissing / PayloadCorrupt, logged), and a
manifest whose checksum is not the record's is corrupt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from assembly_engine.domain.types import Integrity
from assembly_engine.storage.contract.payload_manifest import (
    FileEntry,
    Manifest,
    PayloadCorrupt,
    PayloadMissing,
    parse_manifest,
)

logger = logging.getLogger("assembly_engine.payloads")


class MissingEntry(Exception):
    """A name the manifest promises is not there."""


class BadEntry(Exception):
    """A name is there but is not what it should be (symlink, wrong type, unreadable, or
    content that does not match its manifest entry)."""


class _Checksummed(Protocol):
    @property
    def checksum(self) -> str: ...


Loaded = TypeVar("Loaded", bound=_Checksummed)


def parse_stored_manifest(raw: bytes, payload_guid: str) -> Manifest:
    """The manifest a store holds; BadEntry when it is not valid."""
    try:
        return parse_manifest(raw, payload_guid)
    except (ValueError, RecursionError) as exc:
        raise BadEntry(f"the manifest is not valid: {exc}") from exc


def check_entry(entry: FileEntry, size: int, sha256: str) -> None:
    """BadEntry unless a stored file has the size and SHA-256 its manifest entry lists."""
    if size != entry.size or sha256 != entry.sha256:
        raise BadEntry(f"{entry.name!r} does not match its checksum")


def verified_load(payload_guid: str, expected_checksum: str | None, load: Callable[[], Loaded]) -> Loaded:
    """What ``load`` reads, its MissingEntry / BadEntry logged and raised as PayloadMissing /
    PayloadCorrupt; corrupt too when ``expected_checksum`` (``None`` or ``""``: not checked)
    is not the manifest's."""
    try:
        loaded = load()
    except MissingEntry as exc:
        logger.warning("payload %s is missing: %s", payload_guid, exc)
        raise PayloadMissing(f"payload {payload_guid} is missing: {exc}", payload_guid) from None
    except BadEntry as exc:
        logger.warning("payload %s is corrupt: %s", payload_guid, exc)
        raise PayloadCorrupt(f"payload {payload_guid} is corrupt: {exc}", payload_guid) from None
    if expected_checksum and loaded.checksum != expected_checksum.lower():
        logger.warning(
            "payload %s is corrupt: checksum %s, expected %s",
            payload_guid,
            loaded.checksum,
            expected_checksum,
        )
        raise PayloadCorrupt(
            f"payload {payload_guid} is corrupt: its checksum does not match the record", payload_guid
        )
    return loaded


def integrity_of(load: Callable[[], object]) -> Integrity:
    """``ok`` / ``missing`` / ``corrupt`` of a :func:`verified_load`; other errors raise."""
    try:
        load()
    except PayloadMissing:
        return Integrity.MISSING
    except PayloadCorrupt:
        return Integrity.CORRUPT
    return Integrity.OK
