"""An assembly as the list, the detail and every write answer it (Docs/assemblies.md §7).

The models are built from the cache's records by their ``of`` class methods with
``Answer.built``: the values are the engine's own, already valid, and the list builds a
hundred per page, where validating each would cost more than rendering the page.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Literal, Self

from pydantic import Field

from assembly_engine.domain.description import description
from assembly_engine.domain.types import AssemblyKind, Domain, Integrity, PayloadType
from assembly_engine.services.answers.base import Answer
from assembly_engine.services.answers.checks import ScriptCheckState
from assembly_engine.services.assemblies.payload_layout import WORKFLOW_FILE_NAME
from assembly_engine.storage.contract.models import CachedAssembly, PayloadContent
from assembly_engine.storage.contract.signatures import OfficialTrust
from assembly_engine.storage.contract.upstream import UpstreamNote, without_note


class SearchMatch(Answer):
    """Why a search hit found only in the body is in the list (Docs/search.md)."""

    line: int = Field(description="1-based line of the script, playbook or workflow JSON")
    text: str = Field(description="that line, trimmed, at most 200 characters")


class UpstreamState(Answer):
    """An official record against the vendor's releases (Docs/official-library.md)."""

    state: Literal["current", "update_available", "removed_upstream"]
    revision: int | None = Field(default=None, description="the vendor's new version, kept as a revision")
    base_revision: int | None = Field(
        default=None, description="the vendor version the local copy started from"
    )

    @classmethod
    def of(cls, note: UpstreamNote | None) -> UpstreamState:
        note = note or UpstreamNote()
        return cls.built(state=note.state.value, revision=note.revision, base_revision=note.base_revision)


class VendorNote(Answer):
    """The vendor's word on an official assembly it deprecated."""

    status: str
    note: str | None
    replaced_by: str | None


class ListItem(Answer):
    """An assembly as the list shows it (``payload_guid`` for admins only); the detail adds
    ``metadata``."""

    assembly_guid: str
    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind
    assembly_type: str | None  # None only in a damaged row
    version: int | None
    revision: int
    source: Domain
    is_dirty: bool
    dirty_since: str | None
    last_persisted: str | None
    integrity: Integrity
    flush_error: str | None
    created_at: str
    updated_at: str
    created_by: str | None
    updated_by: str | None
    tags: list[str]
    payload_guid: str | None = None
    signature: Literal["verified", "modified", "unsigned"] | None = Field(
        default=None, description="official assemblies only: against the signed manifest"
    )
    vendor: VendorNote | None = Field(default=None, description="a deprecated official assembly")
    upstream: UpstreamState | None = Field(
        default=None,
        description="official assemblies only: where the record stands against the vendor's releases",
    )
    checks: ScriptCheckState | None = Field(
        default=None,
        description="the script check's counts (list) or result (detail); null while unchecked",
    )
    match: SearchMatch | None = Field(
        default=None, description="with q: the matching line of a hit found only in the body"
    )

    @classmethod
    def of(
        cls, item: CachedAssembly, *, admin: bool, trust: OfficialTrust | None = None, **more: Any
    ) -> Self:
        """The answer for ``item``: ``payload_guid`` for an ``admin``; ``trust`` (the
        official library's signature state) adds ``signature`` and, for an assembly the
        vendor deprecated, ``vendor`` to official records; every official record shows
        ``upstream``. ``more`` are the fields of a larger answer (metadata, payload ...)."""
        record, state = item.record, item.state
        official = record.domain is Domain.OFFICIAL
        optional: dict[str, Any] = {}  # only the fields this answer has: unset ones stay out
        if admin:
            optional["payload_guid"] = record.payload.payload_guid
        if trust is not None and official:
            optional["signature"] = trust.status_of(record).value
            entry = trust.entries.get(record.assembly_guid)
            if entry is not None and entry.status == "deprecated":
                optional["vendor"] = VendorNote.built(
                    status=entry.status, note=entry.note, replaced_by=entry.replaced_by
                )
        if official:
            optional["upstream"] = UpstreamState.of(UpstreamNote.of(record))
        values: dict[str, Any] = dict(
            assembly_guid=record.assembly_guid,
            **description(record),
            revision=record.revision,
            source=record.domain,
            is_dirty=state.is_dirty,
            dirty_since=state.dirty_since,
            last_persisted=state.last_persisted,
            integrity=state.integrity,
            flush_error=state.flush_error,
            created_at=record.created_at,
            updated_at=record.updated_at,
            created_by=record.created_by,
            updated_by=record.updated_by,
            tags=record.tags,
        )
        if "metadata" in more:  # where the record shape (Docs/assemblies.md §7) puts it
            values["metadata"] = more.pop("metadata")
        values.update(optional)
        values.update(more)
        return cls.built(**values)


class AssemblyView(ListItem):
    """An assembly as a write answers it: the list's columns and its metadata."""

    metadata: dict[str, Any]

    @classmethod
    def of(
        cls, item: CachedAssembly, *, admin: bool, trust: OfficialTrust | None = None, **more: Any
    ) -> Self:
        record = item.record
        # an official record's vendor note is the engine's, shown as ``upstream``
        metadata = without_note(record.metadata) if record.domain is Domain.OFFICIAL else record.metadata
        return super().of(item, admin=admin, trust=trust, metadata=metadata, **more)


class Attachment(Answer):
    """An attached file as a detail lists it; its bytes come from the attachment route."""

    file_name: str
    mime_type: str
    size: int


class AttachmentWithData(Attachment):
    data: str = Field(description="the file's bytes, base64")


class ScriptPayload(Answer):
    script: str
    files: list[Attachment]


class ScriptPayloadWithData(Answer):
    script: str
    files: list[AttachmentWithData]


class WorkflowPayload(Answer):
    """A workflow's JSON as stored; ``workflow: null`` and ``error`` when it does not parse."""

    workflow: dict[str, Any] | None
    error: str | None = None


def payload_answer(content: PayloadContent) -> ScriptPayload | WorkflowPayload:
    """A payload as a detail shows it: attachments without their bytes."""
    if content.payload_type is PayloadType.WORKFLOW:
        return _workflow(content)
    files = [
        Attachment.built(file_name=f.file_name, mime_type=f.mime_type, size=f.size) for f in content.files
    ]
    return ScriptPayload.built(script=_script_text(content), files=files)


def payload_with_data(content: PayloadContent) -> ScriptPayloadWithData | WorkflowPayload:
    """A payload as an import preview shows it: attachments with their bytes, base64."""
    if content.payload_type is PayloadType.WORKFLOW:
        return _workflow(content)
    files = [
        AttachmentWithData.built(
            file_name=f.file_name,
            mime_type=f.mime_type,
            size=f.size,
            data=base64.b64encode(f.data).decode("ascii"),
        )
        for f in content.files
    ]
    return ScriptPayloadWithData.built(script=_script_text(content), files=files)


def _script_text(content: PayloadContent) -> str:
    return content.main.decode("utf-8", errors="replace")


def _workflow(content: PayloadContent) -> WorkflowPayload:
    try:
        return WorkflowPayload.built(workflow=json.loads(content.main))
    except ValueError:
        return WorkflowPayload.built(workflow=None, error=f"{WORKFLOW_FILE_NAME} is not valid JSON")


class AssemblyDetail(AssemblyView):
    payload: ScriptPayload | WorkflowPayload


class Deleted(Answer):
    """A delete is queued: the assembly is gone from the list at once."""

    assembly_guid: str
    source: Domain
    status: Literal["queued_delete"]
    is_dirty: bool


class QueueDepth(Answer):
    depth: int


class ListPage(Answer):
    items: list[ListItem]
    total: int
    queue: QueueDepth


class Facets(Answer):
    """How many assemblies each filter choice would show."""

    domain: dict[str, int]
    kind: dict[str, int]
    category: dict[str, int]
    tags: dict[str, int]  # the most used tags (and the selected one)
    total: int


class FavouriteList(Answer):
    """Your starred assemblies that exist now, most recently starred first."""

    items: list[ListItem]
    total: int
    limit: int  # the most one user keeps


class FavouriteChanged(Answer):
    assembly_guid: str
    favourite: bool
    total: int  # the user's favourites after the change
    limit: int


# -- bulk actions ------------------------------------------------------------------------
class BulkItemResult(Answer):
    """One item of a bulk action: ``done`` (with the record written, except for a delete)
    or ``refused`` with the code and message its single-item route would answer."""

    assembly_guid: str
    status: Literal["done", "refused"]
    code: str | None = None
    message: str | None = None
    record: AssemblyView | None = None


class BulkDone(Answer):
    action: str
    done: int
    refused: int
    results: list[BulkItemResult]
