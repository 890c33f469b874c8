"""Single sign-on (OpenID Connect): starting at the provider and coming back, audited.

The sign-in: a sealed pending cookie (oidc_pending.py) carries state, nonce and PKCE
verifier to the callback; the code is exchanged and the ID token checked
(oidc_provider.py); the account is made at the first sign-in and its role taken from the
groups claim at every sign-in (sso_accounts.py). Dev Mode of an SSO admin is the same
round trip with ``max_age=0``: the provider must authenticate the person again, and the
ID token's ``auth_time`` must be after the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from assembly_engine.config import Settings
from assembly_engine.services.audit import Outcome
from assembly_engine.services.auth.accounts import AccountService, SignedIn
from assembly_engine.services.auth.dev_mode import DevModeState, validate_reason
from assembly_engine.services.auth.oidc_pending import PENDING_SECONDS, PendingSeal, PendingSignIn, Purpose
from assembly_engine.services.auth.oidc_provider import (
    CLOCK_SKEW_SECONDS,
    IdentityClaims,
    OidcProvider,
    ProviderRefused,
)
from assembly_engine.services.auth.sessions import Session
from assembly_engine.services.auth.sso_accounts import SignInRefused, SsoAccounts, SsoConfig
from assembly_engine.services.caller import Caller
from assembly_engine.services.errors import EngineError
from assembly_engine.storage.contract.interfaces import EngineStore

__all__ = [
    "Callback",
    "Finished",
    "SignInRefused",
    "SingleSignOn",
    "SsoConfig",
    "Started",
    "build_single_sign_on",
]

PENDING_KEY_NAME = "oidc-pending"
MAX_PARAM_LENGTH = 2048  # state, code and error of the callback's query string


@dataclass(frozen=True)
class Started:
    url: str  # the provider's authorization endpoint, with the request's parameters
    cookie: str  # the sealed pending sign-in


@dataclass(frozen=True)
class Finished:
    purpose: Purpose
    signed_in: SignedIn | None = None
    dev_mode: DevModeState | None = None


@dataclass(frozen=True)
class Callback:
    """The query of the provider's redirect back to the engine."""

    state: str | None
    code: str | None
    error: str | None
    error_description: str | None


class SingleSignOn:
    def __init__(
        self,
        config: SsoConfig,
        provider: OidcProvider,
        accounts: AccountService,
        sso_accounts: SsoAccounts,
        seal: PendingSeal,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._provider = provider
        self._accounts = accounts
        self._sso_accounts = sso_accounts
        self._seal = seal
        self._clock = clock

    @property
    def pending_seconds(self) -> int:
        return PENDING_SECONDS

    async def start_sign_in(self, redirect_uri: str) -> Started:
        return await self._start(PendingSignIn.new(Purpose.SIGN_IN, redirect_uri, self._clock()))

    async def start_dev_mode(
        self, caller: Caller, session: Session | None, reason: str, redirect_uri: str
    ) -> Started:
        """The round trip that re-authenticates an SSO admin before Dev Mode goes on."""
        action = "dev_mode.enable"
        if caller.actor is None or not caller.is_admin or caller.scopes is not None or session is None:
            self._accounts.auditor.record(
                caller, action, Outcome.DENIED, detail="single sign-on: not an admin session"
            )
            raise SignInRefused("Only an admin's signed-in session can switch Dev Mode on.", 403, "forbidden")
        if self._accounts.users.sso_marker_of(caller.actor.username) is None:
            raise SignInRefused(
                "Your account signs in with a password: switch Dev Mode on with your password instead.",
                422,
                "invalid_document",
            )
        cleaned = validate_reason(reason)
        pending = PendingSignIn.new(
            Purpose.DEV_MODE, redirect_uri, self._clock(), session_hash=session.token_hash, reason=cleaned
        )
        return await self._start(pending)

    async def _start(self, pending: PendingSignIn) -> Started:
        metadata = await self._provider.metadata()
        url = self._provider.authorization_url(
            metadata,
            pending.redirect_uri,
            pending.state,
            pending.nonce,
            pending.verifier,
            fresh=pending.purpose is Purpose.DEV_MODE,
        )
        return Started(url, self._seal.seal(pending, self._clock()))

    async def finish(self, cookie: str | None, callback: Callback, address: str | None) -> Finished:
        """Check the provider's answer and sign in (or switch Dev Mode on). Every refusal
        is audited and raised; nothing is created or changed before all checks pass."""
        pending = self._seal.open(cookie, self._clock())
        action = "dev_mode.enable" if pending is not None and pending.purpose is Purpose.DEV_MODE else "login"
        try:
            return await self._finish(pending, callback, address)
        except EngineError as exc:
            said = exc.detail if isinstance(exc, SignInRefused) and exc.detail else exc.message
            user = exc.user if isinstance(exc, SignInRefused) else None
            await run_in_threadpool(
                self._accounts.auditor.record,
                Caller(None, address=address),
                action,
                Outcome.DENIED,
                user=user,
                detail=f"single sign-on: {said}",
            )
            raise

    async def _finish(
        self, pending: PendingSignIn | None, callback: Callback, address: str | None
    ) -> Finished:
        if pending is None:
            raise SignInRefused(
                "This browser has no sign-in in progress: it was started over "
                f"{PENDING_SECONDS // 60} minutes ago, was already completed, or cookies are blocked. "
                "Start the sign-in again.",
                400,
                "invalid_request",
            )
        for value in (callback.state, callback.code, callback.error, callback.error_description):
            if value is not None and len(value) > MAX_PARAM_LENGTH:
                raise SignInRefused(
                    "The provider's answer is too long to be genuine.", 400, "invalid_request"
                )
        if not callback.state or not pending.matches(callback.state):
            raise SignInRefused(
                "The answer does not belong to the sign-in this browser started (its state differs). "
                "Start the sign-in again.",
                400,
                "invalid_request",
            )
        if callback.error:
            said = (
                f"{callback.error}: {callback.error_description}"
                if callback.error_description
                else callback.error
            )
            raise SignInRefused(
                f"The sign-in provider refused the sign-in ({said[:300]}).", 401, "sso_refused"
            )
        if not callback.code:
            raise SignInRefused("The provider's answer has no authorization code.", 400, "invalid_request")
        metadata = await self._provider.metadata()
        id_token = await self._provider.exchange(
            metadata, callback.code, pending.redirect_uri, pending.verifier
        )
        identity = await self._provider.verify_id_token(id_token, pending.nonce)
        if pending.purpose is Purpose.DEV_MODE:
            return Finished(
                Purpose.DEV_MODE, dev_mode=await run_in_threadpool(self._dev_mode, pending, identity)
            )
        signed_in = await run_in_threadpool(self._sso_accounts.sign_in, identity, address)
        return Finished(Purpose.SIGN_IN, signed_in=signed_in)

    def _dev_mode(self, pending: PendingSignIn, identity: IdentityClaims) -> DevModeState:
        if identity.auth_time is None or identity.auth_time < pending.started_at - CLOCK_SKEW_SECONDS:
            raise ProviderRefused(
                "The provider did not authenticate you again just now (its auth_time is older than the "
                "request), so Dev Mode stays off. Sign in at the provider again when it asks."
            )
        assert pending.session_hash is not None and pending.reason is not None
        session = self._accounts.sessions.resolve_hash(pending.session_hash)
        if session is None:
            raise SignInRefused(
                "The session that asked for Dev Mode has ended; sign in again.", 401, "unauthorized"
            )
        self._sso_accounts.require_same_person(session.username, identity)
        return self._sso_accounts.enable_dev_mode(session, identity, pending.reason)


def build_single_sign_on(
    settings: Settings, accounts: AccountService, store: EngineStore
) -> SingleSignOn | None:
    """The single sign-on of ``settings``; None when no provider is configured."""
    config = SsoConfig.from_settings(settings)
    if config is None:
        return None
    provider = OidcProvider(config.issuer, config.client_id, config.client_secret, config.timeout_seconds)
    # The key lives in the engine store, so every node of a cluster opens every seal.
    seal = PendingSeal(store.secret(PENDING_KEY_NAME))
    return SingleSignOn(config, provider, accounts, SsoAccounts(config, accounts, store), seal)
