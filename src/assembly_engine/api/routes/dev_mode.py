"""Dev Mode state and switch (Docs/assemblies.md §8); per session, server-side."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from assembly_engine.api.deps import Auth, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.services.answers.accounts import DevModeState
from assembly_engine.services.request_bodies import DevModeSwitch

router = APIRouter(prefix="/api/assemblies/dev-mode", tags=["dev mode"])


@router.get("", response_model=DevModeState, responses=error_responses(401))
def dev_mode_state(auth: Auth, engine: Services) -> DevModeState:
    return engine.accounts.dev_mode_state(auth.caller, auth.session)


@router.post("/switch", response_model=DevModeState, responses=error_responses(400, 401, 403, 415, 422, 429))
def dev_mode_switch(body: Annotated[DevModeSwitch, Body()], auth: Auth, engine: Services) -> DevModeState:
    return engine.accounts.switch_dev_mode(
        auth.caller, auth.session, enabled=body.enabled, password=body.password, reason=body.reason
    )
