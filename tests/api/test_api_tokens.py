"""API tokens through the API on both engine-store backends (embedded SQLite and a
PostgreSQL cluster node): created, used within scope, refused out of scope, revoked, and
stopped by the owner's disabling; the audit log names the token, never its secret."""

from __future__ import annotations

from typing import Any

from tests.api.support import ADMIN, ADMIN_DEV, OPERATOR, OPERATOR_NAME, ApiEngine, bearer, create_body

API_BACKENDS = ["sqlite", "postgresql"]


def _create(api: ApiEngine, caller: str, scopes: list[str], name: str = "runner") -> dict[str, Any]:
    response = api.request(
        caller, "POST", "/api/tokens", json={"name": name, "scopes": scopes, "expires_in_days": 3}
    )
    assert response.status_code == 201, response.text
    made = dict(response.json())
    assert set(made) >= {"id", "name", "scopes", "created_at", "expires_at", "token"}
    return made


def _as_token(api: ApiEngine, token: str, method: str, url: str, json: Any = None) -> Any:
    api.client.cookies.clear()
    return api.client.request(method, url, headers=bearer(token), json=json)


def test_a_token_acts_within_its_scopes_until_revoked(api: ApiEngine) -> None:
    made = _create(api, OPERATOR, ["assemblies:read"])
    assert _as_token(api, made["token"], "GET", "/api/assemblies").status_code == 200
    refused = _as_token(api, made["token"], "POST", "/api/assemblies", create_body("user"))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert "assemblies:write" in refused.json()["message"]
    listed = api.request(OPERATOR, "GET", "/api/tokens").json()["items"]
    assert made["id"] in {t["id"] for t in listed} and all("token" not in t for t in listed)
    assert api.request(OPERATOR, "DELETE", f"/api/tokens/{made['id']}").status_code == 204
    gone = _as_token(api, made["token"], "GET", "/api/assemblies")
    assert gone.status_code == 401 and gone.json()["error"] == "unauthorized"
    audit = [e for e in api.audit_entries() if made["id"] in (e.get("detail") or "")]
    assert {e["action"] for e in audit} >= {"token.create", "token.revoke", "token.refused"}
    assert all(made["token"] not in str(e) for e in api.audit_entries())


def test_a_write_token_of_an_admin_with_dev_mode_still_has_no_dev_mode(api: ApiEngine) -> None:
    made = _create(api, ADMIN_DEV, ["assemblies:read", "assemblies:write"])
    official = _as_token(api, made["token"], "POST", "/api/assemblies", create_body("official"))
    assert official.status_code == 403 and official.json()["error"] == "dev_mode_required"
    assert "API tokens never have" in official.json()["message"]
    user = _as_token(api, made["token"], "POST", "/api/assemblies", create_body("user"))
    assert user.status_code in (201, 202), user.text
    switch = _as_token(api, made["token"], "POST", "/api/assemblies/dev-mode/switch", {"enabled": False})
    assert switch.status_code == 403 and switch.json()["error"] == "forbidden"


# Last in the module: disabling the operator ends their session for the module's engine.
def test_disabling_the_owner_stops_the_token(api: ApiEngine) -> None:
    made = _create(api, OPERATOR, ["assemblies:read"], "disabled owner")
    assert _as_token(api, made["token"], "GET", "/api/assemblies").status_code == 200
    patch = api.request(ADMIN, "PATCH", f"/api/users/{OPERATOR_NAME}", json={"disabled": True})
    assert patch.status_code == 200, patch.text
    try:
        refused = _as_token(api, made["token"], "GET", "/api/assemblies")
        assert refused.status_code == 401 and "disabled" in refused.json()["message"]
    finally:
        api.request(ADMIN, "PATCH", f"/api/users/{OPERATOR_NAME}", json={"disabled": False})
