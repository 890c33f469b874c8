"""The Tokens page in chromium: create a token (shown once, copied), see it listed, revoke
it; an admin sees and revokes everyone's. Each token is then tried against the engine."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, artifact, sign_in

pytestmark = pytest.mark.e2e


def _status(engine: Engine, token: str, method: str = "GET", json: object = None) -> int:
    response = httpx.request(
        method,
        f"{engine.process.url}/api/assemblies",
        headers={"Authorization": f"Bearer {token}"},
        json=json,
        timeout=30,
    )
    return response.status_code


def _create(page: Page, name: str) -> str:
    page.get_by_test_id("token-name").fill(name)
    page.get_by_test_id("token-create").click()
    dialog = page.get_by_test_id("token-secret-dialog")
    expect(dialog).to_be_visible()
    secret = page.get_by_test_id("token-secret").input_value()
    assert secret.startswith("aet_")
    return secret


def test_a_user_creates_copies_and_revokes_a_token(page: Page, engine: Engine) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, OPERATOR)
    page.get_by_test_id("tokens-link").click()
    expect(page.get_by_test_id("tokens-page")).to_be_visible()
    name = f"runner {uuid.uuid4().hex[:6]}"
    secret = _create(page, name)
    page.get_by_test_id("token-copy").click()
    expect(page.get_by_test_id("token-copied")).to_be_visible()
    page.screenshot(path=str(artifact("tokens-created.png")))
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.get_by_test_id("token-done").click()
    expect(page.get_by_test_id("token-secret-dialog")).to_have_count(0)
    assert secret not in page.content()  # shown once: gone with the dialog

    assert _status(engine, secret) == 200
    assert _status(engine, secret, "POST", {"display_name": "x"}) == 403  # read scope only

    row = page.get_by_test_id("token-row").filter(has_text=name)
    expect(row.get_by_test_id("token-status")).to_have_text("active")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_test_id("token-revoke").click()
    expect(row.get_by_test_id("token-status")).to_have_text("revoked")
    assert _status(engine, secret) == 401


def test_an_admin_sees_and_revokes_an_operators_token(page: Page, engine: Engine) -> None:
    with engine.api(OPERATOR) as api:
        made = api.post(
            "/api/tokens", json={"name": "olga ci", "scopes": ["assemblies:read"], "expires_in_days": 5}
        ).json()
    assert _status(engine, made["token"]) == 200
    sign_in(page, ADMIN)
    page.goto("/tokens")
    row = page.locator(f'[data-token-id="{made["id"]}"]')
    expect(row).to_contain_text("olga")
    page.screenshot(path=str(artifact("tokens-admin.png")), full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_test_id("token-revoke").click()
    expect(row.get_by_test_id("token-status")).to_have_text("revoked")
    assert _status(engine, made["token"]) == 401


def test_a_refused_token_request_shows_the_engines_sentence(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    page.goto("/tokens")
    page.get_by_test_id("token-name").fill("too long")
    page.get_by_test_id("token-days").fill("1000")
    page.get_by_test_id("token-create").click()
    expect(page.get_by_test_id("token-error")).to_contain_text("ENGINE_TOKEN_MAX_DAYS")
    expect(page.get_by_test_id("token-secret-dialog")).to_have_count(0)
