"""User management for admins (Docs/assemblies.md §8)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from pydantic import ConfigDict, Field, StrictBool

from assembly_engine.api.deps import Auth, CurrentCaller, Services
from assembly_engine.api.errors import error_responses
from assembly_engine.domain.types import Role
from assembly_engine.services.answers.accounts import UserList, UserView
from assembly_engine.services.request_bodies import StrictModel

router = APIRouter(prefix="/api/users", tags=["users"])

USERNAME = r"^[A-Za-z0-9_.@-]+$"  # users.USERNAME_PATTERN, as the schema says it
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=USERNAME)]


CurrentPassword = Annotated[str, Field(max_length=1024)]


class NewUser(StrictModel):
    username: Annotated[str, Field(min_length=1, max_length=64, json_schema_extra={"pattern": USERNAME})]
    password: Annotated[str, Field(min_length=8, max_length=1024)]
    role: Role = Role.OPERATOR
    current_password: CurrentPassword | None = None  # your own: creating an admin re-checks it


class UserChanges(StrictModel):
    # At least one change (the current password alone changes nothing).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in ("role", "disabled", "password")
            ]
        }
    )

    role: Role | None = None
    disabled: StrictBool | None = None
    password: Annotated[str, Field(min_length=8, max_length=1024)] | None = None
    # Your own password: required to change it, and to promote someone or reset a password.
    current_password: CurrentPassword | None = None


@router.get("", response_model=UserList, responses=error_responses(401, 403))
def list_users(caller: CurrentCaller, engine: Services) -> UserList:
    return engine.accounts.list_users(caller)


@router.post(
    "", status_code=201, response_model=UserView, responses=error_responses(400, 401, 403, 409, 415, 422, 429)
)
def create_user(body: Annotated[NewUser, Body()], caller: CurrentCaller, engine: Services) -> UserView:
    return engine.accounts.create_user(
        caller, body.username, body.password, body.role, current_password=body.current_password
    )


@router.patch(
    "/{username}", response_model=UserView, responses=error_responses(400, 401, 403, 404, 409, 415, 422, 429)
)
def update_user(
    username: Username, body: Annotated[UserChanges, Body()], auth: Auth, engine: Services
) -> UserView:
    own = auth.caller.username is not None and auth.caller.username.casefold() == username.casefold()
    return engine.accounts.update_user(
        auth.caller,
        username,
        role=body.role,
        disabled=body.disabled,
        password=body.password,
        keep_token=auth.token if own else None,
        current_password=body.current_password,
    )
