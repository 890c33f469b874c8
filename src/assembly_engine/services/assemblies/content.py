"""An assembly's payload content as the use cases handle it: read and verified, built from
the API's payload, stored write-once, and dropped again when the change using it is refused.

Storage failures become the services' refusals here, so no use case sees a payload error.
"""

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
from assembly_engine.services.errors import IntegrityProblem, InvalidInput, StorageUnavailable, TooLarge
from assembly_engine.storage.cache.assembly_cache import AssemblyCache
from assembly_engine.storage.contract.interfaces import PayloadStore
from assembly_engine.storage.contract.models import CachedAssembly, PayloadContent, PayloadRef
from assembly_engine.storage.contract.payload_manifest import PayloadCorrupt, PayloadError, PayloadMissing

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
            raise IntegrityProblem(
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
            return content_from_api(payload, kind, assembly_type, previous)
        except PayloadTooLarge as exc:
            raise TooLarge(str(exc)) from None
        except PayloadInputError as exc:
            raise InvalidInput(str(exc)) from None

    def store(self, content: PayloadContent) -> PayloadRef:
        # Every new payload folder passes here (create, update, clone, import): an assembly
        # stored before the limit existed cannot be copied past it either.
        too_many = limits.file_count_problem(len(content.files), "the payload")
        if too_many is not None:
            raise InvalidInput(f"{too_many}.")
        try:
            return self.payloads.write_new(content)
        except PayloadError as exc:  # an unsafe attachment name, for one
            raise InvalidInput(str(exc)) from None
        except OSError as exc:
            raise StorageUnavailable(
                f"The payload could not be written to disk ({exc.strerror or exc}); nothing was "
                "changed. Free disk space or fix permissions of the Payloads folder, then retry."
            ) from None

    def drop(self, ref: PayloadRef | None) -> None:
        """Remove the folder of a change that was refused (nothing points at it)."""
        if ref is not None:
            try:
                self.payloads.delete(ref.payload_guid)
            except OSError as exc:
                log.warning("could not remove unused payload %s: %s", ref.payload_guid, exc)
