"""The signed-in person's own account over the API, on both engine-store backends:
``writable_domains`` on ``/api/auth/me`` across roles, Dev Mode and token scopes (and the
engine's own checks agree with it), the own password change with ``must_change_password``,
its refusal for single sign-on accounts, and the own sessions (list, end one, end others)."""

from __future__ import annotations

from typing import Any

import pytest

from assembly_engine.domain.types import Role
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ADMIN_EXPIRED,
    ANONYMOUS,
    BACKENDS,
    OPERATOR,
    ApiEngine,
    bearer,
    create_body,
    login,
    unique_name,
)
from tests.support import ADMIN_PASSWORD

API_BACKENDS = BACKENDS
ALL = ["official", "community", "user"]


def _me(api: ApiEngine, token: str) -> dict[str, Any]:
    api.client.cookies.clear()
    response = api.client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _new_user(api: ApiEngine, password: str = "first-password-1") -> tuple[str, str]:
    """A new operator made by the admin; (name, bearer token of a session of theirs)."""
    name = unique_name("account")
    made = api.request(
        ADMIN, "POST", "/api/users", json={"username": name, "password": password, "role": "operator"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["must_change_password"] is True
    return name, login(api.client, name, password)


# -- writable_domains ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected"),
    [(OPERATOR, ["user"]), (ADMIN, ["user"]), (ADMIN_DEV, ALL), (ADMIN_EXPIRED, ["user"])],
)
def test_writable_domains_say_what_the_engine_lets_the_caller_write(
    api: ApiEngine, caller: str, expected: list[str]
) -> None:
    answer = api.request(caller, "GET", "/api/auth/me")
    assert answer.status_code == 200, answer.text
    assert answer.json()["writable_domains"] == expected
    session = api.request(caller, "GET", "/api/auth/session").json()
    assert session["writable_domains"] == expected
    # The claim is the engine's own rule: a create is taken exactly where it says.
    for domain in ALL:
        created = api.request(caller, "POST", "/api/assemblies", json=create_body(domain))
        assert created.status_code == (201 if domain in expected else 403), (domain, created.text)


def test_anonymous_callers_have_no_writable_domains(api: ApiEngine) -> None:
    assert api.request(ANONYMOUS, "GET", "/api/auth/me").status_code == 401
    assert "writable_domains" not in api.request(ANONYMOUS, "GET", "/api/auth/session").json()


def test_dev_mode_switched_off_shrinks_writable_domains_at_once(api: ApiEngine) -> None:
    token = login(api.client, "admin", ADMIN_PASSWORD)
    switch = {"enabled": True, "password": ADMIN_PASSWORD, "reason": "writable domains test"}
    api.client.post("/api/assemblies/dev-mode/switch", json=switch, headers=bearer(token))
    assert _me(api, token)["writable_domains"] == ALL
    off = api.client.post("/api/assemblies/dev-mode/switch", json={"enabled": False}, headers=bearer(token))
    assert off.status_code == 200, off.text
    assert _me(api, token)["writable_domains"] == ["user"]


@pytest.mark.parametrize(
    ("owner", "scopes", "expected"),
    [
        (OPERATOR, ["assemblies:read"], []),
        (OPERATOR, ["assemblies:read", "assemblies:write"], ["user"]),
        (ADMIN_DEV, ["assemblies:read", "assemblies:write"], ["user"]),  # tokens never have Dev Mode
    ],
)
def test_a_tokens_writable_domains_follow_its_scopes(
    api: ApiEngine, owner: str, scopes: list[str], expected: list[str]
) -> None:
    made = api.request(
        owner,
        "POST",
        "/api/tokens",
        json={"name": unique_name("who"), "scopes": scopes, "expires_in_days": 1},
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    who = _me(api, token)
    assert who["writable_domains"] == expected
    assert "csrf_token" not in who  # a token never uses cookies
    created = api.client.post("/api/assemblies", json=create_body("user"), headers=bearer(token))
    assert created.status_code == (201 if "user" in expected else 403), created.text


def test_a_metrics_token_may_not_ask_who_it_is(api: ApiEngine) -> None:
    made = api.request(
        ADMIN,
        "POST",
        "/api/tokens",
        json={"name": "scrape", "scopes": ["metrics:read"], "expires_in_days": 1},
    )
    assert made.status_code == 201, made.text
    api.client.cookies.clear()
    refused = api.client.get("/api/auth/me", headers=bearer(made.json()["token"]))
    assert refused.status_code == 403
    assert "assemblies:read" in refused.json()["message"]


# -- own password --------------------------------------------------------------------------


def test_a_password_chosen_by_the_admin_must_be_changed_and_the_change_keeps_this_session(
    api: ApiEngine,
) -> None:
    name, token = _new_user(api)
    other = login(api.client, name, "first-password-1")
    assert _me(api, token)["must_change_password"] is True
    api.client.cookies.clear()
    wrong = api.client.patch(
        f"/api/users/{name}",
        json={"password": "my-own-password", "current_password": "not-it-at-all"},
        headers=bearer(token),
    )
    assert wrong.status_code == 403 and "not changed" in wrong.json()["message"]
    assert _me(api, other)["must_change_password"] is True  # nothing changed, nothing ended
    changed = api.client.patch(
        f"/api/users/{name}",
        json={"password": "my-own-password", "current_password": "first-password-1"},
        headers=bearer(token),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    assert _me(api, token)["must_change_password"] is False
    api.client.cookies.clear()
    assert api.client.get("/api/auth/me", headers=bearer(other)).status_code == 401
    login(api.client, name, "my-own-password")
    entries = [
        e for e in api.audit_entries() if e.get("action") == "user.update" and name in (e.get("detail") or "")
    ]
    assert [e["outcome"] for e in entries][-2:] == ["denied", "success"]
    # An admin's reset is a password chosen for them again.
    reset = api.request(
        ADMIN,
        "PATCH",
        f"/api/users/{name}",
        json={"password": "reset-by-admin", "current_password": ADMIN_PASSWORD},
    )
    assert reset.status_code == 200, reset.text
    assert _me(api, login(api.client, name, "reset-by-admin"))["must_change_password"] is True


def test_a_single_sign_on_account_is_told_to_change_its_password_at_the_provider(api: ApiEngine) -> None:
    services = api.services
    user = services.users.create_sso(unique_name("sso"), "oidc:" + "0" * 64, Role.OPERATOR)
    token = services.accounts.open_session(user).token
    api.client.cookies.clear()
    refused = api.client.patch(
        f"/api/users/{user.username}",
        json={"password": "cannot-have-one", "current_password": "anything-at-all"},
        headers=bearer(token),
    )
    assert refused.status_code == 403
    assert "single sign-on provider" in refused.json()["message"]
    assert services.users.sso_marker_of(user.username) == "oidc:" + "0" * 64
    assert _me(api, token)["user"]["username"] == user.username  # the session goes on


# -- own sessions --------------------------------------------------------------------------


def test_own_sessions_are_listed_and_the_others_can_be_ended(api: ApiEngine) -> None:
    name, first = _new_user(api)
    second = login(api.client, name, "first-password-1")
    third = login(api.client, name, "first-password-1")
    api.client.cookies.clear()
    listed = api.client.get("/api/auth/sessions", headers=bearer(first)).json()["items"]
    assert len(listed) == 3 and [s["current"] for s in listed] == [True, False, False]
    assert all(first not in str(s) for s in listed)  # ids, never tokens
    ended_one = api.client.delete(f"/api/auth/sessions/{listed[1]['id']}", headers=bearer(first))
    assert ended_one.status_code == 200, ended_one.text
    assert api.client.get("/api/auth/me", headers=bearer(second)).status_code == 401
    again = api.client.delete(f"/api/auth/sessions/{listed[1]['id']}", headers=bearer(first))
    assert again.status_code == 404 and "Nothing was changed" in again.json()["message"]
    ended = api.client.post("/api/auth/end-other-sessions", headers=bearer(first))
    assert ended.status_code == 200 and ended.json() == {"ended": 1}
    assert api.client.get("/api/auth/me", headers=bearer(third)).status_code == 401
    assert _me(api, first)["user"]["username"] == name
    left = api.client.get("/api/auth/sessions", headers=bearer(first)).json()["items"]
    assert [s["current"] for s in left] == [True]


def test_someone_elses_session_cannot_be_ended(api: ApiEngine) -> None:
    theirs = api.request(ADMIN, "GET", "/api/auth/sessions").json()["items"][0]["id"]
    refused = api.request(OPERATOR, "DELETE", f"/api/auth/sessions/{theirs}")
    assert refused.status_code == 404
    assert api.request(ADMIN, "GET", "/api/auth/me").status_code == 200


@pytest.mark.parametrize("session_id", ["NOT-HEX", "x" * 65])
def test_a_malformed_session_id_is_refused_clearly(api: ApiEngine, session_id: str) -> None:
    refused = api.request(OPERATOR, "DELETE", f"/api/auth/sessions/{session_id}")
    assert refused.status_code in (400, 422), refused.text
    assert refused.json()["message"]


def test_tokens_and_anonymous_callers_have_no_sessions_to_manage(api: ApiEngine) -> None:
    made = api.request(
        OPERATOR,
        "POST",
        "/api/tokens",
        json={"name": "s", "scopes": ["assemblies:read"], "expires_in_days": 1},
    )
    token = made.json()["token"]
    api.client.cookies.clear()
    assert api.client.get("/api/auth/sessions", headers=bearer(token)).status_code == 403
    assert api.client.post("/api/auth/end-other-sessions", headers=bearer(token)).status_code == 403
    assert api.request(ANONYMOUS, "GET", "/api/auth/sessions").status_code == 401
    assert api.request(ANONYMOUS, "POST", "/api/auth/end-other-sessions").status_code == 401
