"""Imports, single and batch (Docs/assemblies.md §10.2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from assembly_engine.domain.types import AssemblyKind, Domain
from assembly_engine.services.answers.base import Answer
from assembly_engine.services.answers.records import AssemblyView, ScriptPayloadWithData, WorkflowPayload


class WouldCreate(Answer):
    """What an import would create, with attachments' ``data``; ``replaces`` names the
    assembly it would replace in place, or is null."""

    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind
    assembly_type: str
    version: int | None
    source: Domain
    metadata: dict[str, Any]
    tags: list[str]
    payload: ScriptPayloadWithData | WorkflowPayload
    replaces: str | None


class DryRun(Answer):
    dry_run: Literal[True]
    would_create: WouldCreate


# A new assembly (201), the one replaced in place (200) or a dry run (200).
Imported = AssemblyView | DryRun


class BatchImported(Answer):
    index: int
    status: Literal["imported", "replaced"]
    assembly_guid: str
    display_name: str
    assembly_kind: AssemblyKind
    # An assembly of the domain an earlier import or sync made of the same document (the
    # same Tactical RMM guid, or a plain script with the same path and content); this
    # import still created a new one.
    imported_before: str | None = None


class BatchValid(Answer):
    index: int
    status: Literal["valid"]
    would_create: WouldCreate
    imported_before: str | None = None


class BatchFailed(Answer):
    index: int
    status: Literal["failed"]
    error: str
    message: str
    imported_before: str | None = None  # a document that parsed, then was refused at its write


BatchResult = BatchImported | BatchValid | BatchFailed


class BatchImport(Answer):
    """One result per document, in order; the counts are of the results' ``status``."""

    dry_run: bool
    imported: int
    replaced: int
    valid: int
    failed: int
    results: list[Annotated[BatchResult, Field(discriminator="status")]]
