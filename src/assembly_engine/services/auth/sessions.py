"""Server-side sign-in sessions and their CSRF tokens.

The raw token goes to the client once (cookie or ``Authorization: Bearer``) and is never
stored: the database keeps only its SHA-256, so a leaked copy of ``engine.db`` (or a
backup) cannot be replayed as a session. Lookups by hash also make a timing side channel
on the token comparison pointless.

CSRF: the API sets a second, script-readable cookie with :meth:`SessionService.csrf_token_for`
and requires it back in a header on unsafe cookie-authenticated requests (double submit).
The value is an HMAC of the session's token hash under a secret kept in the database, so
it is bound to the session, survives restarts, and cannot be computed from the hash alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from assembly_engine.domain.types import Role
from assembly_engine.services.auth.users import AuthError, InvalidCredentials
from assembly_engine.services.errors import Unauthorized
from assembly_engine.storage.contract.engine_records import SessionRow
from assembly_engine.storage.contract.errors import StorageFailed, Unavailable
from assembly_engine.storage.contract.interfaces import EngineStore

log = logging.getLogger("assembly_engine.sessions")

# secrets.token_urlsafe(32) -> 43 characters; accept some slack, refuse anything absurd
# before hashing it (cookies and headers are attacker-controlled).
MAX_TOKEN_LENGTH = 256
CSRF_SECRET_NAME = "csrf"
RECENT_SESSIONS = 10_000


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a session token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class InvalidSession(AuthError, Unauthorized):
    """A session token that is unknown, expired or revoked."""

    def __init__(self, message: str = "Your session has ended; please sign in again.") -> None:
        super().__init__(message)


def audit_session_id(token_hash: str) -> str:
    """The session as the audit log names it: a hash of the stored key, never the key."""
    return hashlib.sha256(f"audit:{token_hash}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    role: Role
    created_at: float
    expires_at: float
    dev_mode_until: float | None
    dev_mode_reason: str | None
    last_seen: float = 0.0

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def _session(row: SessionRow) -> Session:
    return Session(
        token_hash=row.token_hash,
        username=row.username,
        role=Role(row.role),
        created_at=row.created_at,
        expires_at=row.expires_at,
        dev_mode_until=row.dev_mode_until,
        dev_mode_reason=row.dev_mode_reason,
        last_seen=row.last_seen,
    )


class SessionService:
    def __init__(
        self,
        store: EngineStore,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        touch_interval_seconds: float = 60.0,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("session ttl_seconds must be positive")
        self._store = store
        self._ttl = float(ttl_seconds)
        self._clock = clock
        # last_seen is informational; writing it on every request would turn each read
        # into a synchronous=FULL write, so it is refreshed at most once per interval.
        self._touch_interval = touch_interval_seconds
        self._csrf_secret: bytes | None = None
        # Cluster mode: the sessions last resolved, so reads go on while PostgreSQL is
        # unreachable (writes are refused then anyway). Bounded: oldest forgotten first.
        self._recent: dict[str, SessionRow] = {}

    @property
    def ttl_seconds(self) -> float:
        return self._ttl

    def create(self, username: str) -> tuple[str, Session]:
        """Open a session for an existing, enabled user; returns (raw token, session)."""
        now = self._clock()
        self._store.purge_sessions(now)
        token = secrets.token_urlsafe(32)  # 256 bits
        row = self._store.insert_session(hash_token(token), username, now, now + self._ttl)
        if row is None:
            raise InvalidCredentials("This account does not exist or is disabled.")
        self._remember(row)
        return token, _session(row)

    def now(self) -> float:
        return self._clock()

    def fresh_until(self, row: SessionRow) -> float:
        """Until when a judgement of ``row`` holds: its expiry, its Dev Mode's end, or the
        next ``last_seen`` touch, whichever comes first (services/auth/resolved_sessions.py)."""
        until = min(row.expires_at, row.last_seen + self._touch_interval)
        return until if row.dev_mode_until is None else min(until, row.dev_mode_until)

    def hash_of(self, token: str | None) -> str | None:
        """The stored key of a plausible token; None for anything that cannot be one."""
        return self._hash_if_plausible(token)

    def stored_row(self, token_hash: str) -> SessionRow | None:
        """The store's row as it is now (raises Unavailable while the store is away)."""
        return self._store.get_session(token_hash)

    def resolve(self, token: str | None) -> Session | None:
        """The live session for a raw token; None if unknown, expired, revoked, or if its
        user has been disabled or deleted."""
        token_hash = self._hash_if_plausible(token)
        if token_hash is None:
            return None
        return self.resolve_hash(token_hash)

    def resolve_hash(self, token_hash: str) -> Session | None:
        """Like :meth:`resolve`, for callers that already hold the hash. While the store
        is unreachable, a session resolved before still counts until it expires."""
        try:
            row = self._store.get_session(token_hash)
        except Unavailable:
            row = self._recent.get(token_hash)
            if row is None:
                raise
            reachable = False
        else:
            reachable = True
        now = self._clock()
        if row is None or row.revoked or row.user_disabled or row.expires_at <= now:
            self._recent.pop(token_hash, None)
            return None
        if reachable:
            self._remember(row)
            if now - row.last_seen >= self._touch_interval:
                try:
                    self._store.touch_session(token_hash, now)
                except StorageFailed:  # a full disk: last_seen is informational; keep serving
                    log.warning("could not record a session's last use (disk full or read-only)")
        return _session(row)

    def _remember(self, row: SessionRow) -> None:
        self._recent.pop(row.token_hash, None)
        self._recent[row.token_hash] = row
        if len(self._recent) > RECENT_SESSIONS:
            del self._recent[next(iter(self._recent))]

    def end_reason(self, token: str | None) -> str | None:
        """Why a session the browser still holds no longer works: ``account_disabled``,
        ``expired`` or ``revoked``; None for a live, unknown or missing token."""
        token_hash = self._hash_if_plausible(token)
        row = self._store.get_session(token_hash) if token_hash is not None else None
        if row is None:
            return None
        if row.user_disabled:
            return "account_disabled"
        if row.revoked:
            return "revoked"
        if row.expires_at <= self._clock():
            return "expired"
        return None

    def live_sessions(self, username: str) -> list[Session]:
        """The user's sessions that still work (not ended, not expired), oldest first."""
        now = self._clock()
        return [
            _session(row)
            for row in self._store.list_sessions(username)
            if not row.revoked and not row.user_disabled and row.expires_at > now
        ]

    def revoke(self, token: str | None) -> bool:
        token_hash = self._hash_if_plausible(token)
        return token_hash is not None and self._store.revoke_session(token_hash)

    def revoke_hash(self, token_hash: str) -> bool:
        return self._store.revoke_session(token_hash)

    def revoke_all(self, username: str, except_hash: str | None = None) -> int:
        """End every session of a user (but ``except_hash``); returns how many ended."""
        return self._store.revoke_user_sessions(username, except_hash)

    # -- CSRF ------------------------------------------------------------------------------

    def csrf_token_for(self, token: str) -> str:
        """The CSRF token that belongs to a session token (stable for the session)."""
        return self._csrf_for_hash(hash_token(token))

    def check_csrf(self, token: str | None, presented: str | None) -> bool:
        """Constant-time check of a presented CSRF token against the session's."""
        token_hash = self._hash_if_plausible(token)
        if token_hash is None or not isinstance(presented, str) or not presented:
            return False
        expected = self._csrf_for_hash(token_hash).encode("ascii")
        # compare_digest refuses non-ASCII str; compare bytes so odd input is just "no".
        return hmac.compare_digest(expected, presented.encode("utf-8", "surrogatepass"))

    def _csrf_for_hash(self, token_hash: str) -> str:
        if self._csrf_secret is None:
            self._csrf_secret = self._store.secret(CSRF_SECRET_NAME)
        digest = hmac.new(self._csrf_secret, token_hash.encode("ascii"), hashlib.sha256)
        return digest.hexdigest()

    @staticmethod
    def _hash_if_plausible(token: object) -> str | None:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            return hash_token(token)
        except UnicodeEncodeError:  # lone surrogates
            return None
