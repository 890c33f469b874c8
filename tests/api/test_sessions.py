"""Sign-in sessions over the API (Docs/assemblies.md §7, §8): revocation, token strength and storage, the
session cookie, CSRF protection of cookie-authenticated changes, login throttling and
``GET /api/auth/me``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.services.auth.sessions import hash_token
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    OPERATOR,
    OPERATOR_NAME,
    OPERATOR_PASSWORD,
    ApiEngine,
    assert_unchanged,
    bearer,
    create_body,
    login,
    plant_assembly,
    snapshot,
    unique_name,
)
from tests.support import ADMIN_PASSWORD

SAME_ORIGIN = "http://testserver"
EVIL_ORIGIN = "http://evil.example"


@pytest.fixture
def browser(api: ApiEngine) -> Iterator[TestClient]:
    """A second client of the same running app with its own cookie jar (no lifespan)."""
    client = TestClient(api.client.app)
    yield client
    client.close()


def browser_login(client: TestClient, username: str, password: str) -> httpx.Response:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers of a response by cookie name (the raw header lines)."""
    result: dict[str, str] = {}
    for line in response.headers.get_list("set-cookie"):
        name = line.split("=", 1)[0].strip()
        result[name] = line
    return result


def cookie_attributes(line: str) -> dict[str, str]:
    parsed = SimpleCookie()
    parsed.load(line)
    (morsel,) = parsed.values()
    return {key: str(value) for key, value in morsel.items() if value}


# -- logout and revocation -----------------------------------------------------------------


def test_logout_ends_the_session_at_once(api: ApiEngine) -> None:
    token = login(api.client, OPERATOR_NAME, OPERATOR_PASSWORD)
    assert api.client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    response = api.client.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 200, response.text
    api.client.cookies.clear()
    me = api.client.get("/api/auth/me", headers=bearer(token))
    assert me.status_code == 401
    assert me.json()["error"] == "unauthorized"
    before = snapshot(api.services)
    refused = api.client.post("/api/assemblies", headers=bearer(token), json=create_body("user"))
    assert refused.status_code == 401
    assert_unchanged(before, snapshot(api.services))
    assert api.client.post("/api/auth/logout", headers=bearer(token)).status_code == 401
    # The operator's other session is untouched.
    assert api.request(OPERATOR, "GET", "/api/auth/me").status_code == 200


def test_disabling_a_user_ends_all_their_sessions_at_once(api: ApiEngine) -> None:
    name, password = unique_name("leaver"), "leaver-password"
    created = api.request(
        ADMIN, "POST", "/api/users", json={"username": name, "password": password, "role": "operator"}
    )
    assert created.status_code == 201, created.text
    tokens = [login(api.client, name, password), login(api.client, name, password)]
    for token in tokens:
        assert api.client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    disabled = api.request(ADMIN, "PATCH", f"/api/users/{name}", json={"disabled": True})
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    for token in tokens:
        assert api.client.get("/api/auth/me", headers=bearer(token)).status_code == 401
        refused = api.client.post("/api/assemblies", headers=bearer(token), json=create_body("user"))
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthorized"
    relogin = api.client.post("/api/auth/login", json={"username": name, "password": password})
    api.client.cookies.clear()
    assert relogin.status_code == 401
    # Enabling the account again does not bring the ended sessions back.
    enabled = api.request(ADMIN, "PATCH", f"/api/users/{name}", json={"disabled": False})
    assert enabled.status_code == 200
    for token in tokens:
        assert api.client.get("/api/auth/me", headers=bearer(token)).status_code == 401


def test_disabling_an_admin_ends_their_dev_mode_session(api: ApiEngine) -> None:
    name, password = unique_name("admin-leaver"), "admin-leaver-password"
    created = api.request(
        ADMIN,
        "POST",
        "/api/users",
        json={"username": name, "password": password, "role": "admin", "current_password": ADMIN_PASSWORD},
    )
    assert created.status_code == 201, created.text
    token = login(api.client, name, password)
    switched = api.client.post(
        "/api/assemblies/dev-mode/switch",
        headers=bearer(token),
        json={"enabled": True, "password": password, "reason": "test"},
    )
    assert switched.status_code == 200 and switched.json()["enabled"] is True
    assert api.request(ADMIN, "PATCH", f"/api/users/{name}", json={"disabled": True}).status_code == 200
    before = snapshot(api.services)
    api.client.cookies.clear()
    refused = api.client.post("/api/assemblies", headers=bearer(token), json=create_body("official"))
    assert refused.status_code == 401
    assert_unchanged(before, snapshot(api.services))


# -- the token and its storage -------------------------------------------------------------


def test_token_is_long_random_and_only_its_hash_is_stored(api: ApiEngine) -> None:
    tokens = [login(api.client, OPERATOR_NAME, OPERATOR_PASSWORD) for _ in range(2)]
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token), token  # >= 256 bits urlsafe base64
        assert len(token) >= 43  # 128 bits need 22; the engine gives 32 random bytes
        assert api.services.store.get_session(hash_token(token)) is not None
    assert tokens[0] != tokens[1]
    db_path: Path = api.settings.engine_db_path
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert files[1].exists(), "engine.db runs in WAL mode; its -wal file holds recent sessions"
    for path in files:
        raw = path.read_bytes()
        for token in tokens:
            assert token.encode() not in raw, f"the raw token is stored in {path.name}"
    # The hash is what is stored: it is somewhere in the database files.
    stored = b"".join(path.read_bytes() for path in files)
    assert any(hash_token(token).encode() in stored for token in tokens)


def test_login_answers_the_user_role_token_and_cookies(browser: TestClient) -> None:
    response = browser_login(browser, OPERATOR_NAME, OPERATOR_PASSWORD)
    body = response.json()
    assert body["user"] == {"username": OPERATOR_NAME, "role": "operator"}
    cookies = set_cookies(response)
    assert set(cookies) >= {"ae_session", "ae_csrf"}
    session = cookie_attributes(cookies["ae_session"])
    session_line = cookies["ae_session"].lower()
    assert "httponly" in session_line
    assert session.get("samesite", "").lower() in {"strict", "lax"}
    assert session.get("path") == "/"
    parsed = SimpleCookie()
    parsed.load(cookies["ae_session"])
    assert parsed["ae_session"].value == body["token"]
    csrf_line = cookies["ae_csrf"].lower()
    assert "httponly" not in csrf_line  # pages must be able to read it
    assert cookie_attributes(cookies["ae_csrf"]).get("samesite", "").lower() in {"strict", "lax"}
    csrf = SimpleCookie()
    csrf.load(cookies["ae_csrf"])
    assert csrf["ae_csrf"].value == body["csrf_token"]
    assert body["csrf_token"] != body["token"]


# -- CSRF ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cookie_session(api: ApiEngine) -> Iterator[tuple[TestClient, str]]:
    """A browser signed in with cookies only (once per module); it and its CSRF token."""
    client = TestClient(api.client.app)
    response = browser_login(client, OPERATOR_NAME, OPERATOR_PASSWORD)
    csrf = client.cookies.get("ae_csrf")
    assert csrf and csrf == response.json()["csrf_token"]
    assert client.cookies.get("ae_session") == response.json()["token"]
    yield client, csrf
    client.close()


def _cookie_call(api: ApiEngine, method: str) -> tuple[str, dict[str, object] | None]:
    if method == "POST":
        return "/api/assemblies", create_body("user")
    guid = plant_assembly(api.services, "user")
    if method == "PUT":
        return f"/api/assemblies/{guid}", {"display_name": unique_name("cookie-rename")}
    return f"/api/assemblies/{guid}", None


def _send(
    client: TestClient, method: str, url: str, body: dict[str, object] | None, headers: dict[str, str]
) -> httpx.Response:
    if body is None:
        return client.request(method, url, headers=headers)
    return client.request(method, url, json=body, headers=headers)


BAD_CSRF = [
    pytest.param({}, id="no-header"),
    pytest.param({"X-CSRF-Token": "0" * 64}, id="wrong-token"),
    pytest.param({"X-CSRF-Token": ""}, id="empty-token"),
    pytest.param({"Origin": EVIL_ORIGIN, "X-CSRF-Token": "<right>"}, id="evil-origin-right-token"),
    pytest.param({"Origin": "null", "X-CSRF-Token": "<right>"}, id="null-origin-right-token"),
]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("headers", BAD_CSRF)
def test_cookie_change_without_valid_csrf_is_refused(
    api: ApiEngine, cookie_session: tuple[TestClient, str], method: str, headers: dict[str, str]
) -> None:
    client, csrf = cookie_session
    sent = {key: csrf if value == "<right>" else value for key, value in headers.items()}
    url, body = _cookie_call(api, method)
    count = len(api.audit_entries())
    before = snapshot(api.services)
    response = _send(client, method, url, body, sent)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"
    assert "X-CSRF-Token" in response.json()["message"]
    assert_unchanged(before, snapshot(api.services))
    entries = api.audit_entries()[count:]
    assert len(entries) == 1 and entries[0]["outcome"] == "denied"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("origin", [SAME_ORIGIN, None], ids=["same-origin", "no-origin"])
def test_cookie_change_with_right_csrf_succeeds(
    api: ApiEngine, cookie_session: tuple[TestClient, str], method: str, origin: str | None
) -> None:
    client, csrf = cookie_session
    url, body = _cookie_call(api, method)
    headers = {"X-CSRF-Token": csrf}
    if origin:
        headers["Origin"] = origin
    response = _send(client, method, url, body, headers)
    assert response.status_code == {"POST": 201, "PUT": 200, "DELETE": 202}[method], response.text


def test_csrf_token_of_another_session_is_refused(
    api: ApiEngine, cookie_session: tuple[TestClient, str]
) -> None:
    client, _ = cookie_session
    other = api.request(OPERATOR, "GET", "/api/auth/me").json()["csrf_token"]
    before = snapshot(api.services)
    response = client.post(
        "/api/assemblies", json=create_body("user"), headers={"X-CSRF-Token": other, "Origin": SAME_ORIGIN}
    )
    assert response.status_code == 403
    assert_unchanged(before, snapshot(api.services))


def test_cookie_logout_needs_csrf(browser: TestClient) -> None:
    client = browser
    csrf = browser_login(client, OPERATOR_NAME, OPERATOR_PASSWORD).json()["csrf_token"]
    assert client.post("/api/auth/logout").status_code == 403
    assert client.get("/api/auth/me").status_code == 200  # still signed in
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401


def test_cookie_reads_need_no_csrf(cookie_session: tuple[TestClient, str]) -> None:
    client, _ = cookie_session
    me = client.get("/api/auth/me", headers={"Origin": EVIL_ORIGIN})
    assert me.status_code == 200
    assert me.json()["user"]["username"] == OPERATOR_NAME


@pytest.mark.parametrize("origin", [None, EVIL_ORIGIN], ids=["no-origin", "other-origin"])
def test_bearer_changes_need_no_csrf_header(api: ApiEngine, origin: str | None) -> None:
    headers = {"Origin": origin} if origin else {}
    response = api.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"), headers=headers)
    assert response.status_code == 201, response.text


def test_malformed_authorization_header_is_unauthorized(api: ApiEngine) -> None:
    api.client.cookies.clear()
    for value in ("Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer not-a-session-token", api.tokens[OPERATOR]):
        response = api.client.get("/api/auth/me", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json()["error"] == "unauthorized"


# -- GET /api/auth/me ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "username", "role", "dev_mode"),
    [
        (OPERATOR, OPERATOR_NAME, "operator", False),
        (ADMIN, "admin", "admin", False),
        (ADMIN_DEV, "admin", "admin", True),
    ],
)
def test_me_returns_user_role_and_dev_mode(
    api: ApiEngine, caller: str, username: str, role: str, dev_mode: bool
) -> None:
    response = api.request(caller, "GET", "/api/auth/me")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"] == {"username": username, "role": role}
    state = body["dev_mode"]
    assert state["enabled"] is dev_mode
    assert state["ttl_seconds"] == api.settings.dev_mode_ttl_seconds
    if dev_mode:
        assert isinstance(state["expires_at"], str) and state["expires_at"].endswith("Z")
    else:
        assert state["expires_at"] is None


def test_me_without_credentials_is_unauthorized(api: ApiEngine) -> None:
    response = api.request("anonymous", "GET", "/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


# -- login throttling (its own engine: the throttle counts per client address) ------------


@pytest.fixture
def fresh_engine(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, console_log=False)) as client:
        yield client


def test_login_failures_are_throttled_and_audited(fresh_engine: TestClient) -> None:
    client = fresh_engine
    audit = client.app.state.services.audit  # type: ignore[attr-defined]
    wrong = "wrong-password-guess"
    start = len(audit.entries())
    for attempt in range(5):
        response = client.post("/api/auth/login", json={"username": "admin", "password": f"{wrong}{attempt}"})
        assert response.status_code == 401, (attempt, response.text)
        assert response.json()["error"] == "unauthorized"
    # The sixth attempt is refused before the password is looked at — even the right one.
    throttled = client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert throttled.status_code == 429, throttled.text
    assert throttled.json()["error"] == "too_many_requests"
    retry_after = throttled.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) > 0
    assert "token" not in throttled.json()
    assert not client.cookies.get("ae_session")

    entries = audit.entries()[start:]
    assert len(entries) == 6, entries
    assert [e["outcome"] for e in entries] == ["failed"] * 5 + ["denied"]
    for entry in entries:
        assert entry["action"] == "login"
        assert entry["user"] == "admin"
        assert entry["session"] is None
    raw = (client.app.state.services.settings.logs_dir / "audit.log").read_text()  # type: ignore[attr-defined]
    assert ADMIN_PASSWORD not in raw
    for attempt in range(5):
        assert f"{wrong}{attempt}" not in raw
