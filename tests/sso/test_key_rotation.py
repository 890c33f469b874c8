"""The provider's signing keys (JWKS): cached, fetched again for an unknown key id at most
once a minute (Docs/tokens-and-sso.md), so a provider that rotates its key keeps working.
The engine's OIDC client against the test provider process, with a clock of the test's."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from assembly_engine.services.auth.oidc_provider import JWKS_REFRESH_SECONDS, OidcProvider, ProviderRefused
from tests.sso.support import CLIENT_ID, CLIENT_SECRET, ProviderProcess


def id_token_from(provider: ProviderProcess, nonce: str) -> str:
    """An ID token as the provider issues it, through its authorization and token endpoints."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "http://127.0.0.1:9/api/auth/oidc/callback"
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "state",
        "nonce": nonce,
    }
    approved = httpx.get(f"{provider.issuer}/authorize", params=query, timeout=30)
    assert approved.status_code == 302, approved.text
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    answer = httpx.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id_token"])


def test_a_rotated_signing_key_is_fetched_at_most_once_a_minute(provider: ProviderProcess) -> None:
    provider.person("sub-rota", "rota", ["engine-admins"])
    now = [time.time()]
    client = OidcProvider(provider.issuer, CLIENT_ID, CLIENT_SECRET, 10, clock=lambda: now[0])

    async def scenario() -> None:
        first = await client.verify_id_token(id_token_from(provider, "n1"), "n1")
        assert first.subject == "sub-rota"
        provider.control(rotate_key=True)
        # The key set was fetched moments ago: an unknown key id does not fetch it again yet.
        with pytest.raises(ProviderRefused, match="does not publish"):
            await client.verify_id_token(id_token_from(provider, "n2"), "n2")
        now[0] += JWKS_REFRESH_SECONDS
        rotated = await client.verify_id_token(id_token_from(provider, "n3"), "n3")
        assert rotated.subject == "sub-rota"
        # The new set is kept: the next token is checked without waiting.
        again = await client.verify_id_token(id_token_from(provider, "n4"), "n4")
        assert again.subject == "sub-rota"

    # In a thread of its own: a browser test before it in the same worker may have left
    # this thread's event loop running, where asyncio.run refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()
