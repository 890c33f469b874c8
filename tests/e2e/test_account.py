"""The Account page in chromium: the prompt after a password someone else chose, changing
one's own password (a wrong current password changes nothing), the own sessions (end one
elsewhere, sign out everywhere else), the way to the API tokens; screenshots at 1280 and
390 px in both themes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Literal

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import ADMIN, Engine, artifact, sign_in

pytestmark = pytest.mark.e2e

FIRST = "chosen-by-admin-1"


def new_user(engine: Engine) -> tuple[str, str]:
    """An operator whose password the admin chose."""
    name = f"acct-{uuid.uuid4().hex[:8]}"
    with engine.api(ADMIN) as api:
        api.post(
            "/api/users", json={"username": name, "password": FIRST, "role": "operator"}
        ).raise_for_status()
    return name, FIRST


def live(engine: Engine, headers: dict[str, str]) -> bool:
    return httpx.get(f"{engine.process.url}/api/auth/me", headers=headers, timeout=30).status_code == 200


def test_a_password_chosen_by_the_admin_is_prompted_and_changed(page: Page, engine: Engine) -> None:
    user = new_user(engine)
    elsewhere = engine.process.login(*user)
    sign_in(page, user)
    prompt = page.get_by_test_id("password-prompt")
    expect(prompt).to_contain_text("chosen for you")
    prompt.get_by_test_id("password-prompt-action").click()
    expect(page).to_have_url(f"{engine.url}/account")
    expect(page.get_by_test_id("password-prompt")).to_have_count(0)  # the page itself asks
    expect(page.get_by_test_id("password-must-change")).to_be_visible()

    page.get_by_test_id("password-current").fill("not-the-password")
    page.get_by_test_id("password-new").fill("my-own-password-1")
    page.get_by_test_id("password-repeat").fill("my-own-password-1")
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-error")).to_contain_text("not changed")
    assert live(engine, elsewhere)  # a refused change ends nothing

    page.get_by_test_id("password-repeat").fill("my-own-password-2")
    page.get_by_test_id("password-current").fill(FIRST)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("password-error")).to_contain_text("differ")

    page.get_by_test_id("password-repeat").fill("my-own-password-1")
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Password changed")
    expect(page.get_by_test_id("password-must-change")).to_have_count(0)
    assert not live(engine, elsewhere)  # the other session was signed out
    page.get_by_test_id("logo").click()
    expect(page.get_by_test_id("assembly-grid")).to_be_visible()
    expect(page.get_by_test_id("password-prompt")).to_have_count(0)
    assert live(engine, engine.process.login(user[0], "my-own-password-1"))


def test_own_sessions_end_one_or_all_others(page: Page, engine: Engine) -> None:
    user = new_user(engine)
    first, second = engine.process.login(*user), engine.process.login(*user)
    sign_in(page, user)
    page.get_by_test_id("user-info").click()
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(3)
    expect(page.locator('[data-testid="session-row"][data-current="true"]')).to_contain_text("This session")
    rows.filter(has=page.get_by_test_id("session-end")).first.get_by_test_id("session-end").click()
    expect(page.get_by_test_id("notice")).to_contain_text("signed out")
    expect(rows).to_have_count(2)
    assert [live(engine, first), live(engine, second)].count(True) == 1
    page.get_by_test_id("sessions-end-others").click()
    expect(page.get_by_test_id("notice")).to_contain_text("1 other session was signed out")
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("sessions-only-this")).to_be_visible()
    assert not live(engine, first) and not live(engine, second)
    page.get_by_test_id("account-tokens-link").click()
    expect(page).to_have_url(f"{engine.url}/tokens")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_account_screenshots(
    new_context: Callable[..., BrowserContext], engine: Engine, theme: Literal["light", "dark"], width: int
) -> None:
    user = new_user(engine)
    engine.process.login(*user)  # a second session to list
    page = new_context(theme).new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, user)
    expect(page.get_by_test_id("password-prompt")).to_be_visible()
    page.screenshot(path=artifact(f"account-prompt-{width}-{theme}.png"), animations="disabled")
    page.get_by_test_id("password-prompt-action").click()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=artifact(f"account-{width}-{theme}.png"), full_page=True, animations="disabled")
