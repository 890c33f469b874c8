"""Finding and organising (issue 29): tags shown, edited and filtered with counts; the
category folder tree (counts, a click filters, the state in the address, rows dragged onto
a folder move there); favourites per user, kept by the engine. Screenshots at 390, 1024,
1280 and 1440 px in both themes. The tests run at 1440 px: the tree, the tag filter and
the Favourites view sit beside the grid from 1200 px."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, artifact, search_list, sign_in

pytestmark = pytest.mark.e2e


def create(engine: Engine, name: str, category: str, tags: list[str] | None = None) -> dict[str, Any]:
    with engine.api(OPERATOR) as api:
        response = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "category": category,
                "tags": tags or [],
                "payload": {"script": "true\n"},
            },
        )
        response.raise_for_status()
        return dict(response.json())


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def test_tags_are_edited_shown_and_filtered_with_counts(page: Page, engine: Engine) -> None:
    prefix = f"Tagged {uuid.uuid4().hex[:6]}"
    first = create(engine, f"{prefix} one", "Tags/Test")
    create(engine, f"{prefix} two", "Tags/Test", ["weekly"])
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{first['assembly_guid']}")
    field = page.get_by_test_id("field-tags")
    field.fill(f"nightly-{prefix[-6:]}")
    field.press("Enter")
    field.fill("weekly")
    field.press("Enter")
    expect(page.get_by_test_id("tag-value")).to_have_count(2)
    page.screenshot(path=artifact("organise-editor-tags.png"), animations="disabled")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("unsaved-badge")).to_have_count(0)
    with engine.api(OPERATOR) as api:
        stored = api.get(f"/api/assemblies/{first['assembly_guid']}").json()
    assert stored["tags"] == [f"nightly-{prefix[-6:]}", "weekly"]

    page.goto("/")
    search_list(page, prefix)
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    expect(grid.get_by_test_id("tag-chip")).to_have_count(3)
    weekly = page.get_by_test_id("tag-option-weekly")
    expect(weekly).to_have_attribute("data-count", "2")  # the counts follow the search
    nightly = page.get_by_test_id(f"tag-option-nightly-{prefix[-6:]}")
    expect(nightly).to_have_attribute("data-count", "1")
    nightly.click()
    expect(grid.get_by_test_id("assembly-name")).to_have_count(1)
    expect(grid.get_by_test_id("assembly-name")).to_have_text(f"{prefix} one")
    assert query(page)["tag"] == [f"nightly-{prefix[-6:]}"]
    page.reload()  # the filter lives in the address
    expect(grid.get_by_test_id("assembly-name")).to_have_count(1)
    expect(page.get_by_test_id(f"tag-option-nightly-{prefix[-6:]}")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id(f"tag-option-nightly-{prefix[-6:]}").click()
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    # A chip in a row filters by its tag too.
    grid.get_by_test_id("tag-chip").filter(has_text="weekly").first.click()
    assert query(page)["tag"] == ["weekly"]


def test_the_folder_tree_counts_filters_and_takes_dropped_rows(page: Page, engine: Engine) -> None:
    top = f"Tree{uuid.uuid4().hex[:6]}"
    create(engine, f"{top} cleanup", f"{top}/Windows/Maintenance")
    create(engine, f"{top} report", f"{top}/Windows")
    moved = create(engine, f"{top} rotate", f"{top}/Linux")
    sign_in(page, OPERATOR)
    grid = page.get_by_test_id("assembly-grid")
    tree = page.get_by_test_id("folder-tree")
    folder = tree.locator(f'[data-path="{top}"]')
    expect(folder).to_have_attribute("data-count", "3")
    folder.get_by_test_id("folder-toggle").click()
    windows = tree.locator(f'[data-path="{top}/Windows"]')
    expect(windows).to_have_attribute("data-count", "2")  # its own and the folder below it
    windows.click()
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    assert query(page)["folder"] == [f"{top}/Windows"]
    page.reload()
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    expect(tree.locator(f'[data-path="{top}/Windows"]')).to_have_attribute("aria-current", "true")
    page.screenshot(path=artifact("organise-folder-chosen.png"), animations="disabled")

    folder.click()  # the whole folder: all three
    expect(grid.get_by_test_id("assembly-name")).to_have_count(3)
    row = grid.get_by_test_id("assembly-name").filter(has_text=f"{top} rotate")
    row.drag_to(tree.locator(f'[data-path="{top}/Windows/Maintenance"]'))
    expect(page.get_by_text(f"Moved {top} rotate to {top}/Windows/Maintenance.")).to_be_visible()
    with engine.api(OPERATOR) as api:
        after = api.get(f"/api/assemblies/{moved['assembly_guid']}").json()
    assert after["category"] == f"{top}/Windows/Maintenance"
    assert after["revision"] == moved["revision"] + 1
    expect(tree.locator(f'[data-path="{top}/Windows/Maintenance"]')).to_have_attribute("data-count", "2")
    expect(tree.locator(f'[data-path="{top}/Linux"]')).to_have_count(0)


def test_a_row_changed_meanwhile_is_not_moved_by_a_drop(page: Page, engine: Engine) -> None:
    top = f"Stale{uuid.uuid4().hex[:6]}"
    create(engine, f"{top} other", f"{top}/Target")
    stale = create(engine, f"{top} edited", f"{top}/Source")
    sign_in(page, OPERATOR)
    search_list(page, top)
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    with engine.api(OPERATOR) as api:  # someone else edits it after the list loaded
        api.put(
            f"/api/assemblies/{stale['assembly_guid']}",
            json={"summary": "edited elsewhere"},
            headers={"If-Match": str(stale["revision"])},
        ).raise_for_status()
    row = grid.get_by_test_id("assembly-name").filter(has_text=f"{top} edited")
    row.drag_to(page.get_by_test_id("folder-tree").locator(f'[data-path="{top}"]').first)
    expect(page.get_by_text(re.compile(r"was changed by someone else"))).to_be_visible()
    with engine.api(OPERATOR) as api:
        after = api.get(f"/api/assemblies/{stale['assembly_guid']}").json()
    assert after["category"] == f"{top}/Source" and after["summary"] == "edited elsewhere"


def test_favourites_are_per_user_kept_by_the_engine_and_filter_the_list(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    prefix = f"Starred {uuid.uuid4().hex[:6]}"
    starred = create(engine, f"{prefix} kept", "Stars")
    create(engine, f"{prefix} plain", "Stars")
    page = new_context().new_page()
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    star = grid.locator(".ag-row", has_text=f"{prefix} kept").get_by_test_id("favourite-star")
    star.click()
    expect(star).to_have_attribute("data-starred", "true")
    page.get_by_test_id("favourites-filter").click()
    expect(grid).to_have_attribute("data-view", "favourites")
    expect(grid.get_by_test_id("assembly-name")).to_have_count(1)
    assert query(page)["favourites"] == ["1"]
    with engine.api(OPERATOR) as api:
        stored = api.get("/api/me/favourites").json()
    assert starred["assembly_guid"] in [item["assembly_guid"] for item in stored["items"]]

    # Another browser of the same user sees the star (the engine keeps it), in the editor too.
    other = new_context().new_page()
    sign_in(other, OPERATOR)
    other.goto(f"/assemblies/{starred['assembly_guid']}")
    editor_star = other.get_by_test_id("favourite-star")
    expect(editor_star).to_have_attribute("data-starred", "true")
    editor_star.click()
    expect(editor_star).to_have_attribute("data-starred", "false")
    page.reload()
    expect(grid.get_by_test_id("assembly-name")).to_have_count(0)

    # Another user's stars are their own.
    admin = new_context().new_page()
    sign_in(admin, ADMIN)
    admin.goto(f"/assemblies/{starred['assembly_guid']}")
    expect(admin.get_by_test_id("favourite-star")).to_have_attribute("data-starred", "false")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1024, 1280, 1440])
def test_organise_screenshots(
    new_context: Callable[..., BrowserContext], engine: Engine, width: int, theme: Literal["light", "dark"]
) -> None:
    create(engine, "Organised cleanup", "Shots/Windows/Maintenance", ["disk", "weekly"])
    create(engine, "Organised report", "Shots/Windows", ["disk"])
    page = new_context(theme).new_page()
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    sign_in(page, OPERATOR)
    page.goto("/?folder=Shots")
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name").first).to_be_visible()
    if width >= 1200:  # beside the grid from 1200 px; narrower, the grid needs the width
        expect(page.get_by_test_id("folder-tree")).to_be_visible()
        expect(page.get_by_test_id("tag-option-disk")).to_be_visible()
    else:  # the folder the address chose still shows, as a chip that clears it
        expect(page.get_by_test_id("organise-panel")).to_have_count(0)
        expect(page.get_by_test_id("active-folder")).to_have_text("Shots")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls {overflow} px sideways at {width} px"
    box = grid.bounding_box()
    last = page.locator('.ag-header-cell[col-id="actions"]').bounding_box()
    assert box is not None and last is not None
    grid_overflow = last["x"] + last["width"] - (box["x"] + box["width"])
    assert grid_overflow <= 1, f"the grid scrolls {grid_overflow} px sideways at {width} px"
    if width > 390:  # beside the tree, Name is still the widest column
        name = page.locator('.ag-header-cell[col-id="display_name"]').bounding_box()
        kind = page.locator('.ag-header-cell[col-id="assembly_type"]').bounding_box()
        assert name is not None and kind is not None and name["width"] > 2 * kind["width"], (name, kind)
    page.screenshot(path=artifact(f"organise-list-{width}-{theme}.png"), animations="disabled")
