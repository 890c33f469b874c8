"""Response models: what the routes answer, so /openapi.json documents it.

Extra fields are allowed (``extra="allow"``) so a model documents an answer without ever
dropping part of it; the services build the answers (services/assemblies/views.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ..services.auth.users import Role
from ..types import AssemblyKind, Domain, Integrity


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


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
    csrf_token: str | None = None


class SessionState(Answer):
    """Who is signed in, or ``signed_in: false`` and why a session ended (``ended``)."""

    signed_in: bool
    ended: str | None = None
    user: UserRef | None = None
    dev_mode: DevModeState | None = None
    csrf_token: str | None = None


class SignedOut(Answer):
    signed_out: bool


class Health(Answer):
    status: str
    assemblies: dict[str, int]
    queue_depth: int
    cache_warm: bool


class AssemblyView(Answer):
    """An assembly as the list shows it (``payload_guid`` for admins only)."""

    assembly_guid: str
    display_name: str
    summary: str | None
    category: str | None
    assembly_kind: AssemblyKind
    assembly_type: str
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
    metadata: dict[str, Any]
    tags: list[str]
    payload_guid: str | None = None


class QueueDepth(Answer):
    depth: int


class ListPage(Answer):
    items: list[AssemblyView]
    total: int
    queue: QueueDepth


class Facets(Answer):
    """How many assemblies each filter choice would show."""

    domain: dict[str, int]
    kind: dict[str, int]
    category: dict[str, int]
    total: int
