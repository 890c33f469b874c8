"""Password checks, re-checks, the body gate and what refusals leave in the logs (issue 11).

Each test gets its own engine: the throttle and the audit's refusal counts are per engine,
and several tests exist to drive them to their limits. Clients at different addresses are
separate TestClients on the same app (``client=(address, port)``).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.services.audit import AuditLog
from assembly_engine.services.auditor import AnonymousRefusals
from assembly_engine.services.container import EngineServices
from tests.api.support import bearer
from tests.support import ADMIN_PASSWORD, in_own_thread

OPERATOR = ("operator-otto", "operator-password-otto")


class Engine:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.app = client.app

    @property
    def services(self) -> EngineServices:
        services: EngineServices = self.app.state.services  # type: ignore[attr-defined]
        return services

    @property
    def audit(self) -> AuditLog:
        return self.services.audit

    def at(self, address: str) -> TestClient:
        """A client on another address (no lifespan of its own: the engine is running)."""
        return TestClient(self.app, client=(address, 40000))

    def login(
        self, username: str = "admin", password: str = ADMIN_PASSWORD, client: TestClient | None = None
    ) -> httpx.Response:
        response = (client or self.client).post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        (client or self.client).cookies.clear()
        return response

    def token(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        response = self.login(username, password)
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    def new_entries(self, since: int) -> list[dict[str, Any]]:
        return self.audit.entries()[since:]


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    with TestClient(create_app(settings, console_log=False)) as client:
        yield Engine(client)


@pytest.fixture
def admin(engine: Engine) -> dict[str, str]:
    return bearer(engine.token())


def make_operator(engine: Engine, admin: dict[str, str]) -> dict[str, str]:
    created = engine.client.post(
        "/api/users", headers=admin, json={"username": OPERATOR[0], "password": OPERATOR[1]}
    )
    assert created.status_code == 201, created.text
    return bearer(engine.token(*OPERATOR))


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "too_many_requests"
    assert int(response.headers["Retry-After"]) >= 1


# -- item 3: own password change and the re-check ---------------------------------------------


def test_an_admin_must_send_the_current_password_to_change_their_own(
    engine: Engine, admin: dict[str, str]
) -> None:
    new = {"password": "a-new-admin-password"}
    refused = engine.client.patch("/api/users/admin", headers=admin, json=new)
    assert refused.status_code == 403, refused.text
    assert "current_password" in refused.json()["message"]
    wrong = engine.client.patch(
        "/api/users/admin", headers=admin, json={**new, "current_password": "not-the-password"}
    )
    assert wrong.status_code == 403, wrong.text
    assert engine.login("admin", new["password"]).status_code == 401  # unchanged
    changed = engine.client.patch(
        "/api/users/admin", headers=admin, json={**new, "current_password": ADMIN_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert engine.login("admin", new["password"]).status_code == 200


@pytest.mark.parametrize("change", ["create-admin", "promote", "reset-password"])
def test_admin_power_changes_need_a_password_re_check(
    engine: Engine, admin: dict[str, str], change: str
) -> None:
    make_operator(engine, admin)

    def send(extra: dict[str, str]) -> httpx.Response:
        if change == "create-admin":
            return engine.client.post(
                "/api/users",
                headers=admin,
                json={
                    "username": f"second-admin-{len(extra)}",
                    "password": "second-admin-password",
                    "role": "admin",
                    **extra,
                },
            )
        body = {"role": "admin"} if change == "promote" else {"password": "reset-by-admin-pw"}
        return engine.client.patch(f"/api/users/{OPERATOR[0]}", headers=admin, json={**body, **extra})

    users_before = engine.services.users.list()
    count = len(engine.audit.entries())
    for extra in ({}, {"current_password": "not-the-admin-password"}):
        refused = send(extra)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "forbidden"
    assert engine.services.users.list() == users_before  # nothing changed
    denials = engine.new_entries(count)
    assert [e["outcome"] for e in denials] == ["denied", "denied"]
    assert "no password re-check" in denials[0]["detail"]
    assert "re-check failed" in denials[1]["detail"]

    count = len(engine.audit.entries())
    done = send({"current_password": ADMIN_PASSWORD})
    assert done.status_code in (200, 201), done.text
    [entry] = engine.new_entries(count)
    assert entry["outcome"] == "success" and "(password re-checked)" in entry["detail"]
    assert ADMIN_PASSWORD not in (engine.services.settings.logs_dir / "audit.log").read_text()


def test_operator_changes_without_admin_power_need_no_re_check(engine: Engine, admin: dict[str, str]) -> None:
    make_operator(engine, admin)
    assert (
        engine.client.patch(f"/api/users/{OPERATOR[0]}", headers=admin, json={"disabled": True}).status_code
        == 200
    )
    assert (
        engine.client.post(
            "/api/users", headers=admin, json={"username": "plain-operator", "password": "plain-operator-pw"}
        ).status_code
        == 201
    )


# -- item 4: one throttle for every password check ---------------------------------------------


def test_dev_mode_switch_guesses_are_throttled(engine: Engine, admin: dict[str, str]) -> None:
    def switch(password: str) -> httpx.Response:
        return engine.client.post(
            "/api/assemblies/dev-mode/switch",
            headers=admin,
            json={"enabled": True, "password": password, "reason": "guess"},
        )

    for attempt in range(5):
        assert switch(f"guess-{attempt}").status_code == 403
    assert_throttled(switch(ADMIN_PASSWORD))  # even the right one, from this client, for now
    assert (
        engine.services.dev_mode.state(
            engine.services.sessions.resolve(admin["Authorization"].split()[1])
        ).enabled
        is False
    )  # type: ignore[arg-type]


def test_own_password_change_guesses_are_throttled(engine: Engine, admin: dict[str, str]) -> None:
    operator = make_operator(engine, admin)
    for attempt in range(5):
        wrong = engine.client.patch(
            f"/api/users/{OPERATOR[0]}",
            headers=operator,
            json={"password": "taken-over-password", "current_password": f"guess-{attempt}"},
        )
        assert wrong.status_code == 403, wrong.text
    assert_throttled(
        engine.client.patch(
            f"/api/users/{OPERATOR[0]}",
            headers=operator,
            json={"password": "taken-over-password", "current_password": OPERATOR[1]},
        )
    )


def test_re_check_guesses_are_throttled(engine: Engine, admin: dict[str, str]) -> None:
    for attempt in range(5):
        refused = engine.client.post(
            "/api/users",
            headers=admin,
            json={
                "username": "new-admin",
                "password": "new-admin-password",
                "role": "admin",
                "current_password": f"guess-{attempt}",
            },
        )
        assert refused.status_code == 403, refused.text
    assert_throttled(
        engine.client.post(
            "/api/users",
            headers=admin,
            json={
                "username": "new-admin",
                "password": "new-admin-password",
                "role": "admin",
                "current_password": ADMIN_PASSWORD,
            },
        )
    )


def test_a_burst_of_failed_logins_is_counted_before_hashing(engine: Engine) -> None:
    """40 concurrent wrong sign-ins from one client: only the first five are hashed."""
    real = engine.services.users._hasher
    hashed: list[int] = []

    class CountingHasher:
        def verify(self, stored: str, typed: str) -> bool:
            hashed.append(1)
            return real.verify(stored, typed)

        def hash(self, password: str) -> str:
            return real.hash(password)

        def check_needs_rehash(self, stored: str) -> bool:
            return real.check_needs_rehash(stored)

    engine.services.users._hasher = CountingHasher()  # type: ignore[assignment]
    statuses: list[int] = []
    start = threading.Barrier(40)

    def guess(i: int) -> None:
        start.wait()
        statuses.append(
            engine.client.post(
                "/api/auth/login", json={"username": "admin", "password": f"wrong-guess-{i}"}
            ).status_code
        )

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) == 5
    assert len(hashed) == 5


def test_a_stranger_cannot_lock_the_real_user_out(engine: Engine) -> None:
    stranger = engine.at("203.0.113.66")
    for attempt in range(5):
        assert engine.login("admin", f"stranger-guess-{attempt}", stranger).status_code == 401
    assert_throttled(engine.login("admin", ADMIN_PASSWORD, stranger))
    # Many strangers push 'admin' over its ceiling: the real user is slowed, never refused.
    for i in range(20):
        assert engine.login("admin", "spread-out-guess", engine.at(f"198.51.100.{i}")).status_code == 401
    assert engine.login("admin", ADMIN_PASSWORD, engine.at("192.0.2.10")).status_code == 200


# -- item 5: authentication before the body ----------------------------------------------------


def _raw_request(
    engine: Engine, method: str, path: str, headers: list[tuple[bytes, bytes]], body_size: int
) -> tuple[int, bytes, int]:
    """Call the ASGI app directly; returns (status, body, bytes of the body it read)."""
    read = 0
    chunk = b"x" * (1 << 20)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= body_size:
            return {"type": "http.disconnect"}
        part = chunk[: body_size - read]
        read += len(part)
        return {"type": "http.request", "body": part, "more_body": read < body_size}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "client": ("192.0.2.99", 5000),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(body_size).encode()),
            *headers,
        ],
    }
    in_own_thread(lambda: asyncio.run(engine.app(scope, receive, send)))  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, read


def test_an_anonymous_30_mib_import_is_refused_without_reading_it(engine: Engine) -> None:
    status, body, read = _raw_request(engine, "POST", "/api/assemblies/import", [], 30 << 20)
    assert status == 401, body
    assert b"unauthorized" in body
    assert read == 0


def test_an_unknown_token_cannot_send_a_body_either(engine: Engine) -> None:
    status, body, read = _raw_request(
        engine, "POST", "/api/assemblies/import", [(b"authorization", b"Bearer not-a-session")], 30 << 20
    )
    assert (status, read) == (401, 0), body


def test_routes_without_content_take_a_small_body(engine: Engine, admin: dict[str, str]) -> None:
    token = admin["Authorization"].encode()
    status, body, _ = _raw_request(engine, "POST", "/api/users", [(b"authorization", token)], 2 << 20)
    assert status == 413, body
    assert b"ENGINE_REQUEST_MAX_BYTES" in body
    # A content route takes more than that (the document itself is then judged on its merits).
    status, body, _ = _raw_request(
        engine, "POST", "/api/assemblies/import", [(b"authorization", token)], 2 << 20
    )
    assert status != 413, body


def test_no_more_than_one_large_body_per_user_is_read_at_once(engine: Engine, admin: dict[str, str]) -> None:
    """Six 30 MiB imports of one user at once: one is read, the others wait unread (two
    users' at once: tests/hardening/test_stalled_uploads.py)."""
    started: list[int] = []
    release = asyncio.Event()

    def request(n: int) -> tuple[dict[str, Any], Any, Any]:
        async def receive() -> dict[str, Any]:
            started.append(n)
            await release.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            return None

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/assemblies/import",
            "raw_path": b"/api/assemblies/import",
            "root_path": "",
            "query_string": b"",
            "client": ("192.0.2.50", 5000 + n),
            "server": ("testserver", 80),
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", str(30 << 20).encode()),
                (b"authorization", admin["Authorization"].encode()),
            ],
        }
        return scope, receive, send

    async def run() -> int:
        tasks = [asyncio.create_task(engine.app(*request(n))) for n in range(6)]  # type: ignore[arg-type]
        for _ in range(200):  # until the two admitted requests are waiting for their bodies
            await asyncio.sleep(0.01)
            if len(started) >= 1:
                break
        await asyncio.sleep(0.2)  # time for any further (wrongly admitted) request to start
        reading = len(started)
        release.set()
        await asyncio.gather(*tasks)
        return reading

    assert in_own_thread(lambda: asyncio.run(run())) == 1


# -- item 8: what refusals leave in the logs ---------------------------------------------------


def test_anonymous_refusals_are_counted_per_address_and_minute(engine: Engine) -> None:
    now = [1_800_000_000.0]
    engine.services.auditor.refusals = AnonymousRefusals(clock=lambda: now[0])
    count = len(engine.audit.entries())
    for _ in range(50):
        assert engine.client.get("/api/assemblies").status_code == 401
    first = engine.new_entries(count)
    assert len(first) == 1, first  # not 50 fsynced entries
    assert first[0]["outcome"] == "denied" and "[client testclient]" in first[0]["detail"]
    now[0] += 60
    assert engine.client.get("/api/assemblies/queue").status_code == 401
    summary, next_first = engine.new_entries(count)[1:]
    assert summary["action"] == "refused.anonymous"
    assert summary["detail"].startswith("49 more anonymous refusal(s) [client testclient]")
    assert "assembly.list x49" in summary["detail"]
    assert next_first["action"] != "refused.anonymous"


def test_anonymous_refusals_from_many_addresses_of_one_network_are_summarised(engine: Engine) -> None:
    """Issue 23 #16: 300 anonymous refusals from 300 addresses of two /24 networks write two
    entries at once (one per network), then one summary per network, not 300 entries."""
    now = [1_800_000_000.0]
    engine.services.auditor.refusals = AnonymousRefusals(clock=lambda: now[0])
    count = len(engine.audit.entries())
    for i in range(300):
        network = "198.51.100" if i % 2 else "203.0.113"
        assert engine.at(f"{network}.{i % 250 + 1}").get("/api/assemblies").status_code == 401
    first = engine.new_entries(count)
    assert len(first) == 2, [e["detail"] for e in first]
    now[0] += 60
    assert engine.client.get("/api/assemblies/queue").status_code == 401
    summaries = [e for e in engine.new_entries(count) if e["action"] == "refused.anonymous"]
    assert sorted(e["detail"].split(" in the minute")[0] for e in summaries) == [
        "149 more anonymous refusal(s) [clients in 198.51.100.0/24]",
        "149 more anonymous refusal(s) [clients in 203.0.113.0/24]",
    ]


def test_unknown_token_and_backup_refusals_are_audited(engine: Engine, admin: dict[str, str]) -> None:
    engine.services.auditor.refusals = AnonymousRefusals()
    count = len(engine.audit.entries())
    assert engine.client.get("/api/assemblies", headers=bearer("revoked-or-made-up")).status_code == 401
    [token_entry] = engine.new_entries(count)
    assert token_entry["action"] == "auth.token" and token_entry["outcome"] == "denied"
    assert "revoked-or-made-up" not in (engine.services.settings.logs_dir / "audit.log").read_text()

    engine.client.post(
        "/api/assemblies/dev-mode/switch",
        headers=admin,
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "backup"},
    )
    count = len(engine.audit.entries())
    refused = engine.client.post("/api/admin/backup", headers=admin, json={"destination": "/tmp/x"})
    assert refused.status_code == 403, refused.text
    [backup_entry] = engine.new_entries(count)
    assert (backup_entry["action"], backup_entry["outcome"]) == ("backup", "denied")
    assert backup_entry["user"] == "admin"


def test_a_password_typed_as_username_never_reaches_the_logs(engine: Engine) -> None:
    typed = "Summer2026!my-secret"
    count = len(engine.audit.entries())
    for _ in range(2):
        assert engine.login(typed, "whatever-password").status_code in (401, 422)
    entries = engine.new_entries(count)
    assert entries and all(re.fullmatch(r"unknown-user:[0-9a-f]{16}", e["user"] or "") for e in entries)
    assert entries[0]["user"] == entries[-1]["user"]  # the same text gives the same marker
    logs = engine.services.settings.logs_dir
    assert typed not in (logs / "audit.log").read_text()
    assert typed not in (logs / "engine.log").read_text()


# -- trusted proxies ---------------------------------------------------------------------------


@pytest.mark.parametrize("trusted", ["", "10.0.0.1"])
def test_forwarded_headers_count_only_from_trusted_proxies(settings: Settings, trusted: str) -> None:
    from dataclasses import replace

    with TestClient(create_app(replace(settings, trusted_proxies=trusted), console_log=False)) as client:
        engine = Engine(client)
        engine.services.auditor.refusals = AnonymousRefusals()
        proxy = engine.at("10.0.0.1")
        count = len(engine.audit.entries())
        refused = proxy.get(
            "/api/assemblies",
            headers={"X-Forwarded-For": "198.51.100.7, 10.0.0.1", "X-Forwarded-Proto": "https"},
        )
        assert refused.status_code == 401
        [entry] = engine.new_entries(count)
        shown = "198.51.100.7" if trusted else "10.0.0.1"
        assert f"[client {shown}]" in entry["detail"], entry
        login = proxy.post(
            "/api/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
        )
        assert login.status_code == 200
        secure = "secure" in login.headers["set-cookie"].lower()
        assert secure is bool(trusted)


def test_a_bad_trusted_proxy_entry_stops_the_start(settings: Settings) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="not an IP address"):
        create_app(replace(settings, trusted_proxies="10.0.0.1, proxy.example"))
