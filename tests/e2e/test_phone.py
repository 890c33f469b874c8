"""Phones: at 390 px wide nothing scrolls sideways, every control is on screen and works,
dialogs fit, the Dev Mode banner is one line."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, artifact, open_new_script, sign_in

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844


def phone(new_context: Callable[..., BrowserContext]) -> Page:
    page = new_context().new_page()
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    return page


def no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(widths) <= WIDTH, f"the page is {max(widths)} px wide at {WIDTH} px"


def on_screen(locator: Locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5, box


def test_list_and_editor_fit_a_phone(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    page = phone(new_context)
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=artifact("sign-in-390.png"))
    sign_in(page, OPERATOR)
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name").first).to_be_visible()
    no_sideways_scroll(page)
    for control in (
        page.get_by_test_id("sign-out"),
        page.get_by_test_id("theme-toggle"),
        page.get_by_test_id("new-assembly"),
        page.get_by_test_id("quick-search"),
        page.get_by_test_id("kind-filter"),
        page.get_by_test_id("category-filter"),
        page.get_by_test_id("domain-chip-user"),
        grid.get_by_test_id("row-menu").first,
        grid.get_by_test_id("assembly-name").first,
    ):
        on_screen(control)
    page.screenshot(path=artifact("list-390.png"))

    # The row menu works by touch; so does opening an assembly.
    grid.get_by_test_id("row-menu").first.click()
    on_screen(page.get_by_test_id("action-open"))
    page.get_by_test_id("action-open").click()
    expect(page.get_by_test_id("assembly-editor")).to_be_visible()
    expect(page.get_by_test_id("code-editor")).to_be_visible()
    no_sideways_scroll(page)
    on_screen(page.get_by_role("button", name="Back to list"))
    on_screen(page.get_by_test_id("import-export"))
    page.screenshot(path=artifact("editor-390.png"), full_page=True)

    open_new_script(page)
    expect(page.get_by_test_id("field-name")).to_be_visible()
    on_screen(page.get_by_test_id("editor-title"))
    expect(page.get_by_test_id("editor-title")).to_have_text("New Script")
    title_size = page.get_by_test_id("editor-title").evaluate("el => [el.scrollWidth, el.clientWidth]")
    page.screenshot(path=artifact("editor-new-top-390.png"))
    assert title_size[0] <= title_size[1], title_size
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("sites-specific").click()
    no_sideways_scroll(page)
    for control in (
        page.get_by_test_id("save"),
        page.get_by_test_id("field-name"),
        page.get_by_test_id("field-sites"),
        page.get_by_test_id("add-variable"),
    ):
        control.scroll_into_view_if_needed()
        on_screen(control)
    page.get_by_test_id("variable-name").scroll_into_view_if_needed()
    expect(page.get_by_test_id("variable-name")).to_be_visible()
    # The sticky bar keeps Save on screen while scrolled down to the variables.
    on_screen(page.get_by_test_id("save"))
    assert page.get_by_test_id("save").bounding_box()["y"] >= 0
    page.screenshot(path=artifact("editor-new-390.png"))


def test_dev_mode_dialog_and_banner_fit_a_phone(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    page = phone(new_context)
    sign_in(page, ADMIN)
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first).to_be_visible()
    switch = page.get_by_test_id("dev-mode-switch")
    on_screen(page.get_by_test_id("dev-mode-toggle"))
    switch.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    assert abs(box["x"] - (WIDTH - box["x"] - box["width"])) <= 2, f"dialog off-centre: {box}"
    page.screenshot(path=artifact("dev-mode-dialog-390.png"))
    dialog.get_by_label("Password").fill(ADMIN[1])
    dialog.get_by_label("Reason").fill("e2e phone")
    dialog.get_by_role("button", name="Enable").click()  # a real click: nothing intercepts it
    banner = page.get_by_test_id("dev-mode-banner")
    expect(banner).to_be_visible()
    expect(dialog).to_have_count(0)
    no_sideways_scroll(page)
    height = banner.bounding_box()["height"]
    assert height <= 48, f"the banner is {height} px tall"
    on_screen(banner.get_by_role("button", name="Flush queue now"))
    on_screen(banner.get_by_role("button", name="Disable Dev Mode"))
    on_screen(page.get_by_test_id("sign-out"))
    page.screenshot(path=artifact("list-dev-mode-390.png"))
    banner.get_by_role("button", name="Disable Dev Mode").click()
    expect(banner).to_have_count(0)
