"""Single sign-on over real HTTP: a real engine process and the test provider process
(tests/sso/provider.py); embedded storage (SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.engine_process import EngineProcess
from tests.sso.support import (
    CLIENT_SECRET,
    ProviderProcess,
    browser_client,
    provider_process,
    round_trip,
    session_of,
    sso_engine,
)


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderProcess]:
    with provider_process() as started:
        yield started


@pytest.fixture(scope="module")
def engine(provider: ProviderProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    process = sso_engine(tmp_path_factory.mktemp("sso"), provider.issuer).start()
    try:
        yield process
    finally:
        process.stop()


def users(engine: EngineProcess) -> dict[str, dict[str, object]]:
    listed = engine.http.get("/api/users", headers=engine.login()).json()
    return {u["username"]: u for u in listed["items"]} if isinstance(listed, dict) else {u["username"]: u for u in listed}


def audit_lines(engine: EngineProcess) -> list[dict[str, object]]:
    path = engine.home / "Logs" / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_sign_in_options_offer_the_provider(engine: EngineProcess) -> None:
    options = engine.http.get("/api/auth/sign-in-options").json()
    assert options == {"password_login": True, "sso": {"name": "Test IdP", "start_url": "/api/auth/oidc/start"}}


def test_first_sign_in_creates_the_user_with_the_mapped_role(engine: EngineProcess, provider: ProviderProcess) -> None:
    provider.person("sub-alice", "alice", ["engine-admins", "unrelated"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
        assert trip.answer.status_code == 303, trip.answer.text
        assert trip.answer.headers["location"] == "/"
        me = engine.http.get("/api/auth/me", headers=session_of(browser))
        assert me.status_code == 200, me.text
        assert me.json()["user"] == {"username": "alice", "role": "admin"}
        assert "ae_oidc" not in browser.cookies  # the pending sign-in is over
    assert users(engine)["alice"]["role"] == "admin"
    assert any(e["action"] == "user.create" and "single sign-on" in str(e.get("detail")) for e in audit_lines(engine))
