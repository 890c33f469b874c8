"""Sign-in, Dev Mode and user answers."""

from __future__ import annotations

from assembly_engine.domain.types import Role
from assembly_engine.services.answers.base import DictAnswer


# -- sign-in and Dev Mode ----------------------------------------------------------------
class UserRef(DictAnswer):
    username: str
    role: Role


class DevModeState(DictAnswer):
    enabled: bool
    expires_at: str | None
    ttl_seconds: int
    remaining_seconds: int
    reason: str | None


class LoggedIn(DictAnswer):
    user: UserRef
    token: str
    csrf_token: str
    expires_in: int


class Who(DictAnswer):
    user: UserRef
    dev_mode: DevModeState
    csrf_token: str | None = None
    sso: bool | None = None  # the account signs in at the OpenID Connect provider


class SessionState(DictAnswer):
    """Who is signed in, or ``signed_in: false`` and why a session ended (``ended``)."""

    signed_in: bool
    ended: str | None = None
    user: UserRef | None = None
    dev_mode: DevModeState | None = None
    csrf_token: str | None = None
    sso: bool | None = None


class SignedOut(DictAnswer):
    signed_out: bool


# -- users -------------------------------------------------------------------------------
class UserView(DictAnswer):
    username: str
    role: Role
    disabled: bool
    created_at: str
    updated_at: str


class UserList(DictAnswer):
    items: list[UserView]
