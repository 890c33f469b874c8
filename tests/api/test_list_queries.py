"""GET /api/assemblies: filters, sorting, paging and cheap unchanged lists (ETag / 304)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from tests.support import ADMIN_PASSWORD


@pytest.fixture
def client(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}
        for name, kind, atype in [
            ("Alpha disk", "script", "bash"),
            ("beta flow", "workflow", "workflow"),
            ("Gamma disk", "script", "python"),
        ]:
            payload = {"workflow": {"nodes": [], "edges": []}} if kind == "workflow" else {"script": "x"}
            response = http.post(
                "/api/assemblies",
                headers=headers,
                json={
                    "display_name": name,
                    "assembly_kind": kind,
                    "assembly_type": atype,
                    "summary": f"{name} summary",
                    "category": "maintenance",
                    "payload": payload,
                },
            )
            assert response.status_code == 201
        yield http, headers


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [item["display_name"] for item in response.json()["items"]]


def test_filters_sorting_and_paging(client: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = client
    assert names(http.get("/api/assemblies", headers=headers)) == ["Alpha disk", "beta flow", "Gamma disk"]
    assert names(http.get("/api/assemblies?order=desc", headers=headers))[0] == "Gamma disk"
    assert names(http.get("/api/assemblies?q=DISK", headers=headers)) == ["Alpha disk", "Gamma disk"]
    assert names(http.get("/api/assemblies?kind=workflow", headers=headers)) == ["beta flow"]
    assert http.get("/api/assemblies?domain=official", headers=headers).json()["total"] == 0
    page = http.get("/api/assemblies?limit=1&offset=1", headers=headers).json()
    assert page["total"] == 3 and [i["display_name"] for i in page["items"]] == ["beta flow"]
    assert http.get("/api/assemblies?dirty=true", headers=headers).json()["total"] == 3
    assert http.get("/api/assemblies?sort=nope", headers=headers).status_code == 422


def checked_list(http: TestClient, headers: dict[str, str]) -> Response:
    """The list once every row's script check has reported: a result arriving later is a
    change the list shows (its counts), so it would rightly answer 200 with a new ETag."""
    deadline = time.monotonic() + 30
    while True:
        listed = http.get("/api/assemblies", headers=headers)
        if all(item.get("checks") is not None for item in listed.json()["items"]):
            return listed
        assert time.monotonic() < deadline, listed.json()
        time.sleep(0.05)


def test_unchanged_list_answers_304_until_something_changes(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = client
    first = checked_list(http, headers)
    etag = first.headers["etag"]
    again = http.get("/api/assemblies", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other_query = http.get("/api/assemblies?q=disk", headers={**headers, "If-None-Match": etag})
    assert other_query.status_code == 200
    guid = first.json()["items"][0]["assembly_guid"]
    updated = http.put(f"/api/assemblies/{guid}", headers=headers, json={"summary": "changed"})
    assert updated.status_code == 200
    changed = http.get("/api/assemblies", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert http.get("/api/assemblies", headers={"If-None-Match": etag}).status_code == 401


@pytest.mark.parametrize(
    "path, template",
    [
        (
            "/api/assemblies",
            '{{"display_name":"x","assembly_kind":"script","assembly_type":"bash",'
            '"payload":{{"script":"x"}},"metadata":{{"a":{deep}}}}}',
        ),
        ("/api/assemblies/import", '{{"document":{{"name":"x","type":"bash","script":"x","extra":{deep}}}}}'),
        (
            "/api/assemblies/import",
            '{{"document":"{{\\"name\\":\\"x\\",\\"type\\":\\"bash\\",'
            '\\"script\\":\\"x\\",\\"extra\\":{deep}}}"}}',
        ),
    ],
)
@pytest.mark.parametrize("depth", [100, 500, 5000])
def test_deeply_nested_json_is_refused_clearly(
    client: tuple[TestClient, dict[str, str]], path: str, template: str, depth: int
) -> None:
    http, headers = client
    body = template.format(deep="[" * depth + "]" * depth)
    before = http.get("/api/assemblies", headers=headers).json()["total"]
    response = http.post(path, content=body, headers={**headers, "content-type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert "nested" in response.json()["message"] or "JSON" in response.json()["message"]
    assert http.get("/api/assemblies", headers=headers).json()["total"] == before


def test_stored_answers_are_per_caller_kind_and_follow_flushes(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    """The list's bytes are kept per query string, caller kind and cache generation."""
    http, headers = client
    created = http.post(
        "/api/users",
        headers=headers,
        json={"username": "viewer", "password": "viewer-password", "role": "operator"},
    )
    assert created.status_code == 201, created.text
    operator = {
        "Authorization": "Bearer "
        + http.post("/api/auth/login", json={"username": "viewer", "password": "viewer-password"}).json()[
            "token"
        ]
    }
    http.cookies.clear()
    for _ in range(2):  # the second round is answered from the stored bytes
        as_admin = http.get("/api/assemblies?limit=2", headers=headers)
        as_operator = http.get("/api/assemblies?limit=2", headers=operator)
        assert all("payload_guid" in item for item in as_admin.json()["items"])
        assert not any("payload_guid" in item for item in as_operator.json()["items"])
        assert as_admin.headers["etag"] != as_operator.headers["etag"]
    admins_tag = {"If-None-Match": as_admin.headers["etag"]}
    assert http.get("/api/assemblies?limit=2", headers={**operator, **admins_tag}).status_code == 200

    assert http.get("/api/assemblies?dirty=true", headers=headers).json()["total"] == 3
    assert http.get("/api/assemblies?dirty=true", headers=headers).json()["queue"]["depth"] == 3
    switched = http.post(
        "/api/assemblies/dev-mode/switch",
        headers=headers,
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "flush in a test"},
    )
    assert switched.status_code == 200, switched.text
    flushed = http.post("/api/assemblies/dev-mode/write", headers=headers)
    assert flushed.status_code == 200, flushed.text
    after = http.get("/api/assemblies?dirty=true", headers=headers).json()
    assert after["total"] == 0 and after["queue"]["depth"] == 0


def test_a_bad_query_stays_refused_when_asked_again(client: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = client
    for _ in range(2):
        response = http.get("/api/assemblies?limit=0", headers=headers)
        assert response.status_code == 422 and "limit" in response.json()["message"]
    assert http.get("/api/assemblies?limit=0").status_code == 401  # sign-in is checked first


def test_an_unexpected_list_failure_is_a_json_500(
    client: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list takes the fast lane past FastAPI's routing; its failures still get the
    engine's error shape."""
    http, headers = client
    services = http.app.state.services  # type: ignore[attr-defined]

    def broken(*_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.assemblies.listing, "render", broken)
    response = http.get("/api/assemblies?q=never-listed-before", headers=headers)
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error" and "disk on fire" not in response.text
    assert http.get("/api/assemblies/queue", headers=headers).status_code == 200  # others unaffected
