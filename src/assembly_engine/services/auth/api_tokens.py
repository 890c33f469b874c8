"""API tokens for programs: created, listed, revoked and judged at every use — audited.

A token acts as its owner, limited to its scopes, and never with Dev Mode. Its secret is
shown once at creation; the store keeps only its SHA-256 (like sessions.py), and neither
the secret nor its hash is ever logged or audited: the audit log names a token by its id.

The secret starts with ``aet_`` so the API can tell a token from a session token without a
second lookup, and so secret scanners can recognise a leaked one.

A token stops working when it expires, is revoked, its owner is disabled or deleted, or
its owner has lost the role the token was made with (an admin demoted to operator); a
token made by an operator who is promoted later keeps acting as an operator.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from assembly_engine.domain.clock import utc_iso
from assembly_engine.domain.types import Role
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auditor import Auditor
from assembly_engine.services.auth.policy import Actor
from assembly_engine.services.auth.sessions import MAX_TOKEN_LENGTH, hash_token
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import (
    EngineError,
    Forbidden,
    InsufficientScope,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from assembly_engine.storage.contract.interfaces import EngineStore
from assembly_engine.storage.contract.token_records import NewToken, TokenRow

SCOPES = ("assemblies:read", "assemblies:write", "metrics:read")
TOKEN_PREFIX = "aet_"
MAX_NAME_LENGTH = 100
NOT_FOR_TOKENS = (
    "API tokens reach assemblies and metrics only: they cannot switch Dev Mode, manage users "
    "or tokens, or run admin tasks. Sign in with your account for that."
)


class InvalidTokenRequest(InvalidInput):
    """A field the schema cannot judge (the lifetime's bound is a setting): 422, like the
    schema's own refusals."""


@dataclass(frozen=True)
class TokenUse:
    """A live token at one request: who it acts as, and with which scopes."""

    caller: Caller
    token_id: str


def token_audit_id(token_id: str) -> str:
    """How the audit log's ``session`` field names a token."""
    return f"token:{token_id}"


def _why_dead(row: TokenRow | None, now: float) -> str | None:
    if row is None:
        return "unknown"
    if row.revoked:
        return "revoked"
    if row.user_disabled:
        return "owner disabled"
    if row.expires_at <= now:
        return "expired"
    if row.created_role == Role.ADMIN.value and row.role != Role.ADMIN.value:
        return "owner no longer admin"
    return None


_REFUSED_MESSAGES = {
    "unknown": "The API token is unknown; create a new one (POST /api/tokens).",
    "revoked": "The API token was revoked; create a new one (POST /api/tokens).",
    "owner disabled": "The API token's owner is disabled; the token no longer works.",
    "expired": "The API token has expired; create a new one (POST /api/tokens).",
    "owner no longer admin": (
        "The API token was made by an admin who is no longer one; the token no longer works."
    ),
}


class TokenService:
    def __init__(
        self,
        store: EngineStore,
        auditor: Auditor,
        max_days: int,
        clock: Callable[[], float] = time.time,
        *,
        touch_interval_seconds: float = 60.0,
    ) -> None:
        if max_days < 1:
            raise ValueError("ENGINE_TOKEN_MAX_DAYS must be at least 1")
        self._store = store
        self._auditor = auditor
        self._max_days = max_days
        self._clock = clock
        # "last used" is for people deciding which token to revoke: a minute is precise
        # enough, and a write per request would make every read a durable write.
        self._touch_interval = touch_interval_seconds

    @property
    def max_days(self) -> int:
        return self._max_days

    @staticmethod
    def looks_like_token(raw: str | None) -> bool:
        return isinstance(raw, str) and raw.startswith(TOKEN_PREFIX)

    # -- use -----------------------------------------------------------------------------

    def _row(self, raw: str) -> TokenRow | None:
        if len(raw) > MAX_TOKEN_LENGTH:
            return None
        try:
            return self._store.get_token_by_hash(hash_token(raw))
        except UnicodeEncodeError:  # lone surrogates
            return None

    def is_live(self, raw: str) -> bool:
        """Whether a token works at all (the body gate's question); nothing is recorded."""
        return _why_dead(self._row(raw), self._clock()) is None

    def live_owner(self, raw: str) -> str | None:
        """The owner of a token that works at all, or None; nothing is recorded."""
        row = self._row(raw)
        return row.username if row is not None and _why_dead(row, self._clock()) is None else None

    def authenticate(self, raw: str, *, scope: str | None, address: str | None, action: str) -> TokenUse:
        """The caller a token stands for, if it is live and grants ``scope`` (None: a route
        no token may use). Refusals are audited by token id and raised (401 or 403)."""
        row = self._row(raw)
        now = self._clock()
        why = _why_dead(row, now)
        if why is not None or row is None:
            detail = f"{why} token on {action[:200]}"
            if row is not None:
                detail = f"token {row.id} refused ({why}) on {action[:200]}"
            self._auditor.record(
                Caller(None, address=address),
                "token.refused",
                Outcome.DENIED,
                detail=detail,
                user=None if row is None else row.username,
            )
            raise Unauthorized(_REFUSED_MESSAGES[why or "unknown"])
        actor = Actor(row.username, Role(row.created_role), False)
        caller = Caller(actor, token_audit_id(row.id), address=address, scopes=frozenset(row.scopes))
        if scope is None or scope not in row.scopes:
            message = (
                NOT_FOR_TOKENS if scope is None else f"This API token lacks the scope '{scope}' for {action}."
            )
            self._auditor.record(caller, "token.refused", Outcome.DENIED, detail=f"token {row.id}: {message}")
            raise Forbidden(message) if scope is None else InsufficientScope(message)
        if now - (row.last_used or 0.0) >= self._touch_interval:
            self._store.touch_token(row.id, now)
        return TokenUse(caller, row.id)

    # -- management ----------------------------------------------------------------------

    @staticmethod
    def _require_person(caller: Caller) -> None:
        """Signed in with a session (or the local CLI): never a token (checked at the edge
        too, api/token_scopes.py)."""
        if caller.actor is None:
            raise Unauthorized("Sign in first (POST /api/auth/login).")
        if caller.scopes is not None:
            raise Forbidden(NOT_FOR_TOKENS)

    def _owner(self, caller: Caller, owner: str | None) -> str:
        self._require_person(caller)
        assert caller.actor is not None
        if caller.local_cli:
            if not owner:
                raise InvalidTokenRequest("The local CLI creates tokens for a named user: send owner.")
            return owner
        if owner is not None and owner.casefold() != caller.actor.username.casefold():
            raise Forbidden("A token is created by its owner; sign in as that user.")
        return caller.actor.username

    def _checked(self, name: str, scopes: Iterable[str], days: int) -> tuple[str, list[str]]:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise InvalidTokenRequest(f"name must be 1 to {MAX_NAME_LENGTH} printable characters.")
        wanted = list(dict.fromkeys(scopes))
        unknown = [s for s in wanted if s not in SCOPES]
        if not wanted or unknown:
            raise InvalidTokenRequest(
                f"scopes must name at least one of {', '.join(SCOPES)}"
                + (f"; unknown: {', '.join(unknown)[:200]}." if unknown else ".")
            )
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= self._max_days:
            raise InvalidTokenRequest(
                f"expires_in_days must be a whole number from 1 to {self._max_days} (ENGINE_TOKEN_MAX_DAYS)."
            )
        return name, [s for s in SCOPES if s in wanted]

    def create(
        self, caller: Caller, name: str, scopes: Iterable[str], expires_in_days: int, owner: str | None = None
    ) -> dict[str, Any]:
        try:
            username = self._owner(caller, owner)
            name, wanted = self._checked(name, scopes, expires_in_days)
        except EngineError as exc:
            self._auditor.record(caller, "token.create", Outcome.DENIED, detail=str(exc)[:300])
            raise
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits
        token_id = "tok_" + secrets.token_hex(8)
        now = self._clock()
        expires = now + expires_in_days * 86400.0
        row = self._store.insert_token(
            NewToken(token_id, hash_token(raw), username, name, tuple(wanted), now, expires)
        )
        if row is None:
            self._auditor.record(
                caller,
                "token.create",
                Outcome.FAILED,
                detail=f"owner {username} does not exist or is disabled",
            )
            raise NotFound(f"No enabled user named '{username}' exists.")
        self._auditor.record(
            caller,
            "token.create",
            Outcome.SUCCESS,
            detail=f"token {row.id} '{row.name}' for {row.username}: {' '.join(row.scopes)}, "
            f"expires {utc_iso(row.expires_at, timespec='seconds')}",
        )
        return {**self.view(row), "token": raw}

    def view(self, row: TokenRow) -> dict[str, Any]:
        why = _why_dead(row, self._clock())
        return {
            "id": row.id,
            "name": row.name,
            "scopes": list(row.scopes),
            "owner": row.username,
            "created_at": utc_iso(row.created_at, timespec="seconds"),
            "expires_at": utc_iso(row.expires_at, timespec="seconds"),
            "last_used_at": None if row.last_used is None else utc_iso(row.last_used, timespec="seconds"),
            "status": "active" if why is None else why.replace(" ", "_"),
        }

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's own tokens; every token for admins (and the local CLI)."""
        self._require_person(caller)
        everyone = caller.is_admin
        rows = self._store.list_tokens(None if everyone else caller.username)
        return [self.view(row) for row in rows]

    def revoke(self, caller: Caller, token_id: str) -> None:
        self._owner(caller, None if not caller.local_cli else "-")
        row = self._store.get_token(token_id) if len(token_id) <= 64 else None
        mine = (
            row is not None
            and caller.username is not None
            and row.username.casefold() == caller.username.casefold()
        )
        if row is None or not (mine or caller.is_admin):
            self._auditor.record(
                caller, "token.revoke", Outcome.FAILED, detail=f"no token {token_id[:64]} to revoke"
            )
            raise NotFound(f"No API token with the id '{token_id[:64]}' is yours to revoke.")
        self._store.revoke_token(row.id)
        self._auditor.record(
            caller, "token.revoke", Outcome.SUCCESS, detail=f"token {row.id} '{row.name}' of {row.username}"
        )
