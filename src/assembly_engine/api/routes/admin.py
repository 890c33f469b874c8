"""Maintenance endpoints used by the CLI: verify and backup."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import Field, StrictBool, StrictFloat

from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import ApiError, error_responses
from assembly_engine.services.answers.maintenance import (
    AuditChecked,
    BackedUp,
    OfficialExported,
    Pruned,
    Verified,
)
from assembly_engine.services.request_bodies import WHOLE, StrictModel

router = APIRouter(prefix="/api/admin", tags=["admin"])


class VerifyRequest(StrictModel):
    fix: StrictBool = False
    grace_seconds: Annotated[StrictFloat, Field(ge=0, le=86_400)] = 60.0


class PruneRequest(StrictModel):
    keep: Annotated[int, Field(ge=0, le=1_000_000), WHOLE] | None = None
    trash_days: Annotated[int, Field(ge=0, le=100_000), WHOLE] | None = None


class BackupRequest(StrictModel):
    destination: Annotated[str, Field(min_length=1, max_length=4096)]


@router.get("/verify", response_model=Verified, responses=error_responses(401, 403))
def verify(caller: CurrentCaller, engine: Services) -> Verified:
    """Check schemas, payload checksums, missing and orphan payloads (changes nothing)."""
    return engine.maintenance.verify(caller)


@router.post("/verify", response_model=Verified, responses=error_responses(400, 401, 403, 415, 422))
def verify_and_fix(
    body: Annotated[VerifyRequest, Body()], caller: CurrentCaller, engine: Services
) -> Verified:
    """Verify; with ``fix`` also remove orphan payload folders older than the grace period."""
    return engine.maintenance.verify(caller, fix=body.fix, grace_seconds=body.grace_seconds)


@router.get("/audit/verify", response_model=AuditChecked, responses=error_responses(401, 403))
def audit_verify(caller: CurrentCaller, engine: Services) -> AuditChecked:
    """Check the audit log's hash chain and head file while the engine keeps writing."""
    return engine.maintenance.verify_audit(caller)


@router.post("/history/prune", response_model=Pruned, responses=error_responses(400, 401, 403, 415, 422, 503))
def prune_history(
    caller: CurrentCaller, engine: Services, body: Annotated[PruneRequest | None, Body()] = None
) -> Pruned:
    """Apply retention now: ENGINE_HISTORY_KEEP and ENGINE_TRASH_DAYS unless given."""
    body = body or PruneRequest()
    return engine.history.prune(caller, keep=body.keep, trash_days=body.trash_days)


@router.post(
    "/export-official", response_model=OfficialExported, responses=error_responses(400, 401, 403, 415, 422)
)
def export_official(
    body: Annotated[BackupRequest, Body()], caller: CurrentCaller, engine: Services
) -> OfficialExported:
    """Write the official library as a new staging copy in a folder on the engine's machine
    (CLI only): what cluster mode does instead of mirroring Dev Mode writes to staging."""
    try:
        return engine.maintenance.export_official(caller, Path(body.destination))
    except OSError as exc:
        raise ApiError(400, "invalid_request", f"Export failed: {exc}") from None


@router.post("/backup", response_model=BackedUp, responses=error_responses(400, 401, 403, 415, 422))
def backup(body: Annotated[BackupRequest, Body()], caller: CurrentCaller, engine: Services) -> BackedUp:
    """Snapshot everything into a folder on the engine's machine (CLI only)."""
    try:
        return engine.maintenance.backup(caller, Path(body.destination))
    except (FileExistsError, OSError) as exc:
        raise ApiError(400, "invalid_request", f"Backup failed: {exc}") from None
