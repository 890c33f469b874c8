"""API tokens for programs (Docs/tokens-and-sso.md): create, list, revoke.

Only a signed-in person (or the local CLI) reaches these routes: a token is refused at the
edge (api/token_scopes.py) and again by the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from pydantic import Field, StrictInt

from assembly_engine.api.deps import CurrentCaller, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.config import TOKEN_DAYS_LIMIT
from assembly_engine.services.answers.accounts import CreatedToken, TokenList
from assembly_engine.services.auth.api_tokens import MAX_NAME_LENGTH, SCOPES
from assembly_engine.services.request_bodies import StrictModel

router = APIRouter(prefix="/api/tokens", tags=["tokens"])

TokenId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")]


class NewToken(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
    scopes: Annotated[
        list[str],
        Field(min_length=1, max_length=len(SCOPES), json_schema_extra={"items": {"enum": list(SCOPES)}}),
    ]
    # The service checks the range and names ENGINE_TOKEN_MAX_DAYS; the document shows the
    # widest range any configuration allows.
    expires_in_days: Annotated[
        StrictInt, Field(json_schema_extra={"minimum": 1, "maximum": TOKEN_DAYS_LIMIT})
    ]
    # Only the local CLI names an owner (it is no user itself); a person's tokens are their own.
    owner: Annotated[str, Field(min_length=1, max_length=64)] | None = None


@router.post(
    "", status_code=201, response_model=CreatedToken, responses=error_responses(400, 401, 403, 404, 415, 422)
)
def create_token(body: Annotated[NewToken, Body()], caller: CurrentCaller, engine: Services) -> CreatedToken:
    return engine.tokens.create(caller, body.name, body.scopes, body.expires_in_days, owner=body.owner)


@router.get("", response_model=TokenList, responses=error_responses(401, 403))
def list_tokens(caller: CurrentCaller, engine: Services) -> TokenList:
    """Your own tokens; an admin sees everyone's. Secrets are never shown again."""
    return engine.tokens.list(caller)


@router.delete(
    "/{token_id}", status_code=204, response_class=Response, responses=error_responses(401, 403, 404)
)
def revoke_token(token_id: TokenId, caller: CurrentCaller, engine: Services) -> Response:
    """Revoke one of your tokens (an admin: anyone's); it stops working at once."""
    engine.tokens.revoke(caller, token_id)
    return Response(status_code=204)
