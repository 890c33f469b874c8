"""A sign-in at the provider that has started and not come back yet.

Its state, nonce and PKCE verifier ride in a cookie sealed with Fernet (encrypted and
authenticated) under a key kept in the engine store: the callback may reach any node of
a cluster, every node holds the key, and no node needs memory of the start. The seal
expires after PENDING_SECONDS; the browser drops the cookie when the callback answers.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken

PENDING_COOKIE = "ae_oidc"
PENDING_SECONDS = 600
MAX_COOKIE_LENGTH = 4000


class Purpose(StrEnum):
    SIGN_IN = "sign_in"
    DEV_MODE = "dev_mode"


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    nonce: str
    verifier: str
    purpose: Purpose
    redirect_uri: str
    started_at: float
    # Dev Mode: the session (its stored hash) that asked, and the reason it gave.
    session_hash: str | None = None
    reason: str | None = None

    @classmethod
    def new(
        cls,
        purpose: Purpose,
        redirect_uri: str,
        now: float,
        *,
        session_hash: str | None = None,
        reason: str | None = None,
    ) -> PendingSignIn:
        return cls(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48),  # 64 characters: RFC 7636 wants 43 to 128
            purpose=purpose,
            redirect_uri=redirect_uri,
            started_at=now,
            session_hash=session_hash,
            reason=reason,
        )

    def matches(self, state: str) -> bool:
        return hmac.compare_digest(self.state.encode(), state.encode("utf-8", "surrogatepass"))


class PendingSeal:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(key[:32]))

    def seal(self, pending: PendingSignIn, now: float) -> str:
        return self._fernet.encrypt_at_time(json.dumps(asdict(pending)).encode(), int(now)).decode()

    def open(self, cookie: str | None, now: float) -> PendingSignIn | None:
        """The pending sign-in of a cookie; None when missing, tampered with, or expired."""
        if not cookie or len(cookie) > MAX_COOKIE_LENGTH:
            return None
        try:
            raw = self._fernet.decrypt_at_time(cookie.encode(), PENDING_SECONDS, int(now))
            data = json.loads(raw)
            return PendingSignIn(**{**data, "purpose": Purpose(data["purpose"])})
        except (InvalidToken, ValueError, TypeError, KeyError, UnicodeEncodeError):
            return None
