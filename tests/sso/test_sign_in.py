"""Single sign-on over real HTTP: a real engine process and the test provider process
(tests/sso/provider.py); embedded storage (SQLite)."""

from __future__ import annotations

from tests.engine_process import EngineProcess
from tests.sso.support import (
    CLIENT_SECRET,
    ProviderProcess,
    approve,
    assert_no_secret_in_logs,
    audit_lines,
    browser_client,
    callback_secrets,
    round_trip,
    session_of,
    users,
)
from tests.support import ADMIN_PASSWORD


def test_sign_in_options_offer_the_provider(engine: EngineProcess) -> None:
    options = engine.http.get("/api/auth/sign-in-options").json()
    assert options == {
        "password_login": True,
        "sso": {"name": "Test IdP", "start_url": "/api/auth/oidc/start"},
    }


def test_first_sign_in_creates_the_user_with_the_mapped_role(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-alice", "alice", ["engine-admins", "unrelated"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
        assert trip.answer.status_code == 303, trip.answer.text
        assert trip.answer.headers["location"] == "/"
        me = engine.http.get("/api/auth/me", headers=session_of(browser))
        assert me.status_code == 200, me.text
        assert me.json()["user"] == {"username": "alice", "role": "admin"}
        assert "ae_oidc" not in browser.cookies  # the pending sign-in is over
    assert users(engine)["alice"]["role"] == "admin"
    assert any(
        e["action"] == "user.create" and "single sign-on" in str(e.get("detail")) for e in audit_lines(engine)
    )


def test_a_changed_group_changes_the_role_at_the_next_sign_in(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-bob", "bob", ["helpdesk"])
    with browser_client() as first:
        assert round_trip(first, engine.url).answer.status_code == 303
        assert engine.http.get("/api/auth/me", headers=session_of(first)).json()["user"]["role"] == "operator"
    provider.person("sub-bob", "bob", ["engine-admins"])
    with browser_client() as second:
        assert round_trip(second, engine.url).answer.status_code == 303
        assert engine.http.get("/api/auth/me", headers=session_of(second)).json()["user"]["role"] == "admin"
    provider.person("sub-bob", "bob", ["engine-operators"])
    with browser_client() as third:
        assert round_trip(third, engine.url).answer.status_code == 303
    assert users(engine)["bob"]["role"] == "operator"
    assert any(
        e["action"] == "user.update" and "role=operator" in str(e.get("detail")) for e in audit_lines(engine)
    )


def test_no_mapped_group_is_refused_with_a_page_and_creates_nothing(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-carol", "carol", ["marketing"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == 403
    assert "text/html" in trip.answer.headers["content-type"]
    assert "none of the groups" in trip.answer.text and "carol" in trip.answer.text
    assert "carol" not in users(engine)


def test_losing_every_mapped_group_ends_sessions_and_tokens(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-dave", "dave", ["engine-operators"])
    with browser_client() as browser:
        assert round_trip(browser, engine.url).answer.status_code == 303
        session = session_of(browser)
        csrf = engine.http.get("/api/auth/me", headers=session).json()
        assert csrf["user"]["username"] == "dave"
        made = engine.http.post(
            "/api/tokens",
            headers=session,
            json={"name": "ci", "scopes": ["assemblies:read"], "expires_in_days": 1},
        )
        assert made.status_code == 201, made.text
        token = {"Authorization": f"Bearer {made.json()['token']}"}
        assert engine.http.get("/api/assemblies", headers=token).status_code == 200
    provider.person("sub-dave", "dave", [])
    with browser_client() as again:
        assert round_trip(again, engine.url).answer.status_code == 403
    assert engine.http.get("/api/auth/me", headers=session).status_code == 401
    assert engine.http.get("/api/assemblies", headers=token).status_code == 401


def test_a_password_account_of_the_same_name_is_not_taken_over(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    admin = engine.login()
    made = engine.http.post(
        "/api/users",
        headers=admin,
        json={"username": "erin", "password": "erin-password-1", "role": "operator"},
    )
    assert made.status_code == 201, made.text
    provider.person("sub-erin", "erin", ["engine-admins"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == 403 and "already exists" in trip.answer.text
    assert users(engine)["erin"]["role"] == "operator"


def test_another_provider_identity_with_the_same_username_is_refused(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-frank", "frank", ["helpdesk"])
    with browser_client() as browser:
        assert round_trip(browser, engine.url).answer.status_code == 303
    provider.person("sub-impostor", "frank", ["engine-admins"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == 403
    assert users(engine)["frank"]["role"] == "operator"


def test_an_sso_account_cannot_sign_in_with_a_password(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-gina", "gina", ["helpdesk"])
    with browser_client() as browser:
        assert round_trip(browser, engine.url).answer.status_code == 303
    for password in ("", "oidc:", "x" * 12):
        answer = engine.http.post("/api/auth/login", json={"username": "gina", "password": password or "p"})
        assert answer.status_code == 401


def test_an_admin_disabled_sso_account_stays_disabled(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-hugo", "hugo", ["engine-operators"])
    with browser_client() as browser:
        assert round_trip(browser, engine.url).answer.status_code == 303
    disabled = engine.http.patch("/api/users/hugo", headers=engine.login(), json={"disabled": True})
    assert disabled.status_code == 200, disabled.text
    provider.person("sub-hugo", "hugo", ["engine-admins"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == 403 and "disabled" in trip.answer.text
    assert "ae_session" not in trip.answer.cookies
    hugo = users(engine)["hugo"]
    assert hugo["disabled"] is True and hugo["role"] == "operator"


def test_open_sessions_follow_the_role_of_the_latest_sign_in(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    """A session already open changes with the account: moved to the operators' group, an
    admin's earlier session is an operator's and has lost its Dev Mode."""
    provider.person("sub-iris", "iris", ["engine-admins"])
    with browser_client() as first:
        assert round_trip(first, engine.url).answer.status_code == 303
        earlier = session_of(first)
        csrf = {"X-CSRF-Token": str(first.cookies.get("ae_csrf")), "Origin": engine.url}
        asked = first.post(f"{engine.url}/api/auth/oidc/dev-mode", json={"reason": "follow"}, headers=csrf)
        assert asked.status_code == 200, asked.text
        assert approve(first, asked.json()["url"], engine.url).answer.status_code == 303
    assert engine.http.get("/api/assemblies/dev-mode", headers=earlier).json()["enabled"] is True
    provider.person("sub-iris", "iris", ["engine-operators"])
    with browser_client() as second:
        assert round_trip(second, engine.url).answer.status_code == 303
    me = engine.http.get("/api/auth/me", headers=earlier)
    assert me.status_code == 200, me.text
    assert me.json()["user"] == {"username": "iris", "role": "operator"}
    assert engine.http.get("/api/assemblies/dev-mode", headers=earlier).json()["enabled"] is False


def test_no_secret_of_this_modules_sign_ins_reaches_any_log(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    """Last in the module: after its sign-ins, refusals and password attempts, one more
    round trip and a token made by its session leave no secret in any log."""
    provider.person("sub-ulla", "ulla", ["engine-operators"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
        assert trip.answer.status_code == 303
        session = session_of(browser)
        made = engine.http.post(
            "/api/tokens",
            headers=session,
            json={"name": "runner", "scopes": ["assemblies:read"], "expires_in_days": 1},
        )
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        used = engine.http.get("/api/assemblies", headers={"Authorization": f"Bearer {token}"})
        assert used.status_code == 200, used.text
    secrets = [*callback_secrets(trip), session["Authorization"][len("Bearer ") :], token, token[4:]]
    assert_no_secret_in_logs(engine, [*secrets, CLIENT_SECRET, ADMIN_PASSWORD, "erin-password-1"])
