"""The test provider as a process, an engine that trusts it, and the sign-in round trip
over real HTTP (no browser): start at the engine, approve at the provider, come back."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.engine_process import EngineProcess, free_port

REPOSITORY = Path(__file__).resolve().parents[2]
CLIENT_ID = "assembly-engine"
CLIENT_SECRET = "test-client-secret-4f1c9e"  # the log test greps for it


class ProviderProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ProviderProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sso.provider", str(self.port), CLIENT_ID, CLIENT_SECRET],
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the test provider did not start")

    def control(self, **control: Any) -> None:
        httpx.post(f"{self.issuer}/control", json=control, timeout=10).raise_for_status()

    def person(self, sub: str, username: str, groups: list[str]) -> None:
        self.control(person={"sub": sub, "preferred_username": username, "groups": groups}, mode="ok")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@contextmanager
def provider_process() -> Iterator[ProviderProcess]:
    provider = ProviderProcess().start()
    try:
        yield provider
    finally:
        provider.stop()


def sso_env(issuer: str, **extra: str) -> dict[str, str]:
    return {
        "ENGINE_OIDC_ISSUER": issuer,
        "ENGINE_OIDC_CLIENT_ID": CLIENT_ID,
        "ENGINE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "ENGINE_OIDC_ADMIN_GROUPS": "engine-admins",
        "ENGINE_OIDC_OPERATOR_GROUPS": "engine-operators,helpdesk",
        "ENGINE_OIDC_PROVIDER_NAME": "Test IdP",
        "ENGINE_OIDC_TIMEOUT_SECONDS": "3",
        **extra,
    }


def sso_engine(root: Path, issuer: str, **extra: str) -> EngineProcess:
    return EngineProcess(root / "home", root / "staging", extra_env=sso_env(issuer, **extra))


@dataclass
class RoundTrip:
    answer: httpx.Response  # the engine's answer to the callback
    callback_url: str
    pending_cookie: str | None


def round_trip(browser: httpx.Client, engine_url: str, start: str = "/api/auth/oidc/start") -> RoundTrip:
    """Start at ``engine_url``, let the provider approve, deliver its answer to the
    engine (``browser`` keeps the cookies, follows no redirects)."""
    started = browser.get(f"{engine_url}{start}")
    assert started.status_code == 303, started.text
    return approve(browser, started.headers["location"], engine_url)


def approve(browser: httpx.Client, authorize_url: str, engine_url: str) -> RoundTrip:
    pending = browser.cookies.get("ae_oidc")
    approved = browser.get(authorize_url)
    assert approved.status_code == 302, approved.text
    callback = approved.headers["location"]
    assert callback.startswith(engine_url), callback
    return RoundTrip(browser.get(callback), callback, pending)


def browser_client() -> httpx.Client:
    return httpx.Client(timeout=30, follow_redirects=False)


def session_of(browser: httpx.Client) -> dict[str, str]:
    """Bearer headers for the session the browser's cookie holds."""
    return {"Authorization": f"Bearer {browser.cookies.get('ae_session')}"}


def users(engine: EngineProcess) -> dict[str, dict[str, object]]:
    """The engine's accounts by name, as an admin lists them."""
    listed = engine.http.get("/api/users", headers=engine.login()).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return {u["username"]: u for u in items}


def audit_lines(engine: EngineProcess) -> list[dict[str, object]]:
    path = engine.home / "Logs" / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def callback_secrets(trip: RoundTrip) -> list[str]:
    """The code and state a callback carried, and the start cookie that went with it."""
    query = parse_qs(urlsplit(trip.callback_url).query)
    return [*query.get("code", []), *query.get("state", []), str(trip.pending_cookie)]


def assert_no_secret_in_logs(engine: EngineProcess, secrets: list[str]) -> None:
    """None of ``secrets`` (nor anything shaped like a JWT, such as an ID token) is in the
    engine's log, its audit log or its console output."""
    logs = {
        "engine.log": (engine.home / "Logs" / "engine.log").read_text(errors="replace"),
        "audit.log": (engine.home / "Logs" / "audit.log").read_text(errors="replace"),
        "console": engine.log_path.read_text(errors="replace"),
    }
    assert all(len(secret) >= 8 for secret in secrets), "a secret too short to grep for"
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"a secret ({secret[:6]}…) is in {name}"
        assert "eyJ" not in text, f"something like a JWT is in {name}"
