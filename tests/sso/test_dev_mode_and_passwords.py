"""Dev Mode of an SSO admin re-authenticates at the provider; password sign-in switched
off but for the break-glass admin. Real engine and provider processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assembly_engine.config import Settings
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
    sso_engine,
)
from tests.support import ADMIN_PASSWORD

REASON = {"reason": "fix the official library"}


def signed_in(browser: httpx.Client, engine: EngineProcess) -> dict[str, str]:
    """Cookie-session headers (with the CSRF token) of the browser's SSO session."""
    assert round_trip(browser, engine.url).answer.status_code == 303
    return {"X-CSRF-Token": str(browser.cookies.get("ae_csrf")), "Origin": engine.url}


def test_dev_mode_of_an_sso_admin_goes_through_the_provider(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-dana", "dana", ["engine-admins"])
    with browser_client() as browser:
        csrf = signed_in(browser, engine)
        asked = browser.post(f"{engine.url}/api/auth/oidc/dev-mode", json=REASON, headers=csrf)
        assert asked.status_code == 200, asked.text
        url = asked.json()["url"]
        assert "max_age=0" in url and "prompt=login" in url
        trip = approve(browser, url, engine.url)
        assert trip.answer.status_code == 303, trip.answer.text
        assert trip.answer.headers["location"] == "/?dev_mode=on"
        state = browser.get(f"{engine.url}/api/assemblies/dev-mode").json()
        assert state["enabled"] is True and state["reason"] == REASON["reason"]
    assert any(
        e["action"] == "dev_mode.enable"
        and e["outcome"] == "success"
        and "re-authenticated" in str(e.get("detail"))
        for e in audit_lines(engine)
    )


def test_dev_mode_is_refused_when_the_provider_did_not_authenticate_again(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-dora", "dora", ["engine-admins"])
    with browser_client() as browser:
        csrf = signed_in(browser, engine)
        provider.control(mode="ignore_max_age", auth_time=int(time.time()) - 3600)
        url = browser.post(f"{engine.url}/api/auth/oidc/dev-mode", json=REASON, headers=csrf).json()["url"]
        trip = approve(browser, url, engine.url)
        assert trip.answer.status_code == 401 and "auth_time" in trip.answer.text
        assert browser.get(f"{engine.url}/api/assemblies/dev-mode").json()["enabled"] is False


def test_dev_mode_by_someone_else_at_the_provider_is_refused(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-dirk", "dirk", ["engine-admins"])
    with browser_client() as browser:
        csrf = signed_in(browser, engine)
        url = browser.post(f"{engine.url}/api/auth/oidc/dev-mode", json=REASON, headers=csrf).json()["url"]
        provider.person("sub-mallory", "mallory", ["engine-admins"])
        trip = approve(browser, url, engine.url)
        assert trip.answer.status_code == 403 and "someone else" in trip.answer.text
        assert browser.get(f"{engine.url}/api/assemblies/dev-mode").json()["enabled"] is False


def test_an_sso_account_has_no_password_switch_and_operators_no_dev_mode(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-dino", "dino", ["engine-admins"])
    with browser_client() as browser:
        csrf = signed_in(browser, engine)
        switched = browser.post(
            f"{engine.url}/api/assemblies/dev-mode/switch",
            json={"enabled": True, "password": "guess-guess-guess", "reason": "x"},
            headers=csrf,
        )
        assert switched.status_code == 403 and "provider" in switched.json()["message"]
    provider.person("sub-otto", "otto", ["helpdesk"])
    with browser_client() as browser:
        csrf = signed_in(browser, engine)
        asked = browser.post(f"{engine.url}/api/auth/oidc/dev-mode", json=REASON, headers=csrf)
        assert asked.status_code == 403, asked.text
        assert "ae_oidc" not in browser.cookies
    admin = engine.login()
    asked = engine.http.post("/api/auth/oidc/dev-mode", json=REASON, headers=admin)
    assert asked.status_code == 422 and "password" in asked.json()["message"]
    assert engine.http.post("/api/auth/oidc/dev-mode", json=REASON).status_code == 401
    assert engine.http.post("/api/auth/oidc/dev-mode", json={"reason": ""}, headers=admin).status_code == 422


def test_no_secret_of_the_dev_mode_round_trips_reaches_any_log(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    """After this module's sign-ins and Dev Mode re-authentications (and the password
    guesses above): no client secret, code, state, start cookie, session, CSRF token,
    ID token or password in engine.log, the console or audit.log."""
    provider.person("sub-quentin", "quentin", ["engine-admins"])
    with browser_client() as browser:
        sign_in = round_trip(browser, engine.url)
        assert sign_in.answer.status_code == 303
        csrf = {"X-CSRF-Token": str(browser.cookies.get("ae_csrf")), "Origin": engine.url}
        asked = browser.post(f"{engine.url}/api/auth/oidc/dev-mode", json=REASON, headers=csrf)
        assert asked.status_code == 200, asked.text
        dev_mode = approve(browser, asked.json()["url"], engine.url)
        assert dev_mode.answer.status_code == 303, dev_mode.answer.text
        session = [str(browser.cookies.get("ae_session")), csrf["X-CSRF-Token"]]
    secrets = [*callback_secrets(sign_in), *callback_secrets(dev_mode), *session]
    assert_no_secret_in_logs(engine, [*secrets, CLIENT_SECRET, ADMIN_PASSWORD, "guess-guess-guess"])


@pytest.fixture(scope="module")
def password_off(
    provider: ProviderProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EngineProcess]:
    root = tmp_path_factory.mktemp("password-off")
    process = sso_engine(root, provider.issuer, ENGINE_PASSWORD_LOGIN="off", ENGINE_BREAK_GLASS_ADMIN="admin")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_password_off_leaves_only_the_break_glass_admin(
    password_off: EngineProcess, provider: ProviderProcess
) -> None:
    engine = password_off
    admin = engine.login()  # the break-glass admin still signs in with a password
    made = engine.http.post(
        "/api/users",
        headers=admin,
        json={"username": "olga", "password": "olga-password-1", "role": "operator"},
    )
    assert made.status_code == 201, made.text
    refused = engine.http.post("/api/auth/login", json={"username": "olga", "password": "olga-password-1"})
    assert refused.status_code == 403 and "switched off" in refused.json()["message"]
    unknown = engine.http.post("/api/auth/login", json={"username": "nobody", "password": "whatever-1"})
    assert unknown.status_code == 403
    assert engine.http.get("/api/auth/sign-in-options").json()["password_login"] is False
    provider.person("sub-pia", "pia", ["helpdesk"])
    with browser_client() as browser:
        pia = round_trip(browser, engine.url)
        assert pia.answer.status_code == 303
    denied = [
        e for e in audit_lines(engine) if e["action"] == "login" and "switched off" in str(e.get("detail"))
    ]
    assert len(denied) >= 1
    assert engine.http.post(
        "/api/auth/login", json={"username": "ADMIN", "password": ADMIN_PASSWORD}
    ).status_code in (200, 401)
    secrets = [CLIENT_SECRET, ADMIN_PASSWORD, "olga-password-1", "whatever-1", *callback_secrets(pia)]
    assert_no_secret_in_logs(engine, secrets)


@pytest.mark.parametrize(
    "settings",
    [
        {"password_login": False},
        {"password_login": False, "break_glass_admin": "admin"},
        {"oidc_issuer": "https://idp.example"},
        {"oidc_issuer": "https://idp.example", "oidc_client_id": "c", "oidc_client_secret": "s"},
        {"oidc_timeout_seconds": 0},
    ],
)
def test_incomplete_sign_in_settings_are_refused_at_startup(
    tmp_path: Path, settings: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="ENGINE_"):
        Settings(home=tmp_path, **settings)  # type: ignore[arg-type]
