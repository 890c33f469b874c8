"""Copying one payload between two payload stores of any backend (official sync, the
staging mirror), keeping its GUID and checksum, so the rows that name it stay true."""

from __future__ import annotations

import logging

from ..types import Integrity
from .interfaces import PayloadStore
from .models import PayloadRef
from .payloads import PayloadCorrupt
from .payloads import PayloadStore as FolderPayloadStore

log = logging.getLogger("assembly_engine.payloads")


def mirror_payload(
    source: PayloadStore, payload_guid: str, target: PayloadStore, *, trust_identical: bool = False
) -> PayloadRef:
    """Make ``target`` hold ``source``'s payload ``payload_guid``; its reference there.

    Between two folder stores the folder is copied byte for byte (``copy_to``, which may
    trust an identical manifest without re-reading the files). Otherwise through the
    PayloadStore interface: an intact copy already in ``target`` is kept, a different or
    damaged one is replaced by the source's verified content under the same GUID, and the
    copy must come out with the source's checksum. PayloadError says what went wrong."""
    if isinstance(source, FolderPayloadStore) and isinstance(target, FolderPayloadStore):
        return source.copy_to(payload_guid, target, trust_identical=trust_identical)
    expected = source.ref_for(payload_guid)
    if target.exists(payload_guid):
        if target.check(payload_guid, expected.checksum) is Integrity.OK:
            return expected
        log.warning("replacing payload %s in %r with the copy from %r", payload_guid, target, source)
        target.delete(payload_guid)
    copied = target.write_with_guid(payload_guid, source.read(payload_guid, expected.checksum))
    if copied.checksum != expected.checksum:
        raise PayloadCorrupt(
            f"payload {payload_guid} came out of the copy with checksum {copied.checksum}, not "
            f"{expected.checksum}: its manifest in {source!r} is not in the form the engine writes",
            payload_guid,
        )
    return copied
