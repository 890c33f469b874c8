"""Whether a document was imported into a domain before: the same Tactical RMM ``guid``
(kept in ``metadata.legacy.tactical_rmm``, by import and by sync alike). An import still
creates a new assembly; its answer names the earlier one so the CLI can point to
``assemblies sync``. List items carry no metadata, so the match is made here, against the
domain's records, and only for batches that hold such a guid (a plain import pays nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from assembly_engine.storage.contract.models import CachedAssembly


def tactical_guid(metadata: Mapping[str, Any]) -> str | None:
    legacy = metadata.get("legacy")
    entry = legacy.get("tactical_rmm") if isinstance(legacy, dict) else None
    guid = entry.get("guid") if isinstance(entry, dict) else None
    return guid.lower() if isinstance(guid, str) and guid else None


def earlier_by_guid(records: Iterable[CachedAssembly]) -> dict[str, str]:
    """Tactical RMM guid -> the assembly_guid of a record of the domain holding it."""
    found: dict[str, str] = {}
    for record in records:
        guid = tactical_guid(record.record.metadata)
        if guid is not None:
            found.setdefault(guid, record.assembly_guid)
    return found
