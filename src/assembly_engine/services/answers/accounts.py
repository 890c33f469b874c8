"""Sign-in, Dev Mode and user answers."""

from __future__ import annotations

from assembly_engine.domain.types import Domain, Role
from assembly_engine.services.answers.base import Answer, OpenAnswer
from assembly_engine.services.auth import dev_mode, users


class UserRef(Answer):
    username: str
    role: Role

    @classmethod
    def of(cls, username: str, role: Role) -> UserRef:
        return cls.built(username=username, role=role)


class DevModeState(Answer):
    enabled: bool
    expires_at: str | None
    ttl_seconds: int
    remaining_seconds: int
    reason: str | None

    @classmethod
    def of(cls, state: dev_mode.DevModeState) -> DevModeState:
        return cls.of_attributes(state)


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


class OwnSession(OpenAnswer):
    id: str  # the session's id in the audit log, never its token
    created_at: str
    last_seen: str
    expires_at: str
    current: bool


class OwnSessionList(OpenAnswer):
    items: list[OwnSession]


class SessionsEnded(OpenAnswer):
    ended: int


class SignedOut(Answer):
    signed_out: bool


class UserView(Answer):
    username: str
    role: Role
    disabled: bool
    created_at: str
    updated_at: str
    must_change_password: bool | None = None

    @classmethod
    def of(cls, user: users.User) -> UserView:
        return cls.of_attributes(user)


class UserList(Answer):
    items: list[UserView]


class TokenView(Answer):
    id: str
    name: str
    scopes: list[str]
    owner: str
    created_at: str
    expires_at: str
    last_used_at: str | None
    status: str  # active, expired, revoked, owner_disabled, owner_no_longer_admin


class CreatedToken(TokenView):
    token: str  # shown this once; only its hash is kept


class TokenList(Answer):
    items: list[TokenView]


class SsoOption(Answer):
    name: str
    start_url: str


class SignInOptions(Answer):
    password_login: bool
    sso: SsoOption | None = None


class ProviderRedirect(Answer):
    url: str
