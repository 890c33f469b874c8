"""Sign-in, sign-out, user management and the Dev Mode switch — audited use cases.

The building blocks (users, sessions, dev_mode, policy) know nothing of the audit log;
this module is where each action is checked and written down exactly once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from ..audit import Outcome
from ..caller import Auditor, Caller
from ..errors import Denied, InvalidInput, NotFound, ServiceError
from . import policy
from .dev_mode import DevModeService, DevModeState
from .sessions import Session, SessionService, hash_token
from .users import AuthError, InvalidCredentials, LoginThrottle, Role, User, UserService


class TooManyAttempts(ServiceError):
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    csrf_token: str
    session: Session


def user_view(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def dev_mode_view(state: DevModeState) -> dict[str, Any]:
    return {
        "enabled": state.enabled,
        "expires_at": state.expires_at,
        "ttl_seconds": state.ttl_seconds,
        "remaining_seconds": state.remaining_seconds,
        "reason": state.reason,
    }


def audit_session_id(token_hash: str) -> str:
    """The session as the audit log names it: a hash of the stored key, never the key."""
    return hashlib.sha256(f"audit:{token_hash}".encode()).hexdigest()[:24]


class AccountService:
    def __init__(self, users: UserService, sessions: SessionService, dev_mode: DevModeService,
                 throttle: LoginThrottle, auditor: Auditor) -> None:
        self.users = users
        self.sessions = sessions
        self.dev_mode = dev_mode
        self.throttle = throttle
        self.auditor = auditor

    # -- sessions ----------------------------------------------------------------------
    def login(self, username: str, password: str, address: str | None) -> SignedIn:
        anonymous = Caller(None)
        wait = self.throttle.check(username, address)
        if wait > 0:
            self.auditor.record(anonymous, "login", Outcome.DENIED, user=username,
                                detail=f"throttled for {int(wait) + 1}s after repeated failures")
            raise TooManyAttempts(
                f"Too many failed sign-ins; wait {int(wait) + 1} seconds and try again.",
                retry_after=int(wait) + 1,
            )
        try:
            user = self.users.authenticate(username, password)
        except InvalidCredentials as exc:
            self.throttle.record_failure(username, address)
            self.auditor.record(anonymous, "login", Outcome.FAILED, user=username,
                                detail="unknown user, wrong password or disabled account")
            raise Denied("unauthorized", exc.message) from None
        self.throttle.record_success(username, address)
        token, session = self.sessions.create(user.username)
        caller = Caller(policy.Actor(user.username, user.role, False),
                        audit_session_id(session.token_hash))
        self.auditor.record(caller, "login", Outcome.SUCCESS)
        return SignedIn(user, token, self.sessions.csrf_token_for(token), session)

    def logout(self, caller: Caller, token: str | None) -> None:
        if token:
            self.sessions.revoke(token)
        self.auditor.record(caller, "logout", Outcome.SUCCESS)

    def resolve(self, token: str | None) -> tuple[Caller, Session | None]:
        """The caller behind a token; audits a Dev Mode that expired since the last request."""
        session = self.sessions.resolve(token) if token else None
        if session is None:
            return Caller(None), None
        state = self.dev_mode.state(session)
        role = Role(session.role)
        caller = Caller(policy.Actor(session.username, role, state.enabled),
                        audit_session_id(session.token_hash))
        if state.expired_just_now:
            self.auditor.record(caller, "dev_mode.expire", Outcome.SUCCESS,
                                detail="Dev Mode expired")
        return caller, session

    # -- Dev Mode ----------------------------------------------------------------------
    def dev_mode_state(self, caller: Caller, session: Session | None) -> dict[str, Any]:
        self.auditor.require(policy.may_read(caller.actor), caller, "dev_mode.read")
        if session is None:  # the local CLI: an administrator with Dev Mode, without expiry
            return {"enabled": caller.local_cli, "expires_at": None, "ttl_seconds": 0,
                    "remaining_seconds": 0, "reason": "local CLI" if caller.local_cli else None}
        return dev_mode_view(self.dev_mode.state(session))

    def switch_dev_mode(self, caller: Caller, session: Session | None, *, enabled: bool,
                        password: str | None, reason: str | None) -> dict[str, Any]:
        action = "dev_mode.enable" if enabled else "dev_mode.disable"
        self.auditor.require(policy.may_toggle_dev_mode(caller.actor), caller, action)
        if session is None:
            raise InvalidInput("Dev Mode belongs to a signed-in session; the local CLI always has it.")
        if not enabled:
            state = self.dev_mode.disable(session)
            self.auditor.record(caller, action, Outcome.SUCCESS, detail=reason)
            return dev_mode_view(state)
        try:
            state = self.dev_mode.enable(session, password or "", reason or "")
        except InvalidCredentials:
            self.auditor.record(caller, action, Outcome.DENIED, detail="password re-check failed")
            raise Denied("forbidden", "The password is not correct; Dev Mode stays off.") from None
        except AuthError as exc:
            self.auditor.record(caller, action, Outcome.FAILED, detail=exc.message)
            raise
        enabled_caller = Caller(policy.Actor(caller.actor.username, caller.actor.role, True),  # type: ignore[union-attr]
                                caller.session)
        self.auditor.record(enabled_caller, action, Outcome.SUCCESS, detail=state.reason)
        return dev_mode_view(state)

    # -- users -------------------------------------------------------------------------
    def list_users(self, caller: Caller) -> list[dict[str, Any]]:
        self.auditor.require(policy.may_manage_users(caller.actor), caller, "user.list")
        return [user_view(u) for u in self.users.list()]

    def create_user(self, caller: Caller, username: str, password: str, role: Role) -> dict[str, Any]:
        self.auditor.require(policy.may_manage_users(caller.actor), caller, "user.create")
        try:
            user = self.users.create(username, password, role)
        except AuthError as exc:
            self.auditor.record(caller, "user.create", Outcome.FAILED, detail=f"{username}: {exc.message}")
            raise
        self.auditor.record(caller, "user.create", Outcome.SUCCESS,
                            detail=f"{user.username} as {user.role.value}")
        return user_view(user)

    def update_user(self, caller: Caller, username: str, *, role: Role | None = None,
                    disabled: bool | None = None, password: str | None = None,
                    keep_token: str | None = None, current_password: str | None = None) -> dict[str, Any]:
        own = caller.username is not None and caller.username.casefold() == username.casefold()
        if own and role is None and disabled is None and password is not None and not caller.is_admin:
            # Anyone may change their own password, proving they know the current one.
            if not self.users.verify_password(username, current_password or ""):
                self.auditor.record(caller, "user.update", Outcome.DENIED,
                                    detail=f"{username}: own password change without the current password")
                raise Denied("forbidden", "To change your password, send current_password as well.")
        else:
            self.auditor.require(policy.may_manage_users(caller.actor), caller, "user.update")
        if role is None and disabled is None and password is None:
            raise InvalidInput("Send at least one of role, disabled or password.")
        if self.users.get(username) is None:
            raise NotFound(f"No user named '{username}' exists.")
        changes = []
        try:
            if role is not None:
                self.users.set_role(username, role)
                changes.append(f"role={role.value}")
            if disabled is not None:
                self.users.set_disabled(username, disabled)
                changes.append(f"disabled={str(disabled).lower()}")
            if password is not None:
                keep = hash_token(keep_token) if keep_token else None
                self.users.set_password(username, password, keep_token_hash=keep)
                changes.append("password changed")
        except AuthError as exc:
            self.auditor.record(caller, "user.update", Outcome.FAILED, detail=f"{username}: {exc.message}")
            raise
        self.auditor.record(caller, "user.update", Outcome.SUCCESS,
                            detail=f"{username}: {', '.join(changes)}")
        user = self.users.get(username)
        assert user is not None
        return user_view(user)



