"""The list fits the common laptop widths: from 1024 px up nothing scrolls sideways, every
header control is in view, and the Name column gets the width (wider than Type). Screenshots
at 1024, 1280 and 1440 px, light and dark, for a person to look at."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import OPERATOR, Engine, artifact, sign_in

pytestmark = pytest.mark.e2e

HEADER_CONTROLS = (
    "domain-chip-all",
    "deleted-view",
    "kind-filter",
    "category-filter",
    "quick-search",
    "new-assembly",
)


def inside_viewport(page: Page, test_id: str, width: int) -> None:
    control = page.get_by_test_id(test_id).first
    expect(control).to_be_visible()
    box = control.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (test_id, box, width)


@pytest.mark.parametrize("width", [1024, 1280, 1366, 1440])
def test_the_list_fits_without_sideways_scrolling(
    new_context: Callable[..., BrowserContext], engine: Engine, width: int
) -> None:
    page = new_context().new_page()
    page.set_viewport_size({"width": width, "height": 860})
    sign_in(page, OPERATOR)
    expect(page.get_by_test_id("assembly-name").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls {overflow} px sideways at {width} px"
    for test_id in HEADER_CONTROLS:
        inside_viewport(page, test_id, width)
    inside_viewport(page, "row-menu", width)
    # The grid itself does not scroll sideways either, and Name is its widest column.
    grid = page.get_by_test_id("assembly-grid").bounding_box()
    last = page.locator('.ag-header-cell[col-id="actions"]').bounding_box()
    assert grid is not None and last is not None
    grid_overflow = last["x"] + last["width"] - (grid["x"] + grid["width"])
    assert grid_overflow <= 1, f"the grid scrolls {grid_overflow} px sideways at {width} px"
    name = page.locator('.ag-header-cell[col-id="display_name"]').bounding_box()
    kind = page.locator('.ag-header-cell[col-id="assembly_type"]').bounding_box()
    assert name is not None and kind is not None and name["width"] > 2 * kind["width"], (name, kind)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_list_screenshots_at_laptop_widths(
    new_context: Callable[..., BrowserContext], engine: Engine, theme: str
) -> None:
    page = new_context(theme).new_page()
    sign_in(page, OPERATOR)
    for width in (1024, 1280, 1440):
        page.set_viewport_size({"width": width, "height": 860})
        expect(page.get_by_test_id("assembly-name").first).to_be_visible()
        page.screenshot(path=artifact(f"list-{width}-{theme}.png"))


def test_the_phone_list_shows_full_names_and_a_reachable_pager(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    name = "Rotate the web server logs and compress them nightly"
    with engine.api(OPERATOR) as api:
        api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": ""},
            },
        ).raise_for_status()
    page = new_context().new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, OPERATOR)
    page.get_by_test_id("quick-search").fill("compress them nightly")
    cell = page.get_by_test_id("assembly-name").filter(has_text=name).first
    expect(cell).to_be_visible()
    clipped = cell.evaluate(
        "el => el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1"
    )
    assert not clipped, "the name is cut on a phone"
    for selector in (".ag-paging-button", ".ag-paging-row-summary-panel"):
        for button in page.locator(selector).all():
            expect(button).to_be_visible()
            box = button.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (selector, box)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=artifact("list-phone-390.png"))
