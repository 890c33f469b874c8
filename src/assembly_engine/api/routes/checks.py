"""Script checks of a draft (Docs/script-checks.md): diagnostics before anything is saved."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.services.answers.checks import CheckAnswer
from assembly_engine.services.checks.draft import CheckDraft

router = APIRouter(prefix="/api/assemblies", tags=["assemblies"])


@router.post("/check", response_model=CheckAnswer, responses=error_responses(400, 401, 413, 415, 422))
async def check_draft(
    body: Annotated[CheckDraft, Body()], caller: CurrentCaller, engine: Services
) -> CheckAnswer:
    """Check a script or workflow as it would be saved; nothing is stored. Async: the
    check runs in a child process on the check pool and is awaited without a thread."""
    return await engine.drafts.check(caller, body)
