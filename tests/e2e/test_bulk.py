"""Bulk actions in the list (issue 29, "Bulk"): rows selected with their checkboxes, then one
request per action; the toolbar says what was done and lists what the engine refused.
"bulk delete → undo" brings every deleted row back with one more request."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, DEV_MODE_REASON, OPERATOR, Engine, artifact, search_list, sign_in

pytestmark = pytest.mark.e2e


def _plant(engine: Engine, prefix: str, count: int, community: int = 0) -> dict[str, str]:
    """``count`` user assemblies (and ``community`` community ones) named ``prefix …``: name
    -> id. (Not official: other tests of this engine expect every official one signed.)"""
    made: dict[str, str] = {}
    bodies: list[tuple[tuple[str, str], dict[str, Any]]] = []
    for n in range(count):
        bodies.append((OPERATOR, {"domain": "user", "display_name": f"{prefix} user {n}"}))
    for n in range(community):
        bodies.append((ADMIN, {"domain": "community", "display_name": f"{prefix} community {n}"}))
    with engine.api(ADMIN) as admin, engine.api(OPERATOR) as operator:
        if community:
            switched = admin.post(
                "/api/assemblies/dev-mode/switch",
                json={"enabled": True, "password": ADMIN[1], "reason": DEV_MODE_REASON},
            )
            assert switched.status_code == 200, switched.text
        for who, body in bodies:
            client = admin if who == ADMIN else operator
            response = client.post(
                "/api/assemblies",
                json={
                    **body,
                    "assembly_kind": "script",
                    "assembly_type": "bash",
                    "payload": {"script": "echo hi\n"},
                },
            )
            assert response.status_code == 201, response.text
            made[body["display_name"]] = response.json()["assembly_guid"]
    return made


def _select(page: Page, count: int, rows: int | None = None) -> None:
    """Tick the first ``count`` of the ``rows`` rows shown (all of them by default)."""
    boxes = page.locator(".ag-row .ag-selection-checkbox input")
    expect(boxes).to_have_count(rows or count)
    for index in range(count):
        boxes.nth(index).check()
    expect(page.get_by_test_id("bulk-count")).to_have_text(f"{count} selected")


def test_bulk_delete_then_undo_brings_every_one_back(page: Page, engine: Engine) -> None:
    prefix = f"Bulk del {uuid.uuid4().hex[:6]}"
    made = _plant(engine, prefix, 3, community=1)
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    expect(page.get_by_test_id("assembly-name")).to_have_count(4)
    _select(page, 4)
    page.get_by_test_id("bulk-delete-button").click()
    dialog = page.get_by_test_id("bulk-delete-dialog")
    expect(dialog).to_contain_text("Delete 4 assemblies?")
    dialog.get_by_role("button", name="Delete").click()
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("3 deleted, 1 refused.")
    refusals = page.get_by_test_id("bulk-refusals")
    expect(refusals).to_contain_text(f"{prefix} community 0")
    expect(refusals).to_contain_text("User-Created")  # the operator's refusal says what to do instead
    page.screenshot(path=str(artifact("bulk-delete-refused.png")))
    expect(page.get_by_test_id("assembly-name")).to_have_text([f"{prefix} community 0"])
    expect(page.get_by_test_id("bulk-toolbar")).to_have_count(0)
    with engine.api(OPERATOR) as api:
        assert all(
            api.get(f"/api/assemblies/{made[f'{prefix} user {n}']}").status_code == 404 for n in range(3)
        )

    notice.get_by_test_id("notice-action").click()
    expect(page.get_by_test_id("notice")).to_contain_text("3 back.")
    expect(page.get_by_test_id("assembly-name")).to_have_count(4)
    with engine.api(OPERATOR) as api:
        assert all(api.get(f"/api/assemblies/{guid}").status_code == 200 for guid in made.values())


def test_bulk_tags_category_and_clone(page: Page, engine: Engine) -> None:
    prefix = f"Bulk edit {uuid.uuid4().hex[:6]}"
    made = _plant(engine, prefix, 2)
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    _select(page, 2)
    page.get_by_test_id("bulk-tags-button").click()
    page.get_by_test_id("bulk-tags").fill("nightly, patching, nightly")
    page.get_by_test_id("bulk-tags-dialog").get_by_role("button", name="Add tags").click()
    expect(page.get_by_test_id("notice")).to_contain_text("2 tagged.")

    page.reload()  # rows at their new revisions (a category change is made on the row's revision)
    _select(page, 2)
    page.get_by_test_id("bulk-category-button").click()
    page.get_by_test_id("bulk-category").fill("Linux/Maintenance")
    page.get_by_test_id("bulk-category-dialog").get_by_role("button", name="Set category").click()
    expect(page.get_by_test_id("notice")).to_contain_text("2 moved.")
    with engine.api(OPERATOR) as api:
        for guid in made.values():
            record = api.get(f"/api/assemblies/{guid}").json()
            assert record["tags"] == ["nightly", "patching"]
            assert record["category"] == "Linux/Maintenance"

    _select(page, 2)
    page.get_by_test_id("bulk-clone-button").click()
    page.get_by_test_id("bulk-clone-dialog").get_by_role("button", name="Clone").click()
    expect(page.get_by_test_id("notice")).to_contain_text("2 cloned.")
    expect(page.get_by_test_id("assembly-name")).to_have_count(4)


def test_bulk_export_downloads_a_library_zip(page: Page, engine: Engine) -> None:
    prefix = f"Bulk zip {uuid.uuid4().hex[:6]}"
    made = _plant(engine, prefix, 2)
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    _select(page, 2)
    with page.expect_download() as waiting:
        page.get_by_test_id("bulk-export").click()
    download = waiting.value
    assert download.suggested_filename.endswith(".zip")
    path = download.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = set(archive.namelist())
        assert {f"{prefix} user 0.sh", f"{prefix} user 1.sh"} <= names, names
        assert archive.read(f"{prefix} user 0.sh") == b"echo hi\n"
        assert ".assembly-export.json" in names
        assert all(guid in archive.read(".assembly-export.json").decode() for guid in made.values())
    expect(page.get_by_test_id("notice")).to_contain_text("2 exported as a zip.")


@pytest.mark.parametrize("width", [1280, 390])
def test_bulk_toolbar_screenshots(page: Page, engine: Engine, width: int) -> None:
    prefix = f"Bulk look {uuid.uuid4().hex[:6]}"
    _plant(engine, prefix, 3)
    page.set_viewport_size({"width": width, "height": 860})
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    _select(page, 2, rows=3)
    toolbar = page.get_by_test_id("bulk-toolbar")
    expect(toolbar).to_be_visible()
    # Every action is reachable without scrolling sideways.
    for test_id in (
        "bulk-export",
        "bulk-category-button",
        "bulk-tags-button",
        "bulk-clone-button",
        "bulk-delete-button",
    ):
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (test_id, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(artifact(f"bulk-toolbar-{width}.png")))


def test_a_row_changed_elsewhere_is_refused_and_named(page: Page, engine: Engine) -> None:
    """The category is set on the revision each row showed: a row someone changed since is
    refused (409 conflict, named with the engine's sentence), the other is moved."""
    prefix = f"Bulk stale {uuid.uuid4().hex[:6]}"
    made = _plant(engine, prefix, 2)
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    _select(page, 2)
    with engine.api(OPERATOR) as api:
        changed = api.put(
            f"/api/assemblies/{made[f'{prefix} user 1']}", json={"summary": "changed elsewhere"}
        )
        assert changed.status_code == 200, changed.text
    page.get_by_test_id("bulk-category-button").click()
    page.get_by_test_id("bulk-category").fill("Moved")
    page.get_by_test_id("bulk-category-dialog").get_by_role("button", name="Set category").click()
    expect(page.get_by_test_id("notice")).to_contain_text("1 moved, 1 refused.")
    expect(page.get_by_test_id("bulk-refusals")).to_contain_text(f"{prefix} user 1")
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{made[f'{prefix} user 0']}").json()["category"] == "Moved"
        assert api.get(f"/api/assemblies/{made[f'{prefix} user 1']}").json()["category"] != "Moved"


def test_rows_are_selected_from_the_keyboard(page: Page, engine: Engine) -> None:
    """Space ticks the focused row, as a click on its checkbox does."""
    prefix = f"Bulk keys {uuid.uuid4().hex[:6]}"
    _plant(engine, prefix, 2)
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    expect(page.get_by_test_id("assembly-name")).to_have_count(2)
    page.locator('.ag-row [col-id="display_name"]').first.click(position={"x": 4, "y": 4})
    page.keyboard.press("Space")
    expect(page.get_by_test_id("bulk-count")).to_have_text("1 selected")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
    page.keyboard.press("Space")
    expect(page.get_by_test_id("bulk-count")).to_have_text("1 selected")


def test_the_header_checkbox_ticks_the_rows_of_the_page(page: Page, engine: Engine) -> None:
    prefix = f"Bulk page {uuid.uuid4().hex[:6]}"
    _plant(engine, prefix, 3)
    sign_in(page, OPERATOR)
    search_list(page, prefix)
    expect(page.get_by_test_id("assembly-name")).to_have_count(3)
    header = page.get_by_test_id("bulk-select-page")
    header.check()
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 selected")
    page.locator(".ag-row .ag-selection-checkbox input").first.uncheck()
    expect(page.get_by_test_id("bulk-count")).to_have_text("2 selected")
    header.click()  # some ticked: ticks the rest
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 selected")
    header.click()  # all ticked: clears them
    expect(page.get_by_test_id("bulk-toolbar")).to_have_count(0)
