"""GET /api/assemblies?category= and GET /api/assemblies/facets: counts that follow the search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings

SAMPLES = [  # name, kind, type, category
    ("Alpha disk", "script", "bash", "maintenance"),
    ("Beta disk", "script", "python", "diagnostics"),
    ("Gamma flow", "workflow", "workflow", "maintenance"),
    ("Delta disk play", "ansible", "ansible", ""),
]


@pytest.fixture
def client(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}
        for name, kind, atype, category in SAMPLES:
            payload = {"workflow": {"nodes": [], "edges": []}} if kind == "workflow" else {"script": "x"}
            response = http.post(
                "/api/assemblies",
                headers=headers,
                json={
                    "display_name": name,
                    "assembly_kind": kind,
                    "assembly_type": atype,
                    "category": category,
                    "payload": payload,
                },
            )
            assert response.status_code == 201, response.text
        yield http, headers


def test_category_filter_is_exact(client: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = client
    listed = http.get("/api/assemblies?category=maintenance", headers=headers).json()
    assert [i["display_name"] for i in listed["items"]] == ["Alpha disk", "Gamma flow"]
    assert http.get("/api/assemblies?category=maint", headers=headers).json()["total"] == 0
    no_category = http.get("/api/assemblies?category=", headers=headers).json()
    assert [i["display_name"] for i in no_category["items"]] == ["Delta disk play"]
    both = http.get("/api/assemblies?category=maintenance&kind=script", headers=headers).json()
    assert [i["display_name"] for i in both["items"]] == ["Alpha disk"]


def test_facets_follow_the_search_and_leave_out_their_own_filter(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = client
    everything = http.get("/api/assemblies/facets", headers=headers).json()
    assert everything == {
        "domain": {"official": 0, "community": 0, "user": 4},
        "kind": {"script": 2, "workflow": 1, "ansible": 1},
        "category": {"": 1, "diagnostics": 1, "maintenance": 2},
        "tags": {},
        "total": 4,
    }
    searched = http.get("/api/assemblies/facets?q=disk", headers=headers).json()
    assert searched["total"] == 3
    assert searched["kind"] == {"script": 2, "workflow": 0, "ansible": 1}
    assert searched["category"] == {"": 1, "diagnostics": 1, "maintenance": 1}
    # With kind=script chosen, the kind counts still show every kind (their own filter is
    # left out) while domain and category counts narrow to scripts.
    scripts = http.get("/api/assemblies/facets?q=disk&kind=script", headers=headers).json()
    assert scripts["kind"] == {"script": 2, "workflow": 0, "ansible": 1}
    assert scripts["category"] == {"diagnostics": 1, "maintenance": 1}
    assert scripts["domain"]["user"] == 2 and scripts["total"] == 2
    official = http.get("/api/assemblies/facets?domain=official", headers=headers).json()
    assert official["domain"]["user"] == 4 and official["kind"]["script"] == 0


def test_facets_refuse_bad_filters_and_anonymous_callers(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = client
    response = http.get("/api/assemblies/facets?kind=macro", headers=headers)
    assert response.status_code == 422 and "kind" in response.text
    assert http.get("/api/assemblies/facets?q=" + "x" * 201, headers=headers).status_code == 422
    assert http.get("/api/assemblies/facets").status_code == 401


def test_tags_filter_and_count_and_folders_nest(client: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = client
    for name, category, tags in (
        ("Disk cleanup", "Windows/Maintenance", ["disk", "weekly"]),
        ("Disk report", "Windows", ["disk"]),
        ("Log rotate", "Windows Server", ["weekly"]),
    ):
        body = {
            "display_name": name,
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "category": category,
            "tags": tags,
            "payload": {"script": "x"},
        }
        assert http.post("/api/assemblies", headers=headers, json=body).status_code == 201
    tagged = http.get("/api/assemblies?tag=disk", headers=headers).json()
    assert [i["display_name"] for i in tagged["items"]] == ["Disk cleanup", "Disk report"]
    assert http.get("/api/assemblies?tag=dis", headers=headers).json()["total"] == 0  # exact
    # A folder holds its own category and everything below it, not a sibling sharing a prefix.
    folder = http.get("/api/assemblies?folder=Windows", headers=headers).json()
    assert [i["display_name"] for i in folder["items"]] == ["Disk cleanup", "Disk report"]
    deeper = http.get("/api/assemblies?folder=Windows/Maintenance&tag=weekly", headers=headers).json()
    assert [i["display_name"] for i in deeper["items"]] == ["Disk cleanup"]
    facets = http.get("/api/assemblies/facets", headers=headers).json()
    assert facets["tags"] == {"disk": 2, "weekly": 2}
    # The tag facet leaves out its own filter and follows the others.
    in_folder = http.get("/api/assemblies/facets?folder=Windows&tag=weekly", headers=headers).json()
    assert in_folder["tags"] == {"disk": 2, "weekly": 1}
    assert in_folder["total"] == 1
    assert in_folder["category"]["Windows Server"] == 1  # categories count within the tag, across folders
    for bad in ("tag=", "folder=", "tag=" + "x" * 65):
        refused = http.get(f"/api/assemblies?{bad}", headers=headers)
        assert refused.status_code == 422, (bad, refused.text)  # as every malformed query parameter
        assert refused.json()["error"] == "invalid_document" and "query." in refused.json()["message"]
