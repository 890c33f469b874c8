"""The list's Deleted view: deleted assemblies with when and by whom, kept in the address,
and Undelete with its refusals (the id in use again, the domain's policy)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.support import ADMIN, DEV_MODE_REASON, OPERATOR, Engine, artifact, dev_mode_api, sign_in

pytestmark = pytest.mark.e2e


def deleted_assemblies(engine: Engine, prefix: str, count: int, domain: str = "user") -> list[str]:
    user = OPERATOR if domain == "user" else ADMIN
    guids = []
    with engine.api(user) as api:
        if domain != "user":
            api.post(
                "/api/assemblies/dev-mode/switch",
                json={"enabled": True, "password": ADMIN[1], "reason": DEV_MODE_REASON},
            ).raise_for_status()
        for number in range(1, count + 1):
            guid = api.post(
                "/api/assemblies",
                json={
                    "domain": domain,
                    "display_name": f"{prefix} {number}",
                    "assembly_kind": "script",
                    "assembly_type": "powershell",
                    "category": "cleanup",
                    "summary": "to be deleted",
                    "payload": {"script": f"Write-Output {number}\n"},
                },
            ).json()["assembly_guid"]
            api.delete(f"/api/assemblies/{guid}").raise_for_status()
            guids.append(guid)
        if domain != "user":
            api.post("/api/auth/logout")
    return guids


def open_deleted_view(page: Page, search: str, rows: int) -> None:
    """Through the address, as a shared link would (the chip is tested below)."""
    page.goto(f"/?view=deleted&q={search.replace(' ', '+')}")
    expect(page.get_by_test_id("deleted-view")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("deleted-name")).to_have_count(rows)


def row(page: Page, name: str) -> Locator:
    return page.get_by_test_id("assembly-grid").locator(".ag-row", has=page.get_by_text(name, exact=True))


def test_deleted_view_lists_deleted_assemblies_and_undeletes(page: Page, engine: Engine) -> None:
    prefix = f"Trash {uuid.uuid4().hex[:6]}"
    first, _ = deleted_assemblies(engine, prefix, 2)
    sign_in(page, OPERATOR)
    page.get_by_test_id("deleted-view").click()
    expect(page.get_by_test_id("assembly-grid")).to_have_attribute("data-view", "deleted")
    expect(page.get_by_test_id("deleted-view")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("quick-search").fill(prefix)
    query = f"view=deleted&q={prefix.replace(' ', '+')}&sort=deleted_at&order=desc"
    expect(page).to_have_url(f"{engine.url}/?{query}")
    expect(page.get_by_test_id("deleted-name")).to_have_count(2)
    # Newest deletion first; who deleted it and when are shown.
    expect(page.get_by_test_id("deleted-name").first).to_have_text(f"{prefix} 2")
    target = row(page, f"{prefix} 1")
    expect(target.locator('[col-id="deleted_by"]')).to_have_text("olga")
    expect(target.locator('[col-id="deleted_at"]')).not_to_be_empty()
    expect(page.get_by_test_id("domain-chip-user").get_by_test_id("chip-count")).to_have_text("2")
    page.screenshot(path=artifact("deleted-view-1440.png"))

    # The view is part of the address: a reload (or a shared link) opens it again.
    page.reload()
    expect(page.get_by_test_id("deleted-view")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("deleted-name")).to_have_count(2)

    row(page, f"{prefix} 1").get_by_test_id("undelete").click()
    expect(page.get_by_test_id("notice")).to_contain_text(f"“{prefix} 1” is back (revision 2)")
    expect(page.get_by_test_id("deleted-name")).to_have_count(1)
    with engine.api(OPERATOR) as api:
        back = api.get(f"/api/assemblies/{first}").json()
    assert (back["revision"], back["display_name"]) == (2, f"{prefix} 1")

    page.get_by_test_id("deleted-view").click()
    expect(page.get_by_test_id("assembly-grid")).to_have_attribute("data-view", "list")
    expect(page).not_to_have_url(f"{engine.url}/?view=deleted")
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name")).to_have_text([f"{prefix} 1"])


def test_undelete_of_an_id_in_use_again_says_so(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    prefix = f"Twice {uuid.uuid4().hex[:6]}"
    deleted_assemblies(engine, prefix, 1)
    one, two = new_context().new_page(), new_context().new_page()
    for page in (one, two):
        sign_in(page, OPERATOR)
        open_deleted_view(page, prefix, 1)
    one.get_by_test_id("undelete").click()
    expect(one.get_by_test_id("notice")).to_contain_text("is back")

    two.get_by_test_id("undelete").click()
    error = two.get_by_test_id("list-error")
    expect(error).to_contain_text(f"“{prefix} 1” cannot be undeleted: its id is in use again.")
    expect(error).not_to_contain_text("{")
    expect(two.get_by_test_id("deleted-name")).to_have_count(0)  # the view was read again


def test_undelete_follows_the_domain_policy(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    prefix = f"Official trash {uuid.uuid4().hex[:6]}"
    deleted_assemblies(engine, prefix, 1, domain="official")
    operator = new_context().new_page()
    sign_in(operator, OPERATOR)
    open_deleted_view(operator, prefix, 1)
    button = operator.get_by_test_id("undelete")
    expect(button).to_be_disabled()
    why = "Only an administrator in Dev Mode can undelete in this domain."
    expect(operator.locator(f'[title="{why}"]')).to_have_count(1)

    # Dev Mode ended in another tab of the admin's session: the engine's refusal is shown.
    admin = new_context().new_page()
    sign_in(admin, ADMIN)
    assert dev_mode_api(admin, True) == 200
    admin.reload()
    open_deleted_view(admin, prefix, 1)
    expect(admin.get_by_test_id("undelete")).to_be_enabled()
    assert dev_mode_api(admin, False) == 200
    admin.get_by_test_id("undelete").click()
    expect(admin.get_by_test_id("list-error")).to_contain_text(f"“{prefix} 1” was not undeleted:")
    expect(admin.get_by_test_id("deleted-name")).to_have_count(1)


def test_deleted_view_on_a_phone(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    prefix = f"Phone trash {uuid.uuid4().hex[:6]}"
    deleted_assemblies(engine, prefix, 2)
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, OPERATOR)
    open_deleted_view(page, prefix, 2)
    expect(page.get_by_test_id("undelete").first).to_be_visible()
    expect(page.get_by_test_id("deleted-when").first).to_contain_text("by olga")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifact("deleted-view-390.png"))
