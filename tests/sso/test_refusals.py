"""Every refusal of the sign-in round trip, over real HTTP: a clear page with a 4xx or
503, nothing created, an audit entry — never a 500."""

from __future__ import annotations

import html
from pathlib import Path

import httpx
import pytest

from tests.engine_process import EngineProcess, free_port
from tests.sso.support import (
    CLIENT_SECRET,
    ProviderProcess,
    assert_no_secret_in_logs,
    audit_lines,
    browser_client,
    callback_secrets,
    round_trip,
    sso_engine,
    users,
)

MODES = [
    ("wrong_nonce", 401, "nonce"),
    ("wrong_audience", 401, "aud"),
    ("wrong_issuer", 401, "iss"),
    ("expired", 401, "exp"),
    ("unknown_kid", 401, "key the provider does not publish"),
    ("tampered", 401, "signature"),
    ("error", 401, "access_denied"),
    ("oversized", 503, "KiB"),
    ("malformed", 503, "not a JSON object"),
]


@pytest.mark.parametrize(("mode", "status", "says"), MODES)
def test_a_bad_provider_answer_is_refused_and_creates_nothing(
    engine: EngineProcess, provider: ProviderProcess, mode: str, status: int, says: str
) -> None:
    username = f"victim-{mode.replace('_', '-')}"
    provider.person(f"sub-{mode}", username, ["engine-admins"])
    provider.control(mode=mode)
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == status, trip.answer.text
    assert says in trip.answer.text
    assert "Back to the sign-in page" in trip.answer.text
    assert "ae_session" not in trip.answer.cookies
    assert username not in users(engine)
    assert any(
        e["action"] == "login" and e["outcome"] == "denied" and "single sign-on" in str(e.get("detail"))
        for e in audit_lines(engine)
    )


def test_a_slow_token_endpoint_is_cut_off(engine: EngineProcess, provider: ProviderProcess) -> None:
    provider.person("sub-slow", "slow-sam", ["engine-admins"])
    provider.control(mode="slow", delay=8)  # the engine waits ENGINE_OIDC_TIMEOUT_SECONDS=3
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == 503
    assert "did not answer within 3 s" in trip.answer.text
    assert "slow-sam" not in users(engine)


def test_a_forged_state_is_refused(engine: EngineProcess, provider: ProviderProcess) -> None:
    provider.person("sub-state", "state-steve", ["engine-admins"])
    with browser_client() as browser:
        started = browser.get(f"{engine.url}/api/auth/oidc/start")
        approved = browser.get(started.headers["location"])
        callback = approved.headers["location"]
        forged = callback.replace("state=", "state=x")
        answer = browser.get(forged)
    assert answer.status_code == 400 and "state differs" in answer.text
    assert "state-steve" not in users(engine)


def test_a_callback_without_its_start_cookie_is_refused(
    engine: EngineProcess, provider: ProviderProcess
) -> None:
    provider.person("sub-csrf", "cross-site-cy", ["engine-admins"])
    with browser_client() as attacker:
        started = attacker.get(f"{engine.url}/api/auth/oidc/start")
        callback = attacker.get(started.headers["location"]).headers["location"]
    with browser_client() as victim:  # an attacker's sign-in pushed into another browser
        answer = victim.get(callback)
    assert answer.status_code == 400 and "no sign-in in progress" in answer.text
    assert "cross-site-cy" not in users(engine)


def test_a_tampered_start_cookie_is_refused(engine: EngineProcess, provider: ProviderProcess) -> None:
    provider.person("sub-cookie", "cookie-cole", ["engine-admins"])
    with browser_client() as browser:
        started = browser.get(f"{engine.url}/api/auth/oidc/start")
        sealed = browser.cookies.get("ae_oidc")
        assert sealed
        browser.cookies.set("ae_oidc", sealed[:-4] + "AAAA", domain="127.0.0.1", path="/api/auth/oidc")
        callback = browser.get(started.headers["location"]).headers["location"]
        answer = browser.get(callback)
    assert answer.status_code == 400
    assert "cookie-cole" not in users(engine)


def test_a_replayed_callback_is_refused(engine: EngineProcess, provider: ProviderProcess) -> None:
    provider.person("sub-replay", "replay-rita", ["engine-operators"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
        assert trip.answer.status_code == 303
    with browser_client() as thief:  # the same callback URL and the same start cookie again
        assert trip.pending_cookie is not None
        thief.cookies.set("ae_oidc", trip.pending_cookie, domain="127.0.0.1", path="/api/auth/oidc")
        again = thief.get(trip.callback_url)
    assert again.status_code == 401 and "used already" in again.text
    assert "ae_session" not in again.cookies


def test_oversized_or_odd_callback_parameters_are_refused(engine: EngineProcess) -> None:
    with browser_client() as browser:
        browser.get(f"{engine.url}/api/auth/oidc/start")
        for query in (f"state={'s' * 5000}&code=c", "code=c", "state=%FF%FE&code=c", "", "state=&state=x"):
            answer = browser.get(f"{engine.url}/api/auth/oidc/callback?{query}")
            assert answer.status_code == 400, (query, answer.text)


def test_a_provider_that_is_down_gives_503(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    engine = sso_engine(tmp_path, closed).start()
    try:
        answer = httpx.get(f"{engine.url}/api/auth/oidc/start", timeout=30)
        assert answer.status_code == 503 and "cannot be reached" in answer.text
        assert httpx.get(f"{engine.url}/api/health", timeout=30).status_code == 200
    finally:
        engine.stop()


def test_a_provider_naming_another_issuer_is_refused(tmp_path: Path, provider: ProviderProcess) -> None:
    """Discovery's issuer must be ENGINE_OIDC_ISSUER exactly (here it lacks the trailing /)."""
    engine = sso_engine(tmp_path, f"{provider.issuer}/").start()
    try:
        answer = httpx.get(f"{engine.url}/api/auth/oidc/start", timeout=30)
        assert answer.status_code == 503 and "another issuer" in answer.text, answer.text
        assert "ae_oidc" not in answer.cookies
    finally:
        engine.stop()


def test_start_and_callback_without_sso_configured_are_404(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "home", tmp_path / "staging").start()
    try:
        for path in ("/api/auth/oidc/start", "/api/auth/oidc/callback?state=a&code=b"):
            assert httpx.get(f"{engine.url}{path}", timeout=30).status_code == 404
        options = httpx.get(f"{engine.url}/api/auth/sign-in-options", timeout=30).json()
        assert options == {"password_login": True, "sso": None}
    finally:
        engine.stop()


def test_no_secret_reaches_any_log(engine: EngineProcess, provider: ProviderProcess) -> None:
    """After this module's sign-ins and refusals: no client secret, authorization code,
    state, ID token, start cookie or session token in engine.log, the console or audit.log."""
    provider.person("sub-quiet", "quiet-quinn", ["engine-operators"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
        assert trip.answer.status_code == 303
        session = str(browser.cookies.get("ae_session"))
    assert_no_secret_in_logs(engine, [CLIENT_SECRET, session, *callback_secrets(trip)])


@pytest.mark.parametrize("name", ["cli", "Engine", "ASSEMBLY-ENGINE"])
def test_a_provider_name_the_engine_reserves_is_refused(
    engine: EngineProcess, provider: ProviderProcess, name: str
) -> None:
    # The audit log and history name the local CLI and the engine itself so: a person may
    # not sign in as them, however the provider spells the name.
    provider.person(f"sub-reserved-{name}", name, ["engine-admins"])
    with browser_client() as browser:
        trip = round_trip(browser, engine.url)
    assert trip.answer.status_code == 409, trip.answer.text
    assert f"'{name}' is reserved for the engine itself" in html.unescape(trip.answer.text)
    assert "ae_session" not in trip.answer.cookies
    assert not {name, name.casefold()} & set(users(engine))
