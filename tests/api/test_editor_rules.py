"""Rules the web editor relies on: variable names checked by the engine (422 naming the
row) and GET /api/auth/session (200 whether or not signed in, saying why a session ended)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings


@pytest.fixture
def http(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, console_log=False)) as client:
        yield client


def bearer(http: TestClient, username: str, password: str) -> dict[str, str]:
    token = http.post("/api/auth/login", json={"username": username, "password": password}).json()["token"]
    http.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def script(variables: Any) -> dict[str, Any]:
    return {
        "display_name": "vars",
        "assembly_kind": "script",
        "assembly_type": "bash",
        "payload": {"script": "echo"},
        "metadata": {"variables": variables},
    }


@pytest.mark.parametrize(
    "variables, row, words",
    [
        ([{"name": ""}, {"name": ""}], 1, "has no name"),
        ([{"name": "a"}, {"name": "   "}], 2, "has no name"),
        ([{"name": "a"}, {"name": "b"}, {"name": "a "}], 3, "'a' like row 1"),
        ([{"name": "a"}, "b"], 2, "must be an object"),
    ],
)
def test_blank_or_duplicate_variable_names_are_refused_naming_the_row(
    http: TestClient,
    settings: Settings,
    variables: list[Any],
    row: int,
    words: str,
) -> None:
    headers = bearer(http, "admin", settings.admin_password)
    before = http.get("/api/assemblies", headers=headers).json()["total"]
    created = http.post("/api/assemblies", headers=headers, json=script(variables))
    assert created.status_code == 422
    assert created.json()["error"] == "invalid_document"
    assert f"variable row {row}" in created.json()["message"] and words in created.json()["message"]
    assert http.get("/api/assemblies", headers=headers).json()["total"] == before

    guid = http.post("/api/assemblies", headers=headers, json=script([{"name": "ok"}])).json()[
        "assembly_guid"
    ]
    updated = http.put(
        f"/api/assemblies/{guid}", headers=headers, json={"metadata": {"variables": variables}}
    )
    assert updated.status_code == 422 and f"variable row {row}" in updated.json()["message"]
    kept = http.get(f"/api/assemblies/{guid}", headers=headers).json()["metadata"]["variables"]
    assert kept == [{"name": "ok"}]


def test_unique_named_variables_and_sites_with_spaces_are_kept(http: TestClient, settings: Settings) -> None:
    headers = bearer(http, "admin", settings.admin_password)
    body = script([{"name": "a"}, {"name": "b"}])
    body["metadata"]["sites"] = {"mode": "specific", "values": ["Main Office", "Lab 2"]}
    created = http.post("/api/assemblies", headers=headers, json=body)
    assert created.status_code == 201
    assert created.json()["metadata"]["sites"]["values"] == ["Main Office", "Lab 2"]


def test_session_answers_200_signed_in_or_not_and_says_why_it_ended(
    http: TestClient,
    settings: Settings,
) -> None:
    assert http.get("/api/auth/session").json() == {"signed_in": False, "ended": None}
    assert http.get("/api/auth/me").status_code == 401  # the old contract stays

    admin = bearer(http, "admin", settings.admin_password)
    assert http.post(
        "/api/users",
        headers=admin,
        json={"username": "olga", "password": "operator-password", "role": "operator"},
    ).status_code in (200, 201)
    login = http.post("/api/auth/login", json={"username": "olga", "password": "operator-password"})
    assert login.status_code == 200
    mine = http.get("/api/auth/session").json()  # the cookie the login set
    assert mine["signed_in"] is True
    assert mine["user"] == {"username": "olga", "role": "operator"}
    assert mine["dev_mode"]["enabled"] is False and mine["csrf_token"]

    assert http.patch("/api/users/olga", headers=admin, json={"disabled": True}).status_code == 200
    assert http.get("/api/assemblies").status_code == 401
    assert http.get("/api/auth/session").json() == {"signed_in": False, "ended": "account_disabled"}

    assert http.patch("/api/users/olga", headers=admin, json={"disabled": False}).status_code == 200
    http.cookies.clear()
    http.post("/api/auth/login", json={"username": "olga", "password": "operator-password"})
    token = http.cookies.get("ae_session")
    revoked = {"Authorization": f"Bearer {token}"}
    assert http.post("/api/auth/logout", headers=revoked).status_code == 200
    http.cookies.set("ae_session", token)
    assert http.get("/api/auth/session").json() == {"signed_in": False, "ended": "revoked"}
