"""Two people edit the same assembly: the second save is refused (never overwrites), and
the second person sees what the other changed against their own edits and chooses: keep
theirs, overwrite with mine (after confirming) or save mine as a new copy."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, Literal

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import OPERATOR, Engine, artifact, sign_in

pytestmark = pytest.mark.e2e

ORIGINAL_SCRIPT = "import sys\nprint('hi')\nprint('unchanged line')\n"
THEIR_SCRIPT = "import sys\nprint('hi from them')\nprint('unchanged line')\n"


def shared_assembly(engine: Engine) -> str:
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": f"Shared edit target {uuid.uuid4().hex[:6]}",
                "assembly_kind": "script",
                "assembly_type": "python",
                "summary": "original",
                "category": "shared",
                "payload": {"script": ORIGINAL_SCRIPT},
            },
        ).json()
    return str(created["assembly_guid"])


def stored(engine: Engine, guid: str) -> dict[str, Any]:
    with engine.api(OPERATOR) as api:
        return dict(api.get(f"/api/assemblies/{guid}").json())


def conflicting_save(
    new_context: Callable[..., BrowserContext], engine: Engine, theme: Literal["light", "dark"] = "light"
) -> tuple[Page, str]:
    """The second writer's page with the conflict dialog open: they (in another browser)
    changed the script and the description; you changed the description and the category."""
    guid = shared_assembly(engine)
    first, second = new_context(theme).new_page(), new_context(theme).new_page()
    for page in (first, second):
        sign_in(page, OPERATOR)
        page.goto(f"/assemblies/{guid}")
        expect(page.get_by_test_id("field-description")).to_have_value("original")

    first.get_by_test_id("field-description").fill("first writer")
    first.get_by_test_id("code-editor").locator(".cm-content").click()
    first.keyboard.press("Control+a")
    first.keyboard.insert_text(THEIR_SCRIPT)
    first.get_by_test_id("save").click()
    expect(first.get_by_test_id("notice")).to_contain_text("Saved")

    second.get_by_test_id("field-description").fill("second writer")
    second.get_by_test_id("field-category").fill("mine")
    second.get_by_test_id("save").click()
    expect(second.get_by_test_id("conflict-dialog")).to_be_visible()
    assert stored(engine, guid)["summary"] == "first writer"
    return second, guid


def test_the_conflict_shows_both_sides_and_keeps_the_edits(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    page, guid = conflicting_save(new_context, engine)
    dialog = page.get_by_test_id("conflict-dialog")
    expect(dialog).to_contain_text("olga saved revision 2")
    expect(dialog.get_by_test_id("they-changed")).to_have_text("They changed: Script, Description")
    expect(dialog.get_by_test_id("you-changed")).to_have_text("You changed: Description, Path / Category")
    summary = dialog.get_by_test_id("field-diff-summary")
    expect(summary.get_by_test_id("before")).to_have_text("first writer")
    expect(summary.get_by_test_id("after")).to_have_text("second writer")
    merge = dialog.get_by_test_id("code-diff").locator(".cm-mergeView")
    expect(merge.locator(".cm-editor").nth(0)).to_contain_text("hi from them")
    expect(merge.locator(".cm-editor").nth(1)).not_to_contain_text("hi from them")
    expect(dialog.get_by_test_id("diff-left-label")).to_have_text("Theirs (revision 2)")
    expect(dialog.get_by_test_id("diff-right-label")).to_have_text("Yours (not saved)")
    expect(dialog).not_to_contain_text("{")
    page.screenshot(path=artifact("conflict-dialog-1440.png"))

    # Decide later: the edits stay in the form, and the comparison can be opened again.
    dialog.get_by_test_id("conflict-later").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("field-description")).to_have_value("second writer")
    message = page.get_by_test_id("conflict-message")
    expect(message).to_contain_text("Your changes were not saved, and they are still in the form")
    message.get_by_test_id("conflict-resolve").click()
    expect(page.get_by_test_id("conflict-dialog")).to_be_visible()


def test_keep_theirs_loads_their_version(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    page, guid = conflicting_save(new_context, engine)
    page.get_by_test_id("conflict-keep-theirs").click()
    expect(page.get_by_test_id("conflict-dialog")).to_have_count(0)
    expect(page.get_by_test_id("conflict-message")).to_have_count(0)
    expect(page.get_by_test_id("field-description")).to_have_value("first writer")
    expect(page.get_by_test_id("field-category")).to_have_value("shared")
    expect(page.get_by_test_id("unsaved-badge")).to_have_count(0)
    assert stored(engine, guid)["revision"] == 2


def test_overwrite_with_mine_after_confirming(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    page, guid = conflicting_save(new_context, engine)
    page.get_by_test_id("conflict-overwrite").click()
    confirm = page.get_by_test_id("overwrite-dialog")
    expect(confirm).to_contain_text("their revision 2 stays in the history")
    confirm.get_by_role("button", name="Cancel").click()
    assert stored(engine, guid)["revision"] == 2

    page.get_by_test_id("conflict-overwrite").click()
    page.get_by_test_id("overwrite-dialog").get_by_role("button", name="Overwrite").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    expect(page.get_by_test_id("conflict-dialog")).to_have_count(0)
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 3")
    record = stored(engine, guid)
    # Your changed fields win (the description both changed, your category); their script
    # change, which you did not touch, stays. Saved after their revision.
    assert (record["revision"], record["summary"], record["category"], record["payload"]["script"]) == (
        3,
        "second writer",
        "mine",
        THEIR_SCRIPT,
    )
    with engine.api(OPERATOR) as api:
        history = api.get(f"/api/assemblies/{guid}/revisions").json()
    assert [i["revision"] for i in history["items"]] == [3, 2, 1]


def test_combine_is_offered_only_when_the_changes_do_not_overlap(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    page, _ = conflicting_save(new_context, engine)
    dialog = page.get_by_test_id("conflict-dialog")
    # Both changed the description: no combine, and the dialog says why.
    expect(dialog.get_by_test_id("conflict-combine")).to_have_count(0)
    expect(dialog.get_by_test_id("combine-help")).to_contain_text("you both changed Description differently")


def two_writers(new_context: Callable[..., BrowserContext], engine: Engine) -> tuple[Page, Page, str]:
    guid = shared_assembly(engine)
    first, second = new_context().new_page(), new_context().new_page()
    for page in (first, second):
        sign_in(page, OPERATOR)
        page.goto(f"/assemblies/{guid}")
        expect(page.get_by_test_id("field-description")).to_have_value("original")
    return first, second, guid


def replace_script(page: Page, text: str) -> None:
    page.get_by_test_id("code-editor").locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def test_combine_keeps_their_script_and_my_description(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    first, second, guid = two_writers(new_context, engine)
    replace_script(first, THEIR_SCRIPT)
    first.get_by_test_id("save").click()
    expect(first.get_by_test_id("notice")).to_contain_text("Saved")

    second.get_by_test_id("field-description").fill("only my description")
    second.get_by_test_id("save").click()
    dialog = second.get_by_test_id("conflict-dialog")
    dialog.get_by_test_id("conflict-combine").click()
    # Shown before saving: the form holds both, still unsaved.
    expect(dialog).to_have_count(0)
    expect(second.get_by_test_id("field-description")).to_have_value("only my description")
    expect(second.get_by_test_id("code-editor")).to_contain_text("hi from them")
    expect(second.get_by_test_id("unsaved-badge")).to_be_visible()
    assert stored(engine, guid)["summary"] == "original"
    second.get_by_test_id("save").click()
    expect(second.get_by_test_id("notice")).to_contain_text("Saved")
    record = stored(engine, guid)
    assert (record["revision"], record["summary"], record["payload"]["script"]) == (
        3,
        "only my description",
        THEIR_SCRIPT,
    )


def test_combine_merges_script_lines_that_do_not_touch(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    base = "line 1\nline 2\nline 3\nline 4\nline 5\n"
    guid = shared_assembly(engine)
    with engine.api(OPERATOR) as api:
        api.put(f"/api/assemblies/{guid}", json={"payload": {"script": base}}, headers={"If-Match": "1"})
    first, second = new_context().new_page(), new_context().new_page()
    for page in (first, second):
        sign_in(page, OPERATOR)
        page.goto(f"/assemblies/{guid}")
        expect(page.get_by_test_id("code-editor")).to_contain_text("line 5")
    replace_script(first, base.replace("line 1", "their line 1"))
    first.get_by_test_id("save").click()
    expect(first.get_by_test_id("notice")).to_contain_text("Saved")
    replace_script(second, base.replace("line 5", "my line 5"))
    second.get_by_test_id("save").click()
    second.get_by_test_id("conflict-dialog").get_by_test_id("conflict-combine").click()
    second.get_by_test_id("save").click()
    expect(second.get_by_test_id("notice")).to_contain_text("Saved")
    assert stored(engine, guid)["payload"]["script"] == "their line 1\nline 2\nline 3\nline 4\nmy line 5\n"


def test_save_mine_as_a_new_copy(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    page, guid = conflicting_save(new_context, engine)
    page.get_by_test_id("conflict-save-copy").click()
    copy_dialog = page.get_by_test_id("save-copy-dialog")
    expect(copy_dialog).to_contain_text("Save your version as a new copy")
    name = copy_dialog.get_by_test_id("clone-name")
    expect(name).to_have_value(re.compile(r"Shared edit target \w+ \(copy\)$"))
    page.screenshot(path=artifact("conflict-save-copy-1440.png"), animations="disabled")
    name.fill(f"My version {guid[:6]}")
    copy_dialog.get_by_role("button", name="Save copy").click()
    expect(page.get_by_test_id("notice")).to_contain_text(
        f"Your version was saved as “My version {guid[:6]}”"
    )
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    copy_guid = page.url.rsplit("/", 1)[1]
    assert copy_guid != guid
    expect(page.get_by_test_id("field-description")).to_have_value("second writer")
    copy = stored(engine, copy_guid)
    assert (copy["display_name"], copy["summary"], copy["category"], copy["payload"]["script"]) == (
        f"My version {guid[:6]}",
        "second writer",
        "mine",
        ORIGINAL_SCRIPT,
    )
    original = stored(engine, guid)
    assert (original["revision"], original["summary"], original["payload"]["script"]) == (
        2,
        "first writer",
        THEIR_SCRIPT,
    )


def test_conflict_dialog_dark_and_phone(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    page, _ = conflicting_save(new_context, engine, "dark")
    expect(page.get_by_test_id("code-diff").locator(".cm-mergeView")).to_be_visible()
    page.screenshot(path=artifact("conflict-dialog-dark-1440.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("code-diff").locator(".cm-deletedChunk").first).to_be_visible()
    box = page.get_by_test_id("conflict-dialog").get_by_role("dialog").bounding_box()
    assert box is not None and box["width"] <= 390
    page.screenshot(path=artifact("conflict-dialog-390.png"))
    content = page.get_by_test_id("conflict-dialog").locator(".MuiDialogContent-root")
    content.evaluate("element => element.scrollTo(0, 1e6)")
    page.screenshot(path=artifact("conflict-dialog-390-end.png"))
