"""Favourites per user (Docs/assemblies.md, "Favourites"): GET/PUT/DELETE /api/me/favourites,
on both backends. Every caller kind × every domain × list, star and unstar; refusals are
clear and change nothing; a user's stars are their own; the cap holds."""

from __future__ import annotations

import pytest

from assembly_engine.services.favourites import FAVOURITES_PER_USER
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ADMIN_EXPIRED,
    ANONYMOUS,
    BACKENDS,
    CALLERS,
    DISABLED,
    DOMAINS,
    OPERATOR,
    OPERATOR_NAME,
    ApiEngine,
    plant_assembly,
)

API_BACKENDS = BACKENDS
SIGNED_IN = (OPERATOR, ADMIN, ADMIN_DEV, ADMIN_EXPIRED)
MISSING = "f" * 32


def _starred(api: ApiEngine, caller: str) -> list[str]:
    response = api.request(caller, "GET", "/api/me/favourites")
    assert response.status_code == 200, response.text
    return [item["assembly_guid"] for item in response.json()["items"]]


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("caller", CALLERS)
def test_every_caller_stars_and_unstars_in_every_domain(api: ApiEngine, caller: str, domain: str) -> None:
    guid = plant_assembly(api.services, domain)
    starred = api.request(caller, "PUT", f"/api/me/favourites/{guid}")
    if caller not in SIGNED_IN:  # anonymous, or a disabled user's session
        assert starred.status_code == 401, starred.text
        assert starred.json()["error"] == "unauthorized"
        assert api.request(caller, "GET", "/api/me/favourites").status_code == 401
        assert api.request(caller, "DELETE", f"/api/me/favourites/{guid}").status_code == 401
        return
    assert starred.status_code == 200, starred.text
    assert starred.json()["favourite"] is True and starred.json()["limit"] == FAVOURITES_PER_USER
    assert guid in _starred(api, caller)
    listed = api.request(caller, "GET", "/api/me/favourites").json()
    row = next(item for item in listed["items"] if item["assembly_guid"] == guid)
    assert row["source"] == domain and "payload" not in row and "metadata" not in row
    again = api.request(caller, "PUT", f"/api/me/favourites/{guid}")
    assert again.status_code == 200 and again.json()["total"] == starred.json()["total"]
    unstarred = api.request(caller, "DELETE", f"/api/me/favourites/{guid}")
    assert unstarred.status_code == 200, unstarred.text
    assert unstarred.json()["favourite"] is False
    assert guid not in _starred(api, caller)


def test_a_users_stars_are_their_own(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    assert api.request(OPERATOR, "PUT", f"/api/me/favourites/{guid}").status_code == 200
    assert guid in _starred(api, OPERATOR)
    assert guid not in _starred(api, ADMIN)
    # Two sessions of one user share their stars.
    assert api.request(ADMIN, "PUT", f"/api/me/favourites/{guid}").status_code == 200
    assert guid in _starred(api, ADMIN_DEV)
    assert api.request(OPERATOR, "DELETE", f"/api/me/favourites/{guid}").status_code == 200
    assert guid in _starred(api, ADMIN)


def test_unknown_and_malformed_ids_are_refused_clearly(api: ApiEngine) -> None:
    before = _starred(api, OPERATOR)
    unknown = api.request(OPERATOR, "PUT", f"/api/me/favourites/{MISSING}")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"] == "not_found" and MISSING in unknown.json()["message"]
    not_starred = api.request(OPERATOR, "DELETE", f"/api/me/favourites/{MISSING}")
    assert not_starred.status_code == 404 and "not one of your favourites" in not_starred.json()["message"]
    for bad in ("not-a-guid", "A" * 32, "0" * 31):
        response = api.request(OPERATOR, "PUT", f"/api/me/favourites/{bad}")
        assert response.status_code == 400, (bad, response.text)  # as every malformed assembly id
        assert response.json()["error"] == "invalid_request" and bad in response.json()["message"]
    assert _starred(api, OPERATOR) == before


def test_a_deleted_assembly_leaves_the_list_and_comes_back_on_undelete(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    assert api.request(OPERATOR, "PUT", f"/api/me/favourites/{guid}").status_code == 200
    assert api.request(OPERATOR, "DELETE", f"/api/assemblies/{guid}").status_code == 202
    assert guid not in _starred(api, OPERATOR)
    assert api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/undelete").status_code == 200
    assert guid in _starred(api, OPERATOR)


def test_the_cap_holds_and_says_what_to_do(api: ApiEngine) -> None:
    store = api.services.store
    username = OPERATOR_NAME
    held = len(store.list_favourites(username))
    for index in range(FAVOURITES_PER_USER - held):  # stored straight in: 500 requests would be slow
        assert store.add_favourite(username, f"{index:032x}", 1.0, FAVOURITES_PER_USER) == "added"
    guid = plant_assembly(api.services, "user")
    refused = api.request(OPERATOR, "PUT", f"/api/me/favourites/{guid}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "conflict" and "unstar one" in refused.json()["message"]
    assert len(store.list_favourites(username)) == FAVOURITES_PER_USER
    for index in range(FAVOURITES_PER_USER - held):
        assert store.remove_favourite(username, f"{index:032x}")
    assert api.request(OPERATOR, "PUT", f"/api/me/favourites/{guid}").status_code == 200


def test_changes_are_audited(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    api.request(OPERATOR, "PUT", f"/api/me/favourites/{guid}")
    api.request(OPERATOR, "DELETE", f"/api/me/favourites/{guid}")
    actions = [
        (entry["action"], entry["outcome"])
        for entry in api.audit_entries()
        if entry.get("assembly_guid") == guid and entry["action"].startswith("favourite.")
    ]
    assert actions == [("favourite.add", "success"), ("favourite.remove", "success")]


def test_favourites_go_with_their_user(api: ApiEngine) -> None:
    store = api.services.store
    assert store.insert_user("short-lived", "x", "operator", "2026-01-01T00:00:00Z")
    assert store.add_favourite("short-lived", MISSING, 1.0, FAVOURITES_PER_USER) == "added"
    assert store.add_favourite("SHORT-LIVED", MISSING, 1.0, FAVOURITES_PER_USER) == "kept"
    assert store.delete_user("short-lived")
    assert store.list_favourites("short-lived") == []
    assert store.add_favourite("short-lived", MISSING, 1.0, FAVOURITES_PER_USER) == "no_user"
    assert DISABLED and ANONYMOUS  # (the two refused kinds above)
