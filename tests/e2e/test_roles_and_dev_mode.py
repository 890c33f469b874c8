"""Operators see no admin controls; admins edit Official only with Dev Mode on."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, search_list, sign_in

pytestmark = pytest.mark.e2e

READ_ONLY = (
    "This domain is read-only. Enable Dev Mode as an administrator to edit, or clone it to User-Created."
)


def an_official_script(engine: Engine) -> dict:
    with engine.api() as api:
        items = api.get("/api/assemblies", params={"domain": "official", "kind": "script"}).json()["items"]
    assert items, "the official library has no scripts"
    return items[0]


def test_operator_has_no_dev_mode_and_official_is_read_only(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first).to_be_visible()
    expect(page.get_by_test_id("dev-mode-toggle")).to_have_count(0)
    expect(page.get_by_test_id("dev-mode-switch")).to_have_count(0)
    expect(page.get_by_test_id("dev-mode-banner")).to_have_count(0)
    assert "Dev Mode" not in page.content()

    official = an_official_script(engine)
    page.goto(f"/assemblies/{official['assembly_guid']}")
    expect(page.get_by_test_id("read-only-banner")).to_have_text(re.compile(re.escape(READ_ONLY)))
    expect(page.get_by_test_id("save")).to_have_count(0)
    # Read-only content is text, not disabled inputs.
    expect(page.get_by_test_id("field-name")).to_have_count(0)
    expect(page.get_by_test_id("text-name-value")).to_have_text(official["display_name"])
    assert "Dev Mode" not in page.get_by_test_id("assembly-editor").inner_html().replace(READ_ONLY, "")

    # Clone to User-Created asks for the copy's name ("<name> (copy)") and opens the copy.
    page.get_by_test_id("clone-to-user").click()
    expect(page.get_by_test_id("clone-name")).to_have_value(f"{official['display_name']} (copy)")
    page.get_by_test_id("clone-dialog").get_by_role("button", name="Clone").click()
    expect(page).not_to_have_url(re.compile(official["assembly_guid"]))
    expect(page.get_by_test_id("read-only-banner")).to_have_count(0)
    expect(page.get_by_test_id("assembly-editor").get_by_test_id("domain-badge")).to_have_text("User-Created")
    clone = page.url.rsplit("/", 1)[1]
    with engine.api(OPERATOR) as api:
        record = api.get(f"/api/assemblies/{clone}").json()
    assert record["source"] == "user"
    assert record["display_name"] == f"{official['display_name']} (copy)"

    # The clone is the operator's to edit.
    page.get_by_test_id("field-description").fill("my own copy")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{clone}").json()["summary"] == "my own copy"


def test_operator_clone_dialog_offers_only_user_created(page: Page, engine: Engine) -> None:
    official = an_official_script(engine)
    sign_in(page, OPERATOR)
    search_list(page, official["display_name"])
    # The rows before the search stay until its answer replaces them: wait for that, so the
    # menu is not opened on a row about to be replaced.
    names = page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name")
    expect(names.filter(has_not_text=official["display_name"])).to_have_count(0)
    row = page.locator(f'.ag-row[row-id="{official["assembly_guid"]}"]')
    row.get_by_test_id("row-menu").click()
    expect(page.get_by_test_id("action-rename")).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_test_id("action-delete")).to_have_attribute("aria-disabled", "true")
    page.get_by_test_id("action-clone").click()
    page.get_by_test_id("clone-target").click()
    expect(page.get_by_test_id("clone-target-user")).to_be_visible()
    expect(page.get_by_test_id("clone-target-official")).to_have_count(0)
    expect(page.get_by_test_id("clone-target-community")).to_have_count(0)
    page.get_by_test_id("clone-target-user").click()
    page.get_by_test_id("clone-dialog").get_by_role("button", name="Clone").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Cloned")


def test_admin_dev_mode_edit_official_flush_and_disable(page: Page, engine: Engine) -> None:
    sign_in(page, ADMIN)
    official = an_official_script(engine)
    guid = official["assembly_guid"]

    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("read-only-banner")).to_have_text(re.compile(re.escape(READ_ONLY)))

    # A wrong password is refused inside the dialog; Dev Mode stays off.
    page.get_by_test_id("dev-mode-switch").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Password").fill("wrong password")
    dialog.get_by_label("Reason").fill("e2e: edit official")
    dialog.get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("dev-mode-error")).to_contain_text("password")
    expect(page.get_by_test_id("dev-mode-error")).not_to_contain_text("{")
    expect(page.get_by_test_id("dev-mode-banner")).to_have_count(0)

    # The right one turns it on: banner, live countdown, the editor becomes writable.
    dialog.get_by_label("Password").fill(ADMIN[1])
    dialog.get_by_role("button", name="Enable").click()
    expect(dialog).to_have_count(0)
    banner = page.get_by_test_id("dev-mode-banner")
    expect(banner).to_be_visible()
    countdown = page.get_by_test_id("dev-mode-countdown")
    expect(countdown).to_have_text(re.compile(r"^\d+:\d\d$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5000)
    expect(page.get_by_test_id("read-only-banner")).to_have_count(0)

    summary = f"edited in Dev Mode {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("field-description").fill(summary)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    with engine.api() as api:
        record = api.get(f"/api/assemblies/{guid}").json()
    assert record["source"] == "official"
    assert record["summary"] == summary

    banner.get_by_role("button", name="Flush queue now").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Queue written")
    with engine.api() as api:
        assert api.get(f"/api/assemblies/{guid}").json()["is_dirty"] is False
    expect(page.get_by_test_id("assembly-editor").get_by_test_id("dirty-pill")).to_have_count(0)

    # New assemblies may go to Community (or Official) while Dev Mode is on.
    page.goto("/assemblies/new/script")
    name = f"E2E community {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("field-name").fill(name)
    page.get_by_test_id("field-domain").click()
    page.get_by_test_id("domain-community").click()
    page.get_by_test_id("code-editor").locator(".cm-content").click()
    page.keyboard.type("Write-Output 'shared'")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    with engine.api() as api:
        created = api.get(f"/api/assemblies/{page.url.rsplit('/', 1)[1]}").json()
    assert (created["source"], created["display_name"]) == ("community", name)

    # Disabling removes the controls again.
    banner.get_by_role("button", name="Disable Dev Mode").click()
    expect(page.get_by_test_id("dev-mode-banner")).to_have_count(0)
    expect(page.get_by_test_id("dev-mode-switch")).not_to_be_checked()
    expect(page.get_by_test_id("read-only-banner")).to_be_visible()
    page.goto("/assemblies/new/script")
    expect(page.get_by_test_id("field-name")).to_be_visible()
    expect(page.get_by_test_id("field-domain")).to_have_count(0)
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("read-only-banner")).to_be_visible()
    expect(page.get_by_test_id("save")).to_have_count(0)


def test_admin_list_clone_offers_every_domain_only_in_dev_mode(page: Page, engine: Engine) -> None:
    official = an_official_script(engine)
    sign_in(page, ADMIN)
    search_list(page, official["display_name"])
    row = page.locator(f'.ag-row[row-id="{official["assembly_guid"]}"]')
    row.get_by_test_id("row-menu").click()
    page.get_by_test_id("action-clone").click()
    page.get_by_test_id("clone-target").click()
    expect(page.get_by_test_id("clone-target-official")).to_have_count(0)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("clone-dialog")).to_have_count(0)

    page.get_by_test_id("dev-mode-switch").click()
    page.get_by_role("dialog").get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("dialog").get_by_label("Reason").fill("e2e clone")
    page.get_by_role("dialog").get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("dev-mode-banner")).to_be_visible()
    row.get_by_test_id("row-menu").click()
    page.get_by_test_id("action-clone").click()
    page.get_by_test_id("clone-target").click()
    for domain in ("official", "community", "user"):
        expect(page.get_by_test_id(f"clone-target-{domain}")).to_be_visible()
    page.get_by_test_id("clone-target-community").click()
    page.get_by_test_id("clone-dialog").get_by_role("button", name="Clone").click()
    expect(page.get_by_test_id("notice")).to_contain_text("into Community")
    page.get_by_test_id("dev-mode-banner").get_by_role("button", name="Disable Dev Mode").click()
    expect(page.get_by_test_id("dev-mode-banner")).to_have_count(0)
