"""API tokens against a real engine process: each scope × each route family gives the
documented answer (Docs/tokens-and-sso.md), and a token stops working when it expires, is
revoked, or its owner is disabled or demoted.

Expiry is reached by moving a token's ``expires_at`` back in the test's own engine.db (a
temp dir): the engine judges expiry at every request, and waiting a day is not an option.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import create_body, unique_name
from tests.engine_process import EngineProcess
from tests.support import ADMIN_PASSWORD

OPERATOR_PASSWORD = "operator-password-1"
READ, WRITE, METRICS = "assemblies:read", "assemblies:write", "metrics:read"


@dataclass
class Engine:
    process: EngineProcess
    http: httpx.Client
    admin: dict[str, str]  # session headers, Dev Mode on
    operator: dict[str, str]
    user_guid: str
    tokens: dict[str, str]  # "<owner>-<kind>" -> secret
    ids: dict[str, str]


def _token(
    http: httpx.Client, headers: dict[str, str], name: str, scopes: list[str], days: int = 7
) -> dict[str, Any]:
    response = http.post(
        "/api/tokens", headers=headers, json={"name": name, "scopes": scopes, "expires_in_days": days}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("tokens")
    (root / "staging").mkdir()
    process = EngineProcess(root / "home", root / "staging").start()
    try:
        with process.client() as http:
            admin = process.login()
            made = http.post(
                "/api/users",
                headers=admin,
                json={"username": "olga", "password": OPERATOR_PASSWORD, "role": "operator"},
            )
            assert made.status_code == 201, made.text
            operator = process.login("olga", OPERATOR_PASSWORD)
            switched = http.post(
                "/api/assemblies/dev-mode/switch",
                headers=admin,
                json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "token matrix"},
            )
            assert switched.status_code == 200, switched.text
            created = http.post("/api/assemblies", headers=admin, json=create_body("user"))
            assert created.status_code in (201, 202), created.text
            tokens: dict[str, str] = {}
            ids: dict[str, str] = {}
            for owner, headers in (("admin", admin), ("operator", operator)):
                for kind, scopes in (
                    ("read", [READ]),
                    ("write", [WRITE]),
                    ("metrics", [METRICS]),
                    ("all", [READ, WRITE, METRICS]),
                ):
                    made_token = _token(http, headers, f"{owner} {kind}", scopes)
                    tokens[f"{owner}-{kind}"] = made_token["token"]
                    ids[f"{owner}-{kind}"] = made_token["id"]
            yield Engine(process, http, admin, operator, created.json()["assembly_guid"], tokens, ids)
    finally:
        assert process.stop() == 0, process.output()


def _call(engine: Engine, token: str, method: str, path: str, body: Any = None) -> httpx.Response:
    return engine.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, json=body)


def _family_request(engine: Engine, family: str) -> tuple[str, str, Any]:
    guid = engine.user_guid
    document: Any = None
    if family == "upstream choice":
        # An official assembly (the admin's session has Dev Mode): a vendor choice needs
        # Dev Mode, so no token reaches the point where a missing vendor version matters.
        official = engine.http.post("/api/assemblies", headers=engine.admin, json=create_body("official"))
        assert official.status_code in (201, 202), official.text
        guid = official.json()["assembly_guid"]
        return ("POST", f"/api/assemblies/{guid}/upstream", {"action": "keep_local"})
    if family == "import":
        exported = engine.http.get(f"/api/assemblies/{guid}/export", headers=engine.admin)
        assert exported.status_code == 200, exported.text
        document = {"document": exported.json(), "domain": "user", "as_new": True}
    return {
        **_sync_requests(),
        "list": ("GET", "/api/assemblies", None),
        "bulk user": (
            "POST",
            "/api/assemblies/bulk",
            {"action": "add_tags", "tags": ["t"], "items": [{"assembly_guid": guid}]},
        ),
        "bulk export": ("POST", "/api/assemblies/bulk/export", {"items": [{"assembly_guid": guid}]}),
        "detail": ("GET", f"/api/assemblies/{guid}", None),
        "history": ("GET", f"/api/assemblies/{guid}/revisions", None),
        "write user": ("POST", "/api/assemblies", create_body("user", unique_name("token"))),
        "write official": ("POST", "/api/assemblies", create_body("official", unique_name("token"))),
        "official sync": ("POST", "/api/assemblies/official/sync", None),
        "import": ("POST", "/api/assemblies/import", document),
        "dev mode switch": (
            "POST",
            "/api/assemblies/dev-mode/switch",
            {"enabled": True, "password": ADMIN_PASSWORD, "reason": "via a token"},
        ),
        "users list": ("GET", "/api/users", None),
        "users create": ("POST", "/api/users", {"username": unique_name("u"), "password": "x" * 12}),
        "tokens list": ("GET", "/api/tokens", None),
        "tokens create": ("POST", "/api/tokens", {"name": "t", "scopes": [READ], "expires_in_days": 1}),
        "admin": ("GET", "/api/admin/audit/verify", None),
        "metrics": ("GET", "/metrics", None),
        "favourites list": ("GET", "/api/me/favourites", None),
        "favourite star": ("PUT", f"/api/me/favourites/{guid}", None),
        "favourite unstar": ("DELETE", f"/api/me/favourites/{guid}", None),
    }[family]


def _sync_requests() -> dict[str, tuple[str, str, Any]]:
    """Library as code: a one-file library from a source of its own (so every call creates)."""

    def body(domain: str) -> dict[str, Any]:
        script = base64.b64encode(b"Write-Output 'from a token'\r\n").decode("ascii")
        return {
            "source": unique_name("ci"),
            "domain": domain,
            "items": [{"path": f"CI/{unique_name('s')}.ps1", "content": script}],
        }

    return {
        "sync plan": ("POST", "/api/sync/plan", body("user")),
        "sync render": ("POST", "/api/sync/render", {"domain": "user", "format": "library"}),
        "sync apply user": ("POST", "/api/sync/apply", body("user")),
        "sync apply community": ("POST", "/api/sync/apply", body("community")),
        "sync apply official": ("POST", "/api/sync/apply", body("official")),
    }


OK = "ok"
NEVER = ("forbidden", None)  # no token may: users, tokens, the Dev Mode switch, admin tasks


def _scope(name: str) -> tuple[str, str]:
    return ("insufficient_scope", name)


# family -> {token kind -> expected answer}: OK (2xx), or (error code, scope named).
MATRIX: dict[str, dict[str, Any]] = {
    "list": {"read": OK, "write": _scope(READ), "metrics": _scope(READ), "all": OK},
    "detail": {"read": OK, "write": _scope(READ), "metrics": _scope(READ), "all": OK},
    "history": {"read": OK, "write": _scope(READ), "metrics": _scope(READ), "all": OK},
    "write user": {"read": _scope(WRITE), "write": OK, "metrics": _scope(WRITE), "all": OK},
    "import": {"read": _scope(WRITE), "write": OK, "metrics": _scope(WRITE), "all": OK},
    "dev mode switch": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    "users list": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    "users create": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    "tokens list": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    "tokens create": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    "admin": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    # A token may read its owner's favourites; starring is a person's choice.
    "favourites list": {"read": OK, "write": _scope(READ), "metrics": _scope(READ), "all": OK},
    "favourite star": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
    "favourite unstar": dict.fromkeys(("read", "write", "metrics", "all"), NEVER),
}
# A bulk action writes (assemblies:write); a bulk export reads (assemblies:read).
MATRIX["bulk user"] = MATRIX["write user"]
MATRIX["bulk export"] = MATRIX["list"]
# Planning and rendering a library need assemblies:read; applying one writes (assemblies:write).
MATRIX["sync plan"] = {"read": OK, "write": _scope(READ), "metrics": _scope(READ), "all": OK}
MATRIX["sync render"] = MATRIX["sync plan"]
MATRIX["sync apply user"] = {"read": _scope(WRITE), "write": OK, "metrics": _scope(WRITE), "all": OK}
# Official writes, the official sync and a sync into community or official need Dev Mode,
# which tokens never have: an admin's token with assemblies:write gets dev_mode_required even
# while the admin's own session has Dev Mode on; an operator's gets forbidden.
for _family in (
    "write official",
    "official sync",
    "sync apply community",
    "sync apply official",
    "upstream choice",
):
    MATRIX[_family] = {"read": _scope(WRITE), "write": "owner", "metrics": _scope(WRITE), "all": "owner"}
OWNER_ANSWER = {"admin": ("dev_mode_required", None), "operator": ("forbidden", None)}
# Metrics are for admins: an operator's metrics:read token is refused by the role rule.
MATRIX["metrics"] = {"read": _scope(METRICS), "write": _scope(METRICS), "metrics": "admin", "all": "admin"}
ADMIN_ONLY = {"admin": OK, "operator": ("forbidden", None)}

CASES = [
    (family, owner, kind)
    for family in MATRIX
    for owner in ("admin", "operator")
    for kind in ("read", "write", "metrics", "all")
]


@pytest.mark.parametrize(("family", "owner", "kind"), CASES, ids=[f"{f}-{o}-{k}" for f, o, k in CASES])
def test_each_scope_gets_the_documented_answer(engine: Engine, family: str, owner: str, kind: str) -> None:
    expected = MATRIX[family][kind]
    if expected == "owner":
        expected = OWNER_ANSWER[owner]
    elif expected == "admin":
        expected = ADMIN_ONLY[owner]
    method, path, body = _family_request(engine, family)
    response = _call(engine, engine.tokens[f"{owner}-{kind}"], method, path, body)
    if expected == OK:
        assert 200 <= response.status_code < 300, response.text
        return
    code, scope = expected
    assert response.status_code == 403, response.text
    assert response.json()["error"] == code
    if scope is not None:
        assert scope in response.json()["message"]


@pytest.mark.parametrize("family", ["write official", "official sync", "sync apply official"])
def test_an_admins_token_gets_no_dev_mode_whether_or_not_the_admin_has_it_on(
    engine: Engine, family: str
) -> None:
    """The matrix above runs while the owner's session has Dev Mode on; with it off the
    answer is the same, and a Dev Mode switched on later still does not reach the token."""
    http, admin = engine.http, engine.admin
    switched = http.post("/api/assemblies/dev-mode/switch", headers=admin, json={"enabled": False})
    assert switched.status_code == 200, switched.text
    try:
        assert http.get("/api/assemblies/dev-mode", headers=admin).json()["enabled"] is False
        method, path, body = _family_request(engine, family)
        for kind in ("write", "all"):
            response = _call(engine, engine.tokens[f"admin-{kind}"], method, path, body)
            assert response.status_code == 403, response.text
            assert response.json()["error"] == "dev_mode_required"
    finally:
        again = http.post(
            "/api/assemblies/dev-mode/switch",
            headers=admin,
            json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "token matrix"},
        )
        assert again.status_code == 200, again.text
    method, path, body = _family_request(engine, family)
    refused = _call(engine, engine.tokens["admin-write"], method, path, body)
    assert refused.status_code == 403 and refused.json()["error"] == "dev_mode_required"


def test_the_engine_keeps_only_the_sha256_of_a_token(engine: Engine) -> None:
    """Shown once, stored as a hash: no copy of a secret in the engine's database files."""
    with sqlite3.connect(engine.process.home / "engine.db") as db:
        stored = dict(db.execute("SELECT id, token_hash FROM api_tokens").fetchall())
    for key, secret in engine.tokens.items():
        assert stored[engine.ids[key]] == hashlib.sha256(secret.encode()).hexdigest()
    files = [p for p in engine.process.home.rglob("engine.db*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in engine.tokens.values():
            assert secret.encode() not in data, f"{path.name} holds a token secret"
            assert secret[4:].encode() not in data, f"{path.name} holds a token secret"


def test_a_token_needs_no_csrf_token_but_a_cookie_session_still_does(engine: Engine) -> None:
    body = create_body("user", unique_name("csrf"))
    by_token = _call(engine, engine.tokens["operator-write"], "POST", "/api/assemblies", body)
    assert by_token.status_code in (201, 202), by_token.text
    with engine.process.client() as browser:
        signed_in = browser.post("/api/auth/login", json={"username": "olga", "password": OPERATOR_PASSWORD})
        assert signed_in.status_code == 200
        refused = browser.post("/api/assemblies", json=create_body("user", unique_name("csrf")))
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        # A token sent beside the cookie is judged on its own: Bearer wins, no CSRF needed.
        with_token = browser.post(
            "/api/assemblies",
            json=create_body("user", unique_name("csrf")),
            headers={"Authorization": f"Bearer {engine.tokens['operator-write']}"},
        )
        assert with_token.status_code in (201, 202), with_token.text


def _listing_status(engine: Engine, token: str) -> httpx.Response:
    return _call(engine, token, "GET", "/api/assemblies")


def test_expired_revoked_and_unknown_tokens_get_401(engine: Engine) -> None:
    made = _token(engine.http, engine.operator, "short", [READ], days=1)
    assert _listing_status(engine, made["token"]).status_code == 200
    with sqlite3.connect(engine.process.home / "engine.db") as db:
        db.execute("UPDATE api_tokens SET expires_at = expires_at - 2 * 86400 WHERE id = ?", (made["id"],))
    expired = _listing_status(engine, made["token"])
    assert expired.status_code == 401 and "expired" in expired.json()["message"]

    second = _token(engine.http, engine.operator, "to revoke", [READ])
    assert _listing_status(engine, second["token"]).status_code == 200
    assert engine.http.delete(f"/api/tokens/{second['id']}", headers=engine.operator).status_code == 204
    revoked = _listing_status(engine, second["token"])
    assert revoked.status_code == 401 and "revoked" in revoked.json()["message"]
    unknown = _listing_status(engine, "aet_" + "x" * 43)
    assert unknown.status_code == 401 and unknown.json()["error"] == "unauthorized"


def test_owners_see_their_own_tokens_and_admins_see_and_revoke_all(engine: Engine) -> None:
    mine = engine.http.get("/api/tokens", headers=engine.operator).json()["items"]
    assert mine and {t["owner"] for t in mine} == {"olga"}
    assert all("token" not in t for t in mine)
    everyone = engine.http.get("/api/tokens", headers=engine.admin).json()["items"]
    assert {t["owner"] for t in everyone} == {"admin", "olga"}
    admin_token = engine.ids["admin-read"]
    refused = engine.http.delete(f"/api/tokens/{admin_token}", headers=engine.operator)
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
    victim = _token(engine.http, engine.operator, "admin revokes", [READ])
    assert engine.http.delete(f"/api/tokens/{victim['id']}", headers=engine.admin).status_code == 204
    assert _listing_status(engine, victim["token"]).status_code == 401
    assert _listing_status(engine, engine.tokens["admin-read"]).status_code == 200
    used = next(
        t
        for t in engine.http.get("/api/tokens", headers=engine.admin).json()["items"]
        if t["id"] == engine.ids["admin-read"]
    )
    assert used["last_used_at"] is not None and used["status"] == "active"


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        ({"name": "x", "scopes": ["assemblies:admin"], "expires_in_days": 1}, "unknown: assemblies:admin"),
        ({"name": "x", "scopes": [], "expires_in_days": 1}, None),
        ({"name": "x", "scopes": [READ], "expires_in_days": 91}, "ENGINE_TOKEN_MAX_DAYS"),
        ({"name": "x", "scopes": [READ], "expires_in_days": 0}, "ENGINE_TOKEN_MAX_DAYS"),
        ({"name": "x", "scopes": [READ], "expires_in_days": "7"}, None),
        ({"name": "   ", "scopes": [READ], "expires_in_days": 7}, "name"),
        ({"name": "x", "scopes": [READ], "expires_in_days": 7, "owner": "admin"}, "owner"),
    ],
)
def test_bad_token_requests_are_refused_and_create_nothing(
    engine: Engine, body: dict[str, Any], wanted: str | None
) -> None:
    before = engine.http.get("/api/tokens", headers=engine.admin).json()["items"]
    response = engine.http.post("/api/tokens", headers=engine.operator, json=body)
    refusal = (403, "forbidden") if "owner" in body else (422, "invalid_document")
    assert (response.status_code, response.json()["error"]) == refusal, response.text
    assert set(response.json()) == {"error", "message"}
    if wanted:
        assert wanted in response.json()["message"]
    assert engine.http.get("/api/tokens", headers=engine.admin).json()["items"] == before


def test_a_disabled_or_demoted_owner_ends_their_tokens(engine: Engine) -> None:
    http, admin = engine.http, engine.admin
    made = http.post(
        "/api/users",
        headers=admin,
        json={
            "username": "ada",
            "password": "second-admin-1",
            "role": "admin",
            "current_password": ADMIN_PASSWORD,
        },
    )
    assert made.status_code == 201, made.text
    ada = engine.process.login("ada", "second-admin-1")
    ada_token = _token(http, ada, "ada runner", [READ, WRITE])
    olga_token = _token(http, engine.operator, "olga runner", [READ])
    assert _listing_status(engine, ada_token["token"]).status_code == 200

    disabled = http.patch("/api/users/olga", headers=admin, json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    refused = _listing_status(engine, olga_token["token"])
    assert refused.status_code == 401 and "disabled" in refused.json()["message"]
    enabled = http.patch("/api/users/olga", headers=admin, json={"disabled": False})
    assert enabled.status_code == 200, enabled.text
    # Neither expired nor revoked: the token works again with its owner.
    assert _listing_status(engine, olga_token["token"]).status_code == 200

    demoted = http.patch("/api/users/ada", headers=admin, json={"role": "operator"})
    assert demoted.status_code == 200, demoted.text
    refused = _listing_status(engine, ada_token["token"])
    assert refused.status_code == 401 and "no longer" in refused.json()["message"]


def test_a_token_of_an_operator_who_is_promoted_keeps_acting_as_an_operator(engine: Engine) -> None:
    http, admin = engine.http, engine.admin
    made = http.post(
        "/api/users",
        headers=admin,
        json={"username": "pete", "password": "pete-password-1", "role": "operator"},
    )
    assert made.status_code == 201, made.text
    pete = engine.process.login("pete", "pete-password-1")
    token = _token(http, pete, "pete runner", [READ, WRITE])["token"]
    promoted = http.patch(
        "/api/users/pete", headers=admin, json={"role": "admin", "current_password": ADMIN_PASSWORD}
    )
    assert promoted.status_code == 200, promoted.text
    me = _call(engine, token, "GET", "/api/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["user"]["role"] == "operator" and me.json()["writable_domains"] == ["user"]
    official = _call(engine, token, "POST", "/api/assemblies", create_body("official", unique_name("pete")))
    assert official.status_code == 403 and official.json()["error"] == "forbidden", official.text
    listed = next(t for t in http.get("/api/tokens", headers=admin).json()["items"] if t["owner"] == "pete")
    assert listed["status"] == "active"


def test_the_audit_log_names_tokens_by_id_and_no_log_holds_a_secret(engine: Engine) -> None:
    audit = (engine.process.home / "Logs" / "audit.log").read_text()
    assert f"token {engine.ids['admin-read']}" in audit
    assert "token.create" in audit and "token.revoke" in audit and "token.refused" in audit
    secrets = list(engine.tokens.values())
    for path in [*Path(engine.process.home).rglob("*.log*"), engine.process.log_path]:
        text = path.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"{path} holds a token secret"
            assert secret[4:20] not in text, f"{path} holds part of a token secret"


@pytest.mark.parametrize(("owner", "code"), [("admin", "dev_mode_required"), ("operator", "forbidden")])
def test_a_bulk_action_by_token_on_official_items_refuses_them_item_by_item(
    engine: Engine, owner: str, code: str
) -> None:
    """Tokens never carry Dev Mode: each official item is refused, the user item is done."""
    official = engine.http.post("/api/assemblies", headers=engine.admin, json=create_body("official"))
    assert official.status_code in (201, 202), official.text
    items = [{"assembly_guid": official.json()["assembly_guid"]}, {"assembly_guid": engine.user_guid}]
    body = {"action": "add_tags", "tags": ["by-token"], "items": items}
    response = _call(engine, engine.tokens[f"{owner}-write"], "POST", "/api/assemblies/bulk", body)
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == "refused" and first["code"] == code
    assert second["status"] == "done"
