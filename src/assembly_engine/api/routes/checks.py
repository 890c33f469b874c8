"""Script checks of a draft (Docs/script-checks.md): diagnostics before anything is saved."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from ...services.checks.draft import CheckDraft
from ..answers import CheckAnswer
from ..deps import CurrentCaller, Services
from ..errors import error_responses

router = APIRouter(prefix="/api/assemblies", tags=["assemblies"])


@router.post("/check", response_model=CheckAnswer, responses=error_responses(400, 401, 413, 415, 422))
async def check_draft(
    body: Annotated[CheckDraft, Body()], caller: CurrentCaller, engine: Services
) -> dict[str, Any]:
    """Check a script or workflow as it would be saved; nothing is stored. Async: the
    check runs in a child process on the check pool and is awaited without a thread."""
    return await engine.drafts.check(caller, body)
