"""Sign-in, sign-out, user management and the Dev Mode switch — audited use cases.

The building blocks (users, sessions, dev_mode, policy) know nothing of the audit log;
this module is where each action is checked and written down exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import NoReturn

from assembly_engine.domain.types import Role
from assembly_engine.services.answers import accounts as answers
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth import policy
from assembly_engine.services.auth.dev_mode import DevModeService
from assembly_engine.services.auth.own_sessions import OwnSessions
from assembly_engine.services.auth.resolved_sessions import Resolved, ResolvedSessions
from assembly_engine.services.auth.sessions import Session, SessionService, audit_session_id, hash_token
from assembly_engine.services.auth.throttle import PasswordGate, TooManyAttempts
from assembly_engine.services.auth.users import AuthError, InvalidCredentials, User, UserService
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import InvalidInput, NotFound, denied
from assembly_engine.storage.contract.engine_records import SessionRow
from assembly_engine.storage.contract.errors import Unavailable

__all__ = ["AccountService", "SignedIn", "TooManyAttempts", "audit_session_id"]

RECHECK_MESSAGE = (
    "This change needs your own password again: send it as current_password "
    "(the same sudo-style re-check as turning on Dev Mode)."
)


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str
    csrf_token: str
    session: Session


def unknown_name_marker(key: bytes, typed: str) -> str:
    """How the logs name a sign-in for a username that does not exist: a keyed hash, never
    the text (people type passwords into the username field). The same text gives the
    same marker, so repeated guesses can still be told apart and counted."""
    digest = hmac.new(key, typed.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return f"unknown-user:{digest[:16]}"


class AccountService:
    def __init__(
        self,
        users: UserService,
        sessions: SessionService,
        dev_mode: DevModeService,
        passwords: PasswordGate,
        auditor: Auditor,
        name_key: bytes,
        *,
        password_only_for: str | None = None,
    ) -> None:
        # ENGINE_PASSWORD_LOGIN=off: the one break-glass admin who still signs in with a password.
        self.password_only_for = password_only_for
        self.users = users
        self.sessions = sessions
        self.dev_mode = dev_mode
        self.passwords = passwords
        self.auditor = auditor
        self._name_key = name_key
        self.own_sessions = OwnSessions(sessions, auditor)
        self._resolved = ResolvedSessions()

    def logged_name(self, typed: str) -> str:
        """The username as the audit log may show it: an existing account's own name, or
        a marker for a name no account has (see unknown_name_marker)."""
        user = self.users.get(typed)
        return user.username if user is not None else unknown_name_marker(self._name_key, typed)

    # -- sessions ----------------------------------------------------------------------
    def login(self, username: str, password: str, address: str | None) -> SignedIn:
        self.check_password_sign_in_open(username, address)
        try:
            user = self.passwords.authenticate(username, password, address)
        except TooManyAttempts as exc:
            self.sign_in_refused(username, address, exc)
            raise
        except InvalidCredentials as exc:
            self.sign_in_failed(username, address, exc)
        return self.open_session(user)

    def check_password_sign_in_open(self, username: str, address: str | None) -> None:
        """With password sign-in switched off, refuse everyone but the break-glass admin
        before any password is checked."""
        only = self.password_only_for
        if only is None or username.casefold() == only.casefold():
            return
        self._refused_sign_in(
            username, address, Outcome.DENIED, "password sign-in is switched off (single sign-on only)"
        )
        raise denied(
            "forbidden",
            'Password sign-in is switched off on this engine: use "Sign in with" the single sign-on '
            "provider. Only the break-glass administrator signs in with a password.",
        )

    def _refused_sign_in(self, username: str, address: str | None, outcome: Outcome, detail: str) -> None:
        # An anonymous caller's entry: a DENIED one is counted per address and minute.
        self.auditor.record(
            Caller(None, address=address), "login", outcome, user=self.logged_name(username), detail=detail
        )

    # The parts of a sign-in, also used by the awaited one (sign_in.py).
    def sign_in_refused(self, username: str, address: str | None, exc: TooManyAttempts) -> None:
        self._refused_sign_in(username, address, Outcome.DENIED, f"throttled: {exc.message}")

    def sign_in_failed(self, username: str, address: str | None, exc: InvalidCredentials) -> NoReturn:
        self._refused_sign_in(
            username, address, Outcome.FAILED, "unknown user, wrong password or disabled account"
        )
        raise denied("unauthorized", exc.message) from None

    def open_session(self, user: User, *, address: str | None = None, detail: str | None = None) -> SignedIn:
        token, session = self.sessions.create(user.username)
        caller = Caller(
            policy.Actor(user.username, user.role, False),
            audit_session_id(session.token_hash),
            address=address,
        )
        self.auditor.record(caller, "login", Outcome.SUCCESS, detail=detail)
        return SignedIn(user, token, self.sessions.csrf_token_for(token), session)

    def logout(self, caller: Caller, token: str | None) -> None:
        if token:
            self.sessions.revoke(token)
        self.auditor.record(caller, "logout", Outcome.SUCCESS)

    def resolve(self, token: str | None, address: str | None = None) -> tuple[Caller, Session | None]:
        """The caller behind a token (at ``address``); audits a Dev Mode that expired since
        the last request. Callers worked out before are reused while their session row
        is unchanged (resolved_sessions.py): every request comes through here."""
        token_hash = self.sessions.hash_of(token) if token else None
        if token_hash is None:
            return Caller(None, address=address), None
        try:
            row = self.sessions.stored_row(token_hash)
        except Unavailable:  # cluster mode, PostgreSQL away: the full path knows what to do
            return self._resolve(token, token_hash, None, address)
        kept = self._resolved.get(token_hash, row, self.sessions.now(), address)
        if kept is not None:
            return kept.caller, kept.session
        return self._resolve(token, token_hash, row, address)

    def _resolve(
        self, token: str | None, token_hash: str, row: SessionRow | None, address: str | None
    ) -> tuple[Caller, Session | None]:
        session = self.sessions.resolve(token)
        if session is None:
            self._resolved.forget(token_hash)
            return Caller(None, address=address), None
        state = self.dev_mode.state(session)
        role = Role(session.role)
        caller = Caller(
            policy.Actor(session.username, role, state.enabled), audit_session_id(session.token_hash)
        )
        if state.expired_just_now:
            self.auditor.record(caller, "dev_mode.expire", Outcome.SUCCESS, detail="Dev Mode expired")
        caller = replace(caller, address=address)
        if row is not None and (row.dev_mode_until is None or state.enabled):
            try:
                unchanged = self.sessions.stored_row(token_hash) is row  # nothing moved meanwhile
            except Unavailable:
                unchanged = False
            if unchanged:
                self._resolved.keep(Resolved(row, session, caller, self.sessions.fresh_until(row)))
        return caller, session

    # -- Dev Mode ----------------------------------------------------------------------
    # -- refusals decided at the edge (api/deps.py, api/limits.py) ------------------------
    def refused_unauthenticated(self, address: str | None, method: str, path: str) -> None:
        self.auditor.record(
            Caller(None, address=address),
            "request.unauthenticated",
            Outcome.DENIED,
            detail=f"{method} {path[:200]} without a session",
        )

    def refused_token(self, address: str | None, method: str, path: str) -> None:
        """Requests with an unknown, revoked or expired token are refusals like any other
        (counted per address and minute, caller.py)."""
        self.auditor.record(
            Caller(None, address=address),
            "auth.token",
            Outcome.DENIED,
            detail=f"unknown, expired or revoked token on {method} {path[:200]}",
        )

    def refused_cross_site(self, caller: Caller, method: str, path: str) -> None:
        self.auditor.record(
            caller,
            f"csrf {method} {path}",
            Outcome.DENIED,
            detail="cross-site or token-less cookie request refused",
        )

    def dev_mode_state(self, caller: Caller, session: Session | None) -> answers.DevModeState:
        self.auditor.require(policy.may_read(caller.actor), caller, "dev_mode.read")
        if session is None:  # the local CLI: an administrator with Dev Mode, without expiry
            return answers.DevModeState.built(
                enabled=caller.local_cli,
                expires_at=None,
                ttl_seconds=0,
                remaining_seconds=0,
                reason="local CLI" if caller.local_cli else None,
            )
        return answers.DevModeState.of(self.dev_mode.state(session))

    def switch_dev_mode(
        self,
        caller: Caller,
        session: Session | None,
        *,
        enabled: bool,
        password: str | None,
        reason: str | None,
    ) -> answers.DevModeState:
        action = "dev_mode.enable" if enabled else "dev_mode.disable"
        self.auditor.require(policy.may_toggle_dev_mode(caller.actor), caller, action)
        if session is None:
            raise InvalidInput("Dev Mode belongs to a signed-in session; the local CLI always has it.")
        if enabled and caller.actor is not None and self.users.sso_marker_of(caller.actor.username):
            self.auditor.record(
                caller, action, Outcome.DENIED, detail="single sign-on account: password re-check refused"
            )
            raise denied(
                "forbidden",
                "Your account signs in at the single sign-on provider and has no password: switch Dev Mode "
                "on through the provider (POST /api/auth/oidc/dev-mode, or the web UI's Dev Mode switch).",
            )
        if not enabled:
            state = self.dev_mode.disable(session)
            self.auditor.record(caller, action, Outcome.SUCCESS, detail=reason)
            return answers.DevModeState.of(state)
        try:
            state = self.dev_mode.enable(session, password or "", reason or "", caller.address)
        except TooManyAttempts:
            self.auditor.record(caller, action, Outcome.DENIED, detail="password checks throttled")
            raise
        except InvalidCredentials:
            self.auditor.record(caller, action, Outcome.DENIED, detail="password re-check failed")
            raise denied("forbidden", "The password is not correct; Dev Mode stays off.") from None
        except AuthError as exc:
            self.auditor.record(caller, action, Outcome.FAILED, detail=exc.message)
            raise
        assert caller.actor is not None  # may_toggle_dev_mode let only admins through
        enabled_caller = replace(caller, actor=policy.Actor(caller.actor.username, caller.actor.role, True))
        self.auditor.record(enabled_caller, action, Outcome.SUCCESS, detail=state.reason)
        return answers.DevModeState.of(state)

    # -- users -------------------------------------------------------------------------
    def list_users(self, caller: Caller) -> answers.UserList:
        self.auditor.require(policy.may_manage_users(caller.actor), caller, "user.list")
        return answers.UserList.built(items=[answers.UserView.of(u) for u in self.users.list()])

    def _recheck(self, caller: Caller, action: str, what: str, current_password: str | None) -> str:
        """The sudo-style re-check before a change that hands out admin power or takes over
        another account: the caller's own password, through the throttle. A refusal is
        audited here; a pass is noted in the change's own entry (the returned suffix).
        The local CLI is exempt: it is the engine's own OS user on the engine's own
        machine, who controls every file of the engine anyway (design.md)."""
        if caller.local_cli:
            return " (local CLI, no password re-check)"
        assert caller.username is not None  # may_manage_users let only admins through
        if not current_password:
            self.auditor.record(caller, action, Outcome.DENIED, detail=f"{what}: no password re-check sent")
            raise denied("forbidden", RECHECK_MESSAGE)
        try:
            ok = self.passwords.verify(caller.username, current_password, caller.address)
        except TooManyAttempts:
            self.auditor.record(caller, action, Outcome.DENIED, detail=f"{what}: password checks throttled")
            raise
        if not ok:
            self.auditor.record(caller, action, Outcome.DENIED, detail=f"{what}: password re-check failed")
            raise denied(
                "forbidden",
                "The password re-check failed: current_password is not your password. Nothing was changed.",
            )
        return " (password re-checked)"

    def create_user(
        self, caller: Caller, username: str, password: str, role: Role, current_password: str | None = None
    ) -> answers.UserView:
        self.auditor.require(policy.may_manage_users(caller.actor), caller, "user.create")
        rechecked = ""
        if role is Role.ADMIN:
            rechecked = self._recheck(caller, "user.create", f"create admin {username}", current_password)
        try:
            user = self.users.create(username, password, role)
        except AuthError as exc:
            self.auditor.record(caller, "user.create", Outcome.FAILED, detail=f"{username}: {exc.message}")
            raise
        self.auditor.record(
            caller, "user.create", Outcome.SUCCESS, detail=f"{user.username} as {user.role.value}{rechecked}"
        )
        return answers.UserView.of(user)

    def _change_own_password(self, caller: Caller, username: str, current_password: str | None) -> None:
        """Everyone, admins included, proves they know their current password first: a
        stolen session alone must not be enough to take the account (and then Dev Mode)."""
        if self.users.sso_marker_of(username) is not None:
            self.auditor.record(
                caller,
                "user.update",
                Outcome.DENIED,
                detail=f"{username}: single sign-on account has no password",
            )
            raise denied(
                "forbidden",
                "Your account signs in at the single sign-on provider and has no password here: "
                "change your password at the provider.",
            )
        if not current_password:
            self.auditor.record(
                caller,
                "user.update",
                Outcome.DENIED,
                detail=f"{username}: own password change without the current password",
            )
            raise denied("forbidden", "To change your password, send current_password as well.")
        try:
            ok = self.passwords.verify(username, current_password, caller.address)
        except TooManyAttempts:
            self.auditor.record(
                caller, "user.update", Outcome.DENIED, detail=f"{username}: own password change throttled"
            )
            raise
        if not ok:
            self.auditor.record(
                caller,
                "user.update",
                Outcome.DENIED,
                detail=f"{username}: own password change with a wrong current password",
            )
            raise denied(
                "forbidden", "current_password is not your current password; your password was not changed."
            )

    def update_user(
        self,
        caller: Caller,
        username: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password: str | None = None,
        keep_token: str | None = None,
        current_password: str | None = None,
    ) -> answers.UserView:
        own = caller.username is not None and caller.username.casefold() == username.casefold()
        own_password_only = own and role is None and disabled is None and password is not None
        if own_password_only and not caller.local_cli:
            self._change_own_password(caller, username, current_password)
        else:
            self.auditor.require(policy.may_manage_users(caller.actor), caller, "user.update")
        if role is None and disabled is None and password is None:
            raise InvalidInput("Send at least one of role, disabled or password.")
        target = self.users.get(username)
        if target is None:
            raise NotFound(f"No user named '{username}' exists.")
        rechecked = ""
        if not own_password_only:
            sensitive = []
            if role is Role.ADMIN and target.role is not Role.ADMIN:
                sensitive.append(f"promote {target.username} to admin")
            if password is not None:
                sensitive.append(f"reset the password of {target.username}")
            if sensitive:
                rechecked = self._recheck(caller, "user.update", " and ".join(sensitive), current_password)
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
                self.users.set_password(
                    username, password, keep_token_hash=keep, chosen_by_owner=own_password_only
                )
                changes.append("password changed")
        except AuthError as exc:
            self.auditor.record(caller, "user.update", Outcome.FAILED, detail=f"{username}: {exc.message}")
            raise
        self.auditor.record(
            caller, "user.update", Outcome.SUCCESS, detail=f"{username}: {', '.join(changes)}{rechecked}"
        )
        user = self.users.get(username)
        assert user is not None
        return answers.UserView.of(user)
