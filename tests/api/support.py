"""Helpers of the API tests (their fixtures are in conftest.py): an engine with signed-in
callers of every kind, a way to plant target assemblies, and a snapshot of everything a
write could touch.

The engine runs in-process through ``TestClient`` (its lifespan opens real SQLite files and
payload folders under a temporary home). Argon2 makes a sign-in cost ~50 ms, so each caller
kind signs in once per module (the ``api`` fixture is module-scoped) and tests reuse the
tokens.

Caller kinds (``CALLERS``):

- ``anonymous``: no credentials at all;
- ``operator``: a signed-in operator;
- ``admin``: the bootstrap admin, Dev Mode off;
- ``admin_dev_mode``: another session of the same admin with Dev Mode on;
- ``admin_dev_mode_expired``: a third session of that admin whose Dev Mode has run out —
  it is pushed into the past again before every request, so each request is the first one
  after the expiry;
- ``disabled_user``: an admin who signed in, enabled Dev Mode and was then disabled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.domain.types import AssemblyKind, Domain, Role
from assembly_engine.services.assemblies.inputs import NewAssembly
from assembly_engine.services.auth.policy import Actor
from assembly_engine.services.auth.sessions import hash_token
from assembly_engine.services.caller import Caller
from assembly_engine.services.container import EngineServices
from assembly_engine.storage.contract.models import COLUMNS, REVISION_COLUMN
from assembly_engine.storage.runtime import StorageRuntime
from tests.support import ADMIN_PASSWORD, temp_settings

UPDATED_AT_COLUMN = COLUMNS.index("updated_at")
# The backends a module may run its API tests on: the embedded storage, and a cluster
# node on a PostgreSQL database of its own.
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def settings_on(
    backend: str, request: pytest.FixtureRequest, root: Path, **overrides: Any
) -> Iterator[Settings]:
    """Settings of a test engine on ``backend``; for PostgreSQL a fresh database of the
    session's throwaway server, dropped afterwards."""
    if backend == "sqlite":
        yield temp_settings(root, **overrides)
        return
    server = request.getfixturevalue("postgresql_server")
    name, url = server.create_database()
    try:
        yield temp_settings(root, database_url=url, **overrides)
    finally:
        server.drop_database(name)


def payload_names(services: EngineServices) -> frozenset[str]:
    """Every payload the store holds; for folders, every name in the folder (temp ones too)."""
    if services.settings.database_url is not None:
        return frozenset(services.storage.payloads.list_guids())
    root = services.settings.payloads_root
    return frozenset(os.listdir(root)) if root.exists() else frozenset()


OPERATOR_NAME = "operator-olga"
OPERATOR_PASSWORD = "operator-password-olga"
DISABLED_NAME = "former-admin-fred"
DISABLED_PASSWORD = "former-admin-password-fred"
DEV_MODE_REASON = "api tests need to write official and community"

ANONYMOUS = "anonymous"
OPERATOR = "operator"
ADMIN = "admin"
ADMIN_DEV = "admin_dev_mode"
ADMIN_EXPIRED = "admin_dev_mode_expired"
DISABLED = "disabled_user"
CALLERS: tuple[str, ...] = (ANONYMOUS, OPERATOR, ADMIN, ADMIN_DEV, ADMIN_EXPIRED, DISABLED)

DOMAINS: tuple[str, ...] = tuple(d.value for d in Domain)
SCRIPT_PAYLOAD: dict[str, Any] = {"script": "Write-Host 'planted'\n"}

_names = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A name no other test of the session uses (usernames, display names)."""
    return f"{prefix}-{next(_names)}-{uuid.uuid4().hex[:6]}"


def login(client: TestClient, username: str, password: str) -> str:
    """Sign in and return the bearer token; the cookies the login set are dropped again."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def enable_dev_mode(client: TestClient, token: str, password: str = ADMIN_PASSWORD) -> None:
    response = client.post(
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": password, "reason": DEV_MODE_REASON},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    assert response.json()["enabled"] is True


def expire_dev_mode(services: EngineServices, token: str) -> None:
    """Put the session's Dev Mode end into the past (through the store API)."""
    now = time.time()
    assert services.store.set_dev_mode(hash_token(token), now - 5.0, DEV_MODE_REASON, now)


def plant_assembly(services: EngineServices, domain: Domain | str, name: str | None = None) -> str:
    """Create an assembly in ``domain`` directly through the service (as an admin with Dev
    Mode on) and return its GUID."""
    caller = Caller(Actor("admin", Role.ADMIN, True), session="planted-by-tests")
    view = services.assemblies.editing.create(
        caller,
        NewAssembly(
            domain=Domain(domain),
            display_name=name or unique_name("planted"),
            assembly_kind=AssemblyKind.SCRIPT,
            assembly_type="powershell",
            payload=dict(SCRIPT_PAYLOAD),
        ),
    )
    return view.assembly_guid


def create_body(domain: str, name: str | None = None) -> dict[str, Any]:
    return {
        "domain": domain,
        "display_name": name or unique_name("created"),
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "summary": "made by the API tests",
        "payload": {"script": "Write-Host 'created'\n"},
    }


@dataclass
class ApiEngine:
    """One running engine and the callers signed in to it."""

    client: TestClient
    settings: Settings
    tokens: dict[str, str]  # caller kind -> bearer token (no entry for anonymous)

    @property
    def services(self) -> EngineServices:
        services = self.client.app.state.services  # type: ignore[attr-defined]
        assert isinstance(services, EngineServices)
        return services

    def headers(self, caller: str) -> dict[str, str]:
        """Credentials for ``caller``; re-expires the expired admin's Dev Mode first."""
        if caller == ANONYMOUS:
            return {}
        token = self.tokens[caller]
        if caller == ADMIN_EXPIRED:
            expire_dev_mode(self.services, token)
        return bearer(token)

    def request(
        self, caller: str, method: str, url: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send one bearer-authenticated (or anonymous) request with an empty cookie jar."""
        self.client.cookies.clear()
        merged = {**self.headers(caller), **(headers or {})}
        if json is None:
            return self.client.request(method, url, headers=merged)
        return self.client.request(method, url, json=json, headers=merged)

    def dev_mode_enabled(self, token: str) -> bool:
        self.client.cookies.clear()
        response = self.client.get("/api/assemblies/dev-mode", headers=bearer(token))
        assert response.status_code == 200, response.text
        enabled = response.json()["enabled"]
        assert isinstance(enabled, bool)
        return enabled

    def audit_entries(self) -> list[dict[str, Any]]:
        return self.services.audit.entries()


def start_engine(settings: Settings) -> Iterator[ApiEngine]:
    """Run an engine for ``settings`` and sign in every caller kind once."""
    with TestClient(create_app(settings, console_log=False)) as client:
        engine = ApiEngine(client, settings, {})
        admin_token = login(client, "admin", ADMIN_PASSWORD)
        for name, password, role in (
            (OPERATOR_NAME, OPERATOR_PASSWORD, "operator"),
            (DISABLED_NAME, DISABLED_PASSWORD, "admin"),
        ):
            created = client.post(
                "/api/users",
                headers=bearer(admin_token),
                json={
                    "username": name,
                    "password": password,
                    "role": role,
                    "current_password": ADMIN_PASSWORD,
                },
            )
            assert created.status_code == 201, created.text
        engine.tokens[ADMIN] = admin_token
        engine.tokens[OPERATOR] = login(client, OPERATOR_NAME, OPERATOR_PASSWORD)
        engine.tokens[ADMIN_DEV] = login(client, "admin", ADMIN_PASSWORD)
        enable_dev_mode(client, engine.tokens[ADMIN_DEV])
        engine.tokens[ADMIN_EXPIRED] = login(client, "admin", ADMIN_PASSWORD)
        enable_dev_mode(client, engine.tokens[ADMIN_EXPIRED])
        disabled_token = login(client, DISABLED_NAME, DISABLED_PASSWORD)
        enable_dev_mode(client, disabled_token, DISABLED_PASSWORD)
        disabled = client.patch(
            f"/api/users/{DISABLED_NAME}", headers=bearer(admin_token), json={"disabled": True}
        )
        assert disabled.status_code == 200, disabled.text
        engine.tokens[DISABLED] = disabled_token
        client.cookies.clear()
        yield engine


# -- snapshot ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Everything a mutation could change, for "a refusal changed nothing" checks."""

    cache: dict[str, tuple[int, str, bool]]  # guid -> (revision, domain, is_dirty)
    queue_depth: int
    journal_depth: int
    payload_folders: frozenset[str]
    database_rows: dict[str, int]  # domain -> row count
    database_digest: dict[str, str]  # domain -> sha256 over (guid, revision, updated_at) rows
    users: tuple[tuple[str, str, bool, str], ...]  # (username, role, disabled, updated_at)

    def differences(self, other: Snapshot) -> list[str]:
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def _domain_rows(storage: StorageRuntime, domain: Domain) -> tuple[int, str]:
    """Row count and a digest of (guid, revision, updated_at) as the domain's store holds them."""
    rows = sorted(
        (row[0], row[REVISION_COLUMN], row[UPDATED_AT_COLUMN])
        for row in storage.databases[domain].load_rows()
    )
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def snapshot(services: EngineServices) -> Snapshot:
    """Capture cache, queue, journal, payloads, domain rows and users, on either backend."""
    storage = services.storage
    cache = {
        item.assembly_guid: (item.record.revision, item.domain.value, item.state.is_dirty)
        for item in storage.cache.items()
    }
    rows: dict[str, int] = {}
    digests: dict[str, str] = {}
    for domain in Domain:
        rows[domain.value], digests[domain.value] = _domain_rows(storage, domain)
    users = tuple((u.username, u.role.value, u.disabled, u.updated_at) for u in services.users.list())
    return Snapshot(
        cache=cache,
        queue_depth=storage.cache.depth(),
        journal_depth=storage.journal.depth(),
        payload_folders=payload_names(services),
        database_rows=rows,
        database_digest=digests,
        users=users,
    )


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    changed = before.differences(after)
    assert not changed, f"a refused request changed: {', '.join(changed)}"


class NoFastLane:
    """Stands in for api/fast_lane.py's middleware: every request goes through FastAPI."""

    def __init__(self, app: ASGIApp, **_: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
