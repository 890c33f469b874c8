"""Version history and deleted assemblies (Docs/assemblies.md §6.1)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from assembly_engine.domain.types import Domain
from assembly_engine.services.answers.base import Answer
from assembly_engine.services.answers.records import AssemblyView, ListItem, ScriptPayload, WorkflowPayload

Action = Annotated[
    str,
    Field(
        description="what made the revision: create, update, import, clone, restore, undelete, "
        "official_sync or baseline"
    ),
]


class RevisionEntry(Answer):
    revision: int
    action: Action
    updated_at: str
    updated_by: str | None
    changed_fields: list[str]
    payload_checksum: str
    payload_size_bytes: int
    is_current: bool


class RevisionPage(Answer):
    """Every kept revision, newest first; also for a deleted assembly (``deleted``)."""

    assembly_guid: str
    source: Domain
    deleted: bool
    deleted_at: str | None
    deleted_by: str | None
    items: list[RevisionEntry]
    total: int


class RevisionDetail(AssemblyView):
    action: Action
    payload: ScriptPayload | WorkflowPayload


class DeletedAssembly(ListItem):
    deleted_at: str
    deleted_by: str | None


class DeletedPage(Answer):
    items: list[DeletedAssembly]
    total: int
