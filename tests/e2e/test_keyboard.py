"""Keyboard use: rows reachable and openable, the row menu, Ctrl+S, leaving the code
editor (Esc then Tab), visible focus rings."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, artifact, sign_in

pytestmark = pytest.mark.e2e

IN_GRID_CELL = "() => !!document.activeElement?.closest('.ag-cell')"


def a_user_script(engine: Engine, prefix: str = "Keyboard") -> tuple[str, str]:
    name = f"{prefix} {uuid.uuid4().hex[:8]}"
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "category": "script",
                "summary": "keyboard",
                "payload": {"script": "echo one\n"},
            },
        ).json()
    return name, created["assembly_guid"]


def focused_col(page: Page) -> str | None:
    return page.evaluate("() => document.activeElement?.closest('.ag-cell')?.getAttribute('col-id') ?? null")


def tab_into_grid(page: Page) -> int:
    for presses in range(1, 8):
        page.keyboard.press("Tab")
        if page.evaluate(IN_GRID_CELL):
            return presses
    raise AssertionError("Tab from the search never reached a row")


def test_tab_from_search_reaches_a_row_and_enter_opens_it(page: Page, engine: Engine) -> None:
    name, guid = a_user_script(engine)
    sign_in(page, OPERATOR)
    search = page.get_by_test_id("quick-search")
    search.fill(name)
    row = page.locator(f'.ag-row[row-id="{guid}"]')
    expect(row).to_be_visible()
    expect(page.get_by_test_id("assembly-name")).to_have_count(1)
    search.focus()
    presses = tab_into_grid(page)
    assert presses <= 5, f"{presses} presses of Tab from the search to the first row"
    assert focused_col(page) == "display_name"
    page.screenshot(path=artifact("keyboard-row-focus-1440.png"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/assemblies/{guid}$"))
    expect(page.get_by_test_id("editor-title")).to_have_text(name)

    # Still keyboard only: Tab to the description, type, Ctrl+S saves.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.dataset.testid") == "field-description":
            break
    else:
        raise AssertionError("Tab never reached the description field")
    page.keyboard.press("Control+End")
    page.keyboard.type(" and more")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 2")
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{guid}").json()["summary"] == "keyboard and more"

    # Back on the list, the row menu opens from the keyboard (Shift+F10, or Enter on its
    # cell) and its items are reached with the arrows.
    page.go_back()
    expect(row).to_be_visible()
    page.get_by_test_id("quick-search").focus()
    tab_into_grid(page)
    page.keyboard.press("Shift+F10")
    expect(page.get_by_test_id("action-open")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("action-open")).to_have_count(0)
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert focused_col(page) == "actions"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("action-open")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("action-clone")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("clone-name")).to_be_focused()
    expect(page.get_by_test_id("clone-name")).to_have_value(f"{name} (copy)")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("clone-dialog")).to_have_count(0)

    # Tab leaves the grid again (one tab stop for the whole grid, not one per cell).
    tab_into_grid_again = page.evaluate(IN_GRID_CELL)
    assert tab_into_grid_again
    page.keyboard.press("Tab")
    assert not page.evaluate(IN_GRID_CELL)


def test_ctrl_s_saves_and_the_code_editor_can_be_left_with_esc_then_tab(page: Page, engine: Engine) -> None:
    name, guid = a_user_script(engine)
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("editor-title")).to_have_text(name)
    hint = page.get_by_test_id("code-editor-hint")
    expect(hint).to_contain_text("Esc, then Tab")

    content = page.get_by_test_id("code-editor").locator(".cm-content")
    content.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # indents; focus stays in the editor
    page.keyboard.type("echo two")
    assert page.evaluate("() => !!document.activeElement?.closest('.cm-editor')")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not page.evaluate("() => !!document.activeElement?.closest('.cm-editor')")

    # Ctrl+S saves (no "Save page as"): a new revision, nothing left to save.
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 2")
    expect(page.get_by_test_id("save")).to_be_disabled()
    with engine.api(OPERATOR) as api:
        script = api.get(f"/api/assemblies/{guid}").json()["payload"]["script"]
    assert re.fullmatch(r"echo one\n\s+echo two\n?", script), script


def test_focus_rings_are_clearly_visible(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first).to_be_visible()
    ring = """() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {id: el.getAttribute('data-testid'), style: style.outlineStyle,
                width: parseFloat(style.outlineWidth)};
    }"""
    page.get_by_test_id("quick-search").focus()
    page.keyboard.press("Tab")
    button = page.evaluate(ring)
    assert button == {"id": "new-assembly", "style": "solid", "width": 2}, button
    page.screenshot(path=artifact("keyboard-focus-ring-1440.png"))
    page.get_by_test_id("domain-chip-official").focus()
    page.keyboard.press("Shift+Tab")
    chip = page.evaluate(ring)
    assert chip["id"] == "domain-chip-all" and chip["style"] == "solid" and chip["width"] >= 2, chip
