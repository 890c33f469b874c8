"""Accounts of single sign-on: made at the first sign-in, role from the groups claim at
every sign-in, refused in no mapped group (Docs/tokens-and-sso.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from assembly_engine.config import Settings
from assembly_engine.domain.types import Role
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auth import policy
from assembly_engine.services.auth.accounts import AccountService, SignedIn, audit_session_id
from assembly_engine.services.auth.dev_mode import DevModeState
from assembly_engine.services.auth.oidc_provider import IdentityClaims
from assembly_engine.services.auth.sessions import Session
from assembly_engine.services.auth.users import USERNAME_PATTERN, AuthError, User, sso_marker
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import EngineError
from assembly_engine.storage.contract.interfaces import EngineStore


class SignInRefused(EngineError):
    """A sign-in (or Dev Mode re-authentication) the engine refuses, with its status."""

    def __init__(
        self,
        message: str,
        status: int = 403,
        code: str = "forbidden",
        *,
        user: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.user = user  # the account it concerns, for the audit entry
        self.detail = detail  # what the audit entry says, when not the message


def _groups(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class SsoConfig:
    issuer: str
    client_id: str
    client_secret: str
    groups_claim: str
    admin_groups: frozenset[str]
    operator_groups: frozenset[str]
    username_claim: str
    provider_name: str
    redirect_url: str | None
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> SsoConfig | None:
        if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
            return None
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            groups_claim=settings.oidc_groups_claim,
            admin_groups=_groups(settings.oidc_admin_groups),
            operator_groups=_groups(settings.oidc_operator_groups),
            username_claim=settings.oidc_username_claim,
            provider_name=settings.oidc_provider_name,
            redirect_url=settings.oidc_redirect_url,
            timeout_seconds=settings.oidc_timeout_seconds,
        )

    def role_for(self, claims: dict[str, Any]) -> Role | None:
        """Admin if in an admin group, else operator if in an operator group, else None."""
        raw = claims.get(self.groups_claim)
        groups = (
            {raw}
            if isinstance(raw, str)
            else {g for g in raw if isinstance(g, str)}
            if isinstance(raw, list)
            else set()
        )
        if groups & self.admin_groups:
            return Role.ADMIN
        if groups & self.operator_groups:
            return Role.OPERATOR
        return None


class SsoAccounts:
    def __init__(self, config: SsoConfig, accounts: AccountService, store: EngineStore) -> None:
        self._config = config
        self._accounts = accounts
        self._store = store

    def _username(self, identity: IdentityClaims) -> str:
        value = identity.claims.get(self._config.username_claim)
        if not isinstance(value, str) or USERNAME_PATTERN.fullmatch(value) is None:
            raise SignInRefused(
                f"The provider's '{self._config.username_claim}' claim is missing or is no usable engine "
                "username (1 to 64 letters, digits, '_', '.', '@' or '-'). An administrator can choose "
                "another claim with ENGINE_OIDC_USERNAME_CLAIM."
            )
        return value

    def _own_account(self, username: str, identity: IdentityClaims) -> User | None:
        """The account of this provider identity, None at the first sign-in; refused when
        the name belongs to a password account or to another identity of the provider."""
        users = self._accounts.users
        user = users.get(username)
        if user is None:
            return None
        if users.sso_marker_of(username) != sso_marker(self._config.issuer, identity.subject):
            raise SignInRefused(
                f"An engine account named '{username}' already exists and is not yours at the provider "
                "(a password account, or another person's). Ask an administrator to rename or remove it.",
                user=username,
            )
        return user

    def sign_in(self, identity: IdentityClaims, address: str | None) -> SignedIn:
        username = self._username(identity)
        user = self._own_account(username, identity)
        role = self._config.role_for(identity.claims)
        if role is None:
            ended = self._end_everything(username) if user is not None else ""
            raise SignInRefused(
                f"You are '{username}' at the provider, but in none of the groups this engine maps to a "
                f"role (claim '{self._config.groups_claim}'). Ask your administrator to add you to the "
                "engine's admin or operator group.",
                user=username,
                detail=f"in no mapped group{ended}",
            )
        users = self._accounts.users
        engine = Caller(None, address=address)

        def changed(action: str, detail: str) -> None:
            self._accounts.auditor.record(engine, action, Outcome.SUCCESS, user=username, detail=detail)

        try:
            if user is None:
                user = users.create_sso(username, sso_marker(self._config.issuer, identity.subject), role)
                changed("user.create", f"{username} as {role.value} by single sign-on")
            elif user.disabled:
                raise SignInRefused(
                    f"The engine account '{username}' is disabled; ask an administrator.", user=username
                )
            elif user.role is not role:
                user = users.set_role(username, role)
                changed("user.update", f"{username}: role={role.value} from the provider's groups")
        except AuthError as exc:  # a name taken meanwhile, the last admin, …
            raise SignInRefused(
                f"The sign-in cannot update the account: {exc.message}", 409, "conflict"
            ) from None
        return self._accounts.open_session(user, address=address, detail="single sign-on")

    def _end_everything(self, username: str) -> str:
        """Someone who lost every mapped group keeps neither sessions nor API tokens."""
        sessions = self._accounts.sessions.revoke_all(username)
        tokens = 0
        for row in self._store.list_tokens(username):
            if not row.revoked and self._store.revoke_token(row.id):
                tokens += 1
        return f"; ended {sessions} session(s) and revoked {tokens} token(s)"

    def require_same_person(self, username: str, identity: IdentityClaims) -> None:
        if self._accounts.users.sso_marker_of(username) != sso_marker(self._config.issuer, identity.subject):
            raise SignInRefused(
                f"The provider authenticated someone else than '{username}'; Dev Mode stays off.",
                403,
                "forbidden",
            )

    def enable_dev_mode(self, session: Session, identity: IdentityClaims, reason: str) -> DevModeState:
        caller = Caller(
            policy.Actor(session.username, session.role, False), audit_session_id(session.token_hash)
        )
        if self._config.role_for(identity.claims) is not Role.ADMIN:
            raise SignInRefused(
                "The provider's groups no longer make you an admin of this engine; Dev Mode stays off. "
                "Your role changes at your next sign-in.",
                403,
                "forbidden",
            )
        state = self._accounts.dev_mode.enable_reauthenticated(session, reason)
        enabled = replace(caller, actor=policy.Actor(session.username, session.role, True))
        self._accounts.auditor.record(
            enabled, "dev_mode.enable", Outcome.SUCCESS, detail=f"{reason} (re-authenticated at the provider)"
        )
        return state
