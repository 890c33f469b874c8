"""The engine's side of an OpenID Connect provider: discovery, JWKS, the code exchange
and the ID token check (Docs/tokens-and-sso.md).

authlib builds the authorization request (PKCE S256, state, nonce); its JOSE library
joserfc verifies the ID token's signature against the provider's JWKS and its claims.
Every call to the provider goes through one httpx client with a time limit and a cap on
the answer's size, so a slow, down or babbling provider gives a clear refusal, never a
hung worker or a 500.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from assembly_engine.services.errors import EngineError

MAX_ANSWER_BYTES = 256 * 1024  # discovery, JWKS and token answers are a few kB
METADATA_TTL_SECONDS = 3600.0
JWKS_REFRESH_SECONDS = 60.0  # an unknown kid refetches the JWKS at most this often
CLOCK_SKEW_SECONDS = 60
ALLOWED_ALGORITHMS = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
]


class ProviderUnavailable(EngineError):
    """The provider did not answer in time, or not with something usable (→ 503)."""

    code = "sso_unavailable"


class ProviderRefused(EngineError):
    """The provider or its answer refuses this sign-in (→ 400/401)."""

    code = "sso_refused"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class IdentityClaims:
    """What the engine takes from a checked ID token."""

    subject: str
    claims: dict[str, Any]
    auth_time: float | None


class _BoundedTransport(httpx.AsyncBaseTransport):
    """Reads at most ``limit`` bytes of any answer: a provider cannot make the engine hold
    an answer of unbounded size in memory."""

    def __init__(self, limit: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._limit = limit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > self._limit:
                    raise ProviderUnavailable(
                        f"The sign-in provider sent an answer over {self._limit // 1024} KiB; "
                        "the engine does not read it. Check ENGINE_OIDC_ISSUER."
                    )
        finally:
            await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))

    async def aclose(self) -> None:
        await self._inner.aclose()


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        value = json.loads(response.content)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ProviderUnavailable(f"The sign-in provider's {what} is not a JSON object; check the provider.")
    return value


class OidcProvider:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        timeout_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout_seconds
        self._clock = clock
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # One deadline for the whole call (connect, send, read), not per read.
        try:
            async with httpx.AsyncClient(transport=_BoundedTransport(MAX_ANSWER_BYTES)) as client:
                return await asyncio.wait_for(
                    client.request(method, url, timeout=self._timeout, **kwargs), self._timeout
                )
        except (TimeoutError, httpx.TimeoutException):
            raise ProviderUnavailable(
                f"The sign-in provider did not answer within {self._timeout:g} s; try again later."
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"The sign-in provider cannot be reached ({type(exc).__name__}); try again later."
            ) from None

    async def metadata(self) -> ProviderMetadata:
        now = self._clock()
        if self._metadata is not None and now - self._metadata_at < METADATA_TTL_SECONDS:
            return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = await self._call("GET", url)
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"The sign-in provider's discovery document answered {response.status_code}; "
                "check ENGINE_OIDC_ISSUER."
            )
        document = _json_object(response, "discovery document")
        if document.get("issuer") != self.issuer:
            raise ProviderUnavailable(
                "The sign-in provider names another issuer than ENGINE_OIDC_ISSUER "
                f"({str(document.get('issuer'))[:200]!r}); set the issuer exactly as the provider names it."
            )
        fields = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(document.get(name), str) and document[name] for name in fields):
            raise ProviderUnavailable("The sign-in provider's discovery document lacks an endpoint.")
        self._metadata = ProviderMetadata(self.issuer, *(str(document[name]) for name in fields))
        self._metadata_at = now
        return self._metadata

    def authorization_url(
        self,
        metadata: ProviderMetadata,
        redirect_uri: str,
        state: str,
        nonce: str,
        verifier: str,
        *,
        fresh: bool,
    ) -> str:
        params: list[tuple[str, str]] = [
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile email"),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ]
        if fresh:  # Dev Mode: the person proves again who they are, now
            params += [("max_age", "0"), ("prompt", "login")]
        return str(add_params_to_uri(metadata.authorization_endpoint, params))

    async def exchange(self, metadata: ProviderMetadata, code: str, redirect_uri: str, verifier: str) -> str:
        """The ID token for an authorization code (client_secret_basic, PKCE verifier)."""
        response = await self._call(
            "POST",
            metadata.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(self.client_id, self._client_secret),
            headers={"Accept": "application/json"},
        )
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"The sign-in provider's token endpoint failed ({response.status_code})."
            )
        answer = _json_object(response, "token answer")
        if response.status_code != 200:
            error = str(answer.get("error", "unknown"))[:100]
            raise ProviderRefused(
                f"The sign-in provider refused the sign-in code ({error}): it may have been used "
                "already or have expired. Start the sign-in again."
            )
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise ProviderUnavailable("The sign-in provider's token answer has no ID token.")
        return id_token

    async def _key_set(self, refresh: bool) -> KeySet:
        now = self._clock()
        if self._keys is not None and not (refresh and now - self._keys_at >= JWKS_REFRESH_SECONDS):
            return self._keys
        metadata = await self.metadata()
        response = await self._call("GET", metadata.jwks_uri)
        if response.status_code != 200:
            raise ProviderUnavailable(f"The sign-in provider's signing keys answered {response.status_code}.")
        try:
            # joserfc types the key set as a TypedDict; the JSON object is checked by the import
            # itself (a malformed set raises one of the errors caught below).
            keys = KeySet.import_key_set(_json_object(response, "key set"))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise ProviderUnavailable("The sign-in provider's signing keys cannot be read.") from None
        self._keys, self._keys_at = keys, now
        return keys

    async def verify_id_token(self, id_token: str, nonce: str) -> IdentityClaims:
        """The ID token's claims after checking its signature (the provider's JWKS, refetched
        once for an unknown key id), issuer, audience, expiry and nonce."""
        async with self._lock:
            keys = await self._key_set(refresh=False)
        try:
            token = self._decode(id_token, keys)
        except _UnknownKey:
            async with self._lock:
                keys = await self._key_set(refresh=True)
            try:
                token = self._decode(id_token, keys)
            except _UnknownKey:
                raise ProviderRefused(
                    "The ID token is signed with a key the provider does not publish; the sign-in is refused."
                ) from None
        return self._check_claims(token.claims, nonce)

    def _decode(self, id_token: str, keys: KeySet) -> jwt.Token:
        try:
            return jwt.decode(id_token, keys, algorithms=ALLOWED_ALGORITHMS)
        except InvalidKeyIdError:
            raise _UnknownKey() from None
        except (ValueError, JoseError):
            raise ProviderRefused(
                "The ID token's signature does not verify (or it is no signed JWT); the sign-in is refused."
            ) from None

    def _check_claims(self, claims: dict[str, Any], nonce: str) -> IdentityClaims:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            name = getattr(exc, "claim", None) or str(exc)
            raise ProviderRefused(
                f"The ID token is not valid for this engine ({name}); the sign-in is refused."
            ) from None
        auth_time = claims.get("auth_time")
        return IdentityClaims(
            subject=str(claims["sub"]),
            claims=claims,
            auth_time=float(auth_time) if isinstance(auth_time, int | float) else None,
        )


class _UnknownKey(Exception):
    """No key of the set matches the token's key id."""
