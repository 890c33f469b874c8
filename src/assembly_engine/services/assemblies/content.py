"""An assembly's payload content as the use cases handle it: read and verified, and built
from the API's payload. Writing it is storage's (``AssemblyCache.new_payload``)."""

from __future__ import annotations

import logging
from typing import Any

from assembly_engine import input_limits as limits
from assembly_engine.domain.types import AssemblyKind, Integrity
from assembly_engine.services.assemblies.payload_codec import (
    PayloadInputError,
    PayloadTooLarge,
    content_from_api,
)
from assembly_engine.services.errors import IntegrityFailed, InvalidInput, TooLarge
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.interfaces import PayloadStore
from assembly_engine.storage.contract.models import CachedAssembly, PayloadContent
from assembly_engine.storage.contract.payload_manifest import PayloadCorrupt, PayloadMissing

log = logging.getLogger("assembly_engine.assemblies")


class Contents:
    def __init__(self, cache: AssemblyCache, payloads: PayloadStore) -> None:
        self.cache = cache
        self.payloads = payloads

    def read(self, item: CachedAssembly) -> PayloadContent:
        """Resolve an assembly to its verified content (the one way runners get content);
        a missing or damaged payload is marked on the record and refused."""
        ref = item.record.payload
        try:
            return self.payloads.read(ref.payload_guid, ref.checksum or None)
        except (PayloadMissing, PayloadCorrupt) as exc:
            status = Integrity.MISSING if isinstance(exc, PayloadMissing) else Integrity.CORRUPT
            self.cache.set_integrity(item.assembly_guid, status, payload_guid=ref.payload_guid)
            raise IntegrityFailed(
                f"Assembly '{item.record.display_name}' ({item.assembly_guid}) cannot be read: "
                f"its payload is {status.value} ({exc}). Restore the payload folder from a backup, "
                "or re-import the assembly."
            ) from None

    @staticmethod
    def build(
        payload: dict[str, Any],
        kind: AssemblyKind,
        assembly_type: str,
        previous: PayloadContent | None = None,
    ) -> PayloadContent:
        """The content an API payload describes (``previous``: what an update starts from)."""
        try:
            content = content_from_api(payload, kind, assembly_type, previous)
        except PayloadTooLarge as exc:
            raise TooLarge(str(exc)) from None
        except PayloadInputError as exc:
            raise InvalidInput(str(exc)) from None
        Contents.require_file_count(content)
        return content

    @staticmethod
    def require_file_count(content: PayloadContent) -> None:
        """Every new payload is checked (create, update, clone, import): an assembly stored
        before the limit existed cannot be copied past it either."""
        too_many = limits.file_count_problem(len(content.files), "the payload")
        if too_many is not None:
            raise InvalidInput(f"{too_many}.")
