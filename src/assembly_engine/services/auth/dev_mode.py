"""Dev Mode: a short-lived, per-session elevation that lets an admin change the Official
and Community libraries.

It is stored on the session row, never on the user and never in the browser, so turning it
on in one tab or device does not elevate any other session of the same admin. Enabling
re-checks the password (sudo-style) and requires a reason for the audit log. It expires on
its own after ``ttl_seconds``; the first :meth:`DevModeService.state` call that notices the
expiry reports ``expired_just_now`` so the caller can write one audit entry for it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from assembly_engine import input_limits as limits
from assembly_engine.domain.clock import utc_iso
from assembly_engine.domain.types import Role
from assembly_engine.services.auth.sessions import InvalidSession, Session
from assembly_engine.services.auth.throttle import PasswordGate
from assembly_engine.services.auth.users import AuthError, InvalidCredentials, UserService
from assembly_engine.services.errors import Forbidden
from assembly_engine.storage.contract.errors import Unavailable
from assembly_engine.storage.contract.interfaces import EngineStore

MAX_REASON_LENGTH = 500


class NotAdmin(AuthError, Forbidden):
    """Dev Mode is for admins only."""

    def __init__(self, message: str = "Only admins can switch Dev Mode.") -> None:
        super().__init__(message)


class InvalidReason(AuthError):
    """A Dev Mode reason that is empty or too long."""


@dataclass(frozen=True)
class DevModeState:
    enabled: bool
    expires_at: str | None  # ISO-8601 UTC with Z, None when off
    ttl_seconds: int  # configured lifetime of a Dev Mode switch-on
    expired_just_now: bool = False
    remaining_seconds: int = 0  # for the UI countdown; 0 when off
    reason: str | None = None


def validate_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidReason("Say why you are enabling Dev Mode (a reason is required).")
    cleaned = reason.strip()
    if len(cleaned) > MAX_REASON_LENGTH:
        raise InvalidReason(f"The reason can have at most {MAX_REASON_LENGTH} characters.")
    # The reason ends up in one-line log entries and the banner: control characters and
    # line separators could forge or garble lines there, bidi controls make it read
    # differently from what it is.
    bad = limits.forbidden_name_character(cleaned)
    if bad is not None:
        raise InvalidReason(f"The reason must be a single line of plain text; it contains {bad}.")
    return cleaned


class DevModeService:
    def __init__(
        self,
        store: EngineStore,
        users: UserService,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
        *,
        passwords: PasswordGate,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("Dev Mode ttl_seconds must be positive")
        self._store = store
        self._users = users
        self._passwords = passwords  # the throttled check, like every password check
        self._ttl = int(ttl_seconds)
        self._clock = clock

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def enable(
        self, session: Session, password: str, reason: str, address: str | None = None
    ) -> DevModeState:
        """Switch Dev Mode on for this one session (or restart its timer). The password is
        checked through the throttle, for the client at ``address``."""
        # Judge the role as stored now, not as cached on the session object.
        user = self._users.get(session.username)
        if user is None or user.disabled:
            raise InvalidSession()
        if user.role is not Role.ADMIN:
            raise NotAdmin()
        cleaned = validate_reason(reason)
        if not self._passwords.verify(session.username, password, address):
            raise InvalidCredentials("Wrong password; Dev Mode stays off.")
        return self._switch_on(session, cleaned)

    def enable_reauthenticated(self, session: Session, reason: str) -> DevModeState:
        """Switch Dev Mode on after the person proved who they are at the sign-in provider
        just now (services/auth/sso.py checked the fresh authentication)."""
        user = self._users.get(session.username)
        if user is None or user.disabled:
            raise InvalidSession()
        if user.role is not Role.ADMIN:
            raise NotAdmin()
        return self._switch_on(session, validate_reason(reason))

    def _switch_on(self, session: Session, cleaned: str) -> DevModeState:
        now = self._clock()
        until = now + self._ttl
        if not self._store.set_dev_mode(session.token_hash, until, cleaned, now):
            raise InvalidSession()
        return self._on(until, now, cleaned)

    def disable(self, session: Session) -> DevModeState:
        """Switch Dev Mode off for this session (harmless if it was already off)."""
        self._store.set_dev_mode(session.token_hash, None, None, self._clock())
        return self._off()

    def state(self, session: Session) -> DevModeState:
        """The session's Dev Mode as of now, read from the store (not from ``session``)."""
        now = self._clock()
        try:
            row = self._store.get_session(session.token_hash)
        except Unavailable:
            return self._off()  # cluster mode, PostgreSQL away: reads go on, nothing elevated
        if row is None or row.revoked or row.user_disabled or row.expires_at <= now:
            return self._off()
        if row.dev_mode_until is None:
            return self._off()
        if row.role != Role.ADMIN.value:
            # Demoted while elevated (set_role clears it too; this is the belt to those braces).
            self._store.set_dev_mode(session.token_hash, None, None, now)
            return self._off()
        if row.dev_mode_until > now:
            return self._on(row.dev_mode_until, now, row.dev_mode_reason)
        # Expired: exactly one caller clears it and learns that it did.
        cleared = self._store.clear_expired_dev_mode(session.token_hash, now)
        return self._off(expired_just_now=cleared)

    def is_enabled(self, session: Session) -> bool:
        """Shorthand for ``state(session).enabled``. It may consume the one-time
        ``expired_just_now`` signal, so code that audits the expiry should call state()."""
        return self.state(session).enabled

    def _on(self, until: float, now: float, reason: str | None) -> DevModeState:
        return DevModeState(
            enabled=True,
            expires_at=utc_iso(until, timespec="seconds"),
            ttl_seconds=self._ttl,
            remaining_seconds=max(0, math.ceil(until - now)),
            reason=reason,
        )

    def _off(self, *, expired_just_now: bool = False) -> DevModeState:
        return DevModeState(
            enabled=False,
            expires_at=None,
            ttl_seconds=self._ttl,
            expired_just_now=expired_just_now,
        )
