"""Copying one payload between two payload stores byte for byte (staging <-> runtime,
folder <-> PostgreSQL, a backup's folder store).

What is copied is the source's verified stored form (payload_manifest.PayloadImage): the
same manifest bytes and files, so the checksum is the same on both sides. Only the
PayloadStore interface of both stores is used, so any store can be the source or target.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from assembly_engine.domain.types import Integrity
from assembly_engine.storage.contract.models import PayloadRef
from assembly_engine.storage.contract.payload_manifest import PayloadCorrupt, parse_manifest

if TYPE_CHECKING:
    from assembly_engine.storage.contract.interfaces import PayloadStore

logger = logging.getLogger("assembly_engine.payloads")


def _same_manifest(source: PayloadStore, payload_guid: str, target: PayloadStore) -> PayloadRef | None:
    """The target's ref when it already holds this payload with the very same manifest.

    Payloads are write-once, so an identical manifest means an identical copy; the files'
    checksums are still verified whenever the content is read. This keeps a boot's
    official sync from re-reading and re-hashing every payload of the library.
    """
    ours = source.manifest_bytes(payload_guid)
    if ours is None or ours != target.manifest_bytes(payload_guid):
        return None
    try:
        manifest = parse_manifest(ours, payload_guid)
    except (ValueError, RecursionError):
        return None
    return PayloadRef(
        payload_guid, manifest.payload_type, manifest.size_bytes, hashlib.sha256(ours).hexdigest()
    )


def copy_payload(
    source: PayloadStore, payload_guid: str, target: PayloadStore, *, trust_identical: bool = False
) -> PayloadRef:
    """Mirror one verified payload of ``source`` into ``target``.

    Nothing is written when ``target`` already holds an identical, intact copy (with
    ``trust_identical``, an identical manifest is enough); a different or damaged copy
    there is replaced. Raises the source's PayloadMissing / PayloadCorrupt."""
    if trust_identical:
        quick = _same_manifest(source, payload_guid, target)
        if quick is not None:
            return quick
    image = source.read_image(payload_guid)
    if target.exists(payload_guid):
        integrity = target.check(payload_guid, image.checksum)
        if integrity is Integrity.OK:
            return target.ref_for(payload_guid)
        logger.warning(
            "replacing %s payload %s in %r with the copy from %r",
            integrity.value,
            payload_guid,
            target,
            source,
        )
    target.install_copy(payload_guid, image)
    copied = target.ref_for(payload_guid)
    if copied.checksum != image.checksum:
        raise PayloadCorrupt(
            f"payload {payload_guid} changed while it was copied to {target!r}", payload_guid
        )
    return copied
