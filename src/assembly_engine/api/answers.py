"""Response models: what the routes answer, so /openapi.json documents every answer.

The services build the answers as plain dicts (services/assemblies/views.py and the
services' ``as_dict``); these models describe them, field names as Docs/assemblies.md §7
gives them. Extra fields are allowed (``extra="allow"``) so a model documents an answer
without ever dropping part of it; free-form values (metadata, a workflow, a legacy
document) are ``dict[str, Any]``. A field with a default is one the answer may leave
out, so routes using such a model set ``response_model_exclude_unset``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assembly_engine.domain.types import AssemblyKind, Domain, Integrity, Role


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- sign-in and Dev Mode ----------------------------------------------------------------
class UserRef(Answer):
    username: str
    role: Role


class DevModeState(Answer):
    enabled: bool
    expires_at: str | None
    ttl_seconds: int
    remaining_seconds: int
    reason: str | None


class LoggedIn(Answer):
    user: UserRef
    token: str
    csrf_token: str
    expires_in: int


class Who(Answer):
    user: UserRef
    dev_mode: DevModeState
    writable_domains: list[Domain]  # what the caller may write now (role, Dev Mode, scopes)
    must_change_password: bool  # the password was chosen by someone else
    csrf_token: str | None = None
    sso: bool | None = None  # the account signs in at the OpenID Connect provider


class SessionState(Answer):
    """Who is signed in, or ``signed_in: false`` and why a session ended (``ended``)."""

    signed_in: bool
    ended: str | None = None
    user: UserRef | None = None
    dev_mode: DevModeState | None = None
    writable_domains: list[Domain] | None = None
    must_change_password: bool | None = None
    csrf_token: str | None = None
    sso: bool | None = None


class OwnSession(Answer):
    id: str  # the session's id in the audit log, never its token
    created_at: str
    last_seen: str
    expires_at: str
    current: bool


class OwnSessionList(Answer):
    items: list[OwnSession]


class SessionsEnded(Answer):
    ended: int


class SignedOut(Answer):
    signed_out: bool


# -- users -------------------------------------------------------------------------------
class UserView(Answer):
    username: str
    role: Role
    disabled: bool
    created_at: str
    updated_at: str
    must_change_password: bool | None = None


class UserList(Answer):
    items: list[UserView]


class OfficialSignatures(Answer):
    """The official library's signature state (Docs/official-library.md)."""

    policy: Literal["require", "warn", "off"]
    state: Literal["ok", "warning", "refused", "off"] = Field(
        description="refused: the staging copy was refused and the last good library serves"
    )
    signed_by: str | None = Field(description="the trusted key file that verified the manifest")
    problems: list[str]
    counts: dict[str, int] = Field(description="official assemblies per signature status")


class Health(Answer):
    status: str = Field(description="ok, or read_only: started on a full disk, every write answers 503")
    read_only: str | None = Field(
        default=None, description="why the engine is read-only (disk full) and what its reads hold"
    )
    complete: bool = Field(
        default=True,
        description="false: the journal could not be read, so reads miss changes still queued in it",
    )
    assemblies: dict[str, int]
    queue_depth: int
    cache_warm: bool
    official_signatures: OfficialSignatures
    official_upstream: dict[str, int] = Field(
        default_factory=dict,
        description="official assemblies waiting for an admin's choice: update_available, removed_upstream",
    )


# -- assemblies --------------------------------------------------------------------------
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
    vendor: dict[str, Any] | None = Field(
        default=None, description="a deprecated official assembly: status, note, replaced_by"
    )
    match: SearchMatch | None = Field(
        default=None, description="with q: the matching line of a hit found only in the body"
    )
    upstream: UpstreamState | None = Field(
        default=None,
        description="official assemblies only: where the record stands against the vendor's releases",
    )


class AssemblyView(ListItem):
    """An assembly as a write answers it: the list's columns and its metadata."""

    metadata: dict[str, Any]


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


class AssemblyDetail(AssemblyView):
    payload: ScriptPayload | WorkflowPayload


class CheckDiagnostic(Answer):
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Literal["error", "warning", "info"]
    code: str
    message: str
    source: str


class CheckerState(Answer):
    name: str
    available: bool
    timed_out: bool
    seconds: float
    cpu_seconds: float = 0.0
    failed: str | None = None


class CheckAnswer(Answer):
    """A script check (Docs/script-checks.md)."""

    language: str
    checksum: str
    counts: dict[str, int]
    has_errors: bool
    timed_out: bool
    diagnostics: list[CheckDiagnostic]
    checkers: list[CheckerState]


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


# -- the write queue, flush and official sync ----------------------------------------------
class QueuedChange(Answer):
    assembly_guid: str
    display_name: str
    operation: Literal["upsert", "delete"]
    revision: int
    dirty_since: str | None
    flush_error: str | None


class DomainQueue(Answer):
    pending: int
    upserts: int
    deletes: int
    oldest_dirty_since: str | None
    last_flush: str | None
    last_error: str | None
    waiting_since: str | None
    items: list[QueuedChange]


class QueueState(Answer):
    """Pending writes per domain (Docs/assemblies.md §6)."""

    depth: int
    flush_interval: float
    domains: dict[Domain, DomainQueue]


class RefusedChange(Answer):
    assembly_guid: str
    error: str


class DomainFlush(Answer):
    persisted: int
    error: str | None
    refused: list[RefusedChange]


class Flushed(Answer):
    results: dict[Domain, DomainFlush]
    queue: QueueState


class OfficialSynced(Answer):
    staging_count: int
    runtime_count: int
    payloads_copied: int
    payloads_removed: int
    problems: list[str]
    matches: bool
    signatures: dict[str, Any] | None = Field(
        default=None, description="the staging copy's signature: refused, signed_by, problems"
    )


# -- version history (Docs/assemblies.md §6.1) ---------------------------------------------
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


# -- import (Docs/assemblies.md §10.2) ------------------------------------------------------
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


class BatchImport(Answer):
    """One result per document, in order; the counts are of the results' ``status``."""

    dry_run: bool
    imported: int
    replaced: int
    valid: int
    failed: int
    results: list[Annotated[BatchImported | BatchValid | BatchFailed, Field(discriminator="status")]]


# -- maintenance -------------------------------------------------------------------------
class SchemaCheck(Answer):
    file: str
    ok: bool
    user_version: int
    missing_columns: list[str]


class PayloadProblem(Answer):
    assembly_guid: str
    display_name: str
    domain: Domain
    payload_guid: str
    where: list[str] = Field(description="cache, database, history and/or journal")


class Verified(Answer):
    """The verify report (Docs/assemblies.md §11): ``ok`` when nothing is wrong or left over."""

    ok: bool
    schema_: dict[Domain, SchemaCheck] = Field(alias="schema")
    payloads_checked: int
    missing: list[PayloadProblem]
    corrupt: list[PayloadProblem]
    orphans: list[str]
    recent_unreferenced: list[str]
    stale_temp: list[str]
    removed: list[str]


class AuditChecked(Answer):
    ok: bool
    entries: int
    first_bad_line: int | None
    problem: str | None
    path: str


class Pruned(Answer):
    keep: int
    trash_days: int
    revisions_removed: int
    deleted_purged: int
    payloads_removed: list[str]


class BackedUp(Answer):
    destination: str
    copied: dict[str, int] = Field(description="pages copied per database file, and payload folders")
    seconds: float


class OfficialExported(Answer):
    destination: str
    assemblies: int = Field(description="official assemblies written to the new staging copy")
