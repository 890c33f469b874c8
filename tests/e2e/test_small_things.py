"""Smaller things admins notice: why a session ended, a Dev Mode countdown that is right
from its first second, tab titles that name the page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_a_user_disabled_while_signed_in_is_told_why(page: Page, engine: Engine) -> None:
    user = (f"dora{uuid.uuid4().hex[:6]}", "operator-password-dora")
    with engine.api() as api:
        api.post(
            "/api/users", json={"username": user[0], "password": user[1], "role": "operator"}
        ).raise_for_status()
    sign_in(page, user)
    expect(page).to_have_title("Assemblies · Assembly Engine")
    with engine.api() as api:
        api.patch(f"/api/users/{user[0]}", json={"disabled": True}).raise_for_status()
    # The next request the page makes is refused: back to sign-in, with the reason.
    page.get_by_test_id("quick-search").fill("anything")
    notice = page.get_by_test_id("session-ended")
    expect(notice).to_have_text(re.compile("disabled your account"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page).to_have_title("Sign in · Assembly Engine")
    # Signing in again is refused with the engine's sentence; the notice gives way to it.
    page.get_by_label("Username").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("sign-in-error")).to_be_visible()
    expect(notice).to_have_count(0)


def test_dev_mode_countdown_is_right_from_the_first_second(page: Page, engine: Engine) -> None:
    sign_in(page, ADMIN)
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first).to_be_visible()
    with engine.api() as api:
        ttl = int(api.get("/api/assemblies/dev-mode").json()["ttl_seconds"])
    # Let the banner's clock go stale first (it used to keep the time it was mounted at).
    page.wait_for_timeout(2500)
    page.get_by_test_id("dev-mode-switch").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Password").fill(ADMIN[1])
    dialog.get_by_label("Reason").fill("e2e countdown")
    dialog.get_by_role("button", name="Enable").click()
    countdown = page.get_by_test_id("dev-mode-countdown")
    expect(countdown).to_be_visible()
    shown = countdown.inner_text()
    minutes, seconds = (int(part) for part in shown.split(":"))
    assert minutes * 60 + seconds <= ttl, f"{shown} is more than the {ttl} s granted"
    assert minutes * 60 + seconds >= ttl - 5, shown
    page.get_by_test_id("dev-mode-banner").get_by_role("button", name="Disable Dev Mode").click()
    expect(page.get_by_test_id("dev-mode-banner")).to_have_count(0)


def test_tab_titles_name_the_page_and_the_assembly(page: Page, engine: Engine) -> None:
    name = f"Titled {uuid.uuid4().hex[:6]}"
    with engine.api() as api:
        guid = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": "true\n"},
            },
        ).json()["assembly_guid"]
    page.goto("/")
    expect(page).to_have_title("Sign in · Assembly Engine")
    sign_in(page, ADMIN)
    expect(page).to_have_title("Assemblies · Assembly Engine")
    page.goto(f"/assemblies/{guid}")
    expect(page).to_have_title(f"{name} · Assembly Engine")
    page.get_by_test_id("field-description").fill("edited")
    expect(page).to_have_title(f"• {name} · Assembly Engine")
    page.goto("/assemblies/new/workflow")
    expect(page).to_have_title("New Workflow · Assembly Engine")
    page.goto("/")
    expect(page).to_have_title("Assemblies · Assembly Engine")
