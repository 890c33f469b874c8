"""What an import produces, and the ``assembly_engine`` block an export adds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.types import AssemblyKind, is_valid_assembly_guid
from assembly_engine.services.assemblies.legacy.checks import display_name, fail, json_kind, tags
from assembly_engine.storage.contract.models import PayloadContent

ENGINE_KEY = "assembly_engine"


@dataclass(frozen=True)
class ImportedAssembly:
    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind
    assembly_type: str
    version: int | None
    metadata: dict[str, Any]
    tags: list[str]
    content: PayloadContent
    source_assembly_guid: str | None = None


@dataclass(frozen=True)
class EngineBlock:
    """What an ``assembly_engine`` block (written by export) tells an import."""

    assembly_guid: str | None = None
    tags: tuple[str, ...] = ()
    display_name: str | None = None


def engine_block(value: object) -> EngineBlock:
    if value is None:
        return EngineBlock()
    if not isinstance(value, dict):
        fail(f"document.{ENGINE_KEY} must be an object, got {json_kind(value)}")
    guid = value.get("assembly_guid")
    if guid is not None and not is_valid_assembly_guid(guid):
        fail(
            f"document.{ENGINE_KEY}.assembly_guid {guid!r} is not a valid assembly id "
            "(32 or 40 lowercase hex characters)"
        )
    name = value.get("display_name")
    if name is not None:
        display_name(name, f"document.{ENGINE_KEY}.display_name")
    block_tags = tags(value.get("tags", []), f"document.{ENGINE_KEY}.tags")
    return EngineBlock(guid, tuple(block_tags), name)
