"""The editor's History panel: revisions listed, a revision compared with the current one
(fields and a merge view of the code), Restore with its confirmation and its refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.support import ADMIN, DEV_MODE_REASON, OPERATOR, Engine, artifact, dev_mode_api, sign_in

pytestmark = pytest.mark.e2e


def three_revisions(engine: Engine) -> dict[str, Any]:
    """An operator's script at revision 3: created, summary and script changed, then renamed."""
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": f"History target {uuid.uuid4().hex[:6]}",
                "assembly_kind": "script",
                "assembly_type": "python",
                "summary": "first summary",
                "payload": {"script": "import os\nprint('one')\nprint('same')\n"},
            },
        ).json()
        guid = created["assembly_guid"]
        api.put(
            f"/api/assemblies/{guid}",
            headers={"If-Match": "1"},
            json={
                "summary": "second summary",
                "payload": {"script": "import os\nprint('two')\nprint('same')\n"},
            },
        ).raise_for_status()
        return api.put(
            f"/api/assemblies/{guid}",
            headers={"If-Match": "2"},
            json={"display_name": created["display_name"] + " renamed"},
        ).json()


def open_editor(page: Page, guid: str) -> None:
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("history-item").first).to_be_visible()
    # An editable script's check answer adds the Problems panel above History; wait for it
    # so no click lands on a row that is about to move (read-only views have no panel).
    expect(page.get_by_test_id("problems").or_(page.get_by_test_id("read-only-banner"))).to_be_visible()


def test_history_lists_revisions_and_shows_the_diff(page: Page, engine: Engine) -> None:
    record = three_revisions(engine)
    guid = record["assembly_guid"]
    sign_in(page, OPERATOR)
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.url) if r.url.endswith(".js") else None)
    open_editor(page, guid)

    items = page.get_by_test_id("history-item")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_have_attribute("data-revision", "3")
    expect(items.nth(0).get_by_test_id("history-current")).to_be_visible()
    expect(items.nth(0).get_by_test_id("history-who")).to_contain_text("Updated")
    expect(items.nth(0).get_by_test_id("history-who")).to_contain_text("by olga")
    expect(items.nth(0).get_by_test_id("history-changed")).to_have_text("Name")
    expect(items.nth(1).get_by_test_id("history-changed")).to_contain_text("Description")
    expect(items.nth(1).get_by_test_id("history-changed")).to_contain_text("Content")
    expect(items.nth(2).get_by_test_id("history-who")).to_contain_text("Created")
    # The merge view is not part of the editor's load: opening a comparison fetches it.
    page.wait_for_load_state("networkidle")
    loaded = len(scripts)

    items.nth(2).click()
    dialog = page.get_by_test_id("revision-dialog")
    expect(dialog).to_contain_text("Revision 1 compared with the current revision (3)")
    summary = dialog.get_by_test_id("field-diff-summary")
    expect(summary.get_by_test_id("before")).to_have_text("first summary")
    expect(summary.get_by_test_id("after")).to_have_text("second summary")
    expect(dialog.get_by_test_id("field-diff-display_name").get_by_test_id("after")).to_have_text(
        record["display_name"]
    )
    merge = dialog.get_by_test_id("code-diff").locator(".cm-mergeView")
    expect(merge.locator(".cm-editor")).to_have_count(2)
    expect(merge.locator(".cm-editor").nth(0)).to_contain_text("print('one')")
    expect(merge.locator(".cm-editor").nth(1)).to_contain_text("print('two')")
    expect(merge.locator(".cm-changedLine").first).to_be_visible()
    expect(dialog.get_by_test_id("diff-left-label")).to_contain_text("Revision 1")
    expect(dialog.get_by_test_id("diff-right-label")).to_have_text("Current (revision 3)")
    assert len(scripts) == loaded + 1, scripts[loaded:]
    page.screenshot(path=artifact("history-diff-1440.png"))
    dialog.get_by_test_id("revision-close").click()
    expect(dialog).to_have_count(0)
    page.locator('[data-testid="history"]').screenshot(path=artifact("history-panel-1440.png"))


def test_restore_after_confirming_makes_a_new_revision(page: Page, engine: Engine) -> None:
    record = three_revisions(engine)
    guid = record["assembly_guid"]
    sign_in(page, OPERATOR)
    open_editor(page, guid)
    page.get_by_test_id("field-category").fill("unsaved edit")

    page.locator('[data-testid="history-item"][data-revision="1"]').click()
    page.get_by_test_id("restore").click()
    confirm = page.get_by_test_id("restore-dialog")
    expect(confirm).to_contain_text("Restore revision 1?")
    expect(confirm).to_contain_text("becomes a new revision 4")
    expect(confirm.get_by_test_id("restore-loses-edits")).to_be_visible()
    page.screenshot(path=artifact("history-restore-confirm-1440.png"), animations="disabled")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_have_count(0)
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{guid}").json()["revision"] == 3

    page.get_by_test_id("restore").click()
    page.get_by_test_id("restore-dialog").get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Revision 1 restored as revision 4")
    expect(page.get_by_test_id("revision-dialog")).to_have_count(0)
    expect(page.get_by_test_id("field-description")).to_have_value("first summary")
    expect(page.get_by_test_id("field-category")).to_have_value("")
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 4")
    items = page.get_by_test_id("history-item")
    expect(items).to_have_count(4)
    expect(items.nth(0).get_by_test_id("history-who")).to_contain_text("Restored")
    with engine.api(OPERATOR) as api:
        now = api.get(f"/api/assemblies/{guid}").json()
        history = api.get(f"/api/assemblies/{guid}/revisions").json()
    assert (now["revision"], now["summary"], now["payload"]["script"]) == (
        4,
        "first summary",
        "import os\nprint('one')\nprint('same')\n",
    )
    assert [i["action"] for i in history["items"]] == ["restore", "update", "update", "create"]


def test_restore_refused_as_stale_says_so_and_changes_nothing(page: Page, engine: Engine) -> None:
    record = three_revisions(engine)
    guid = record["assembly_guid"]
    sign_in(page, OPERATOR)
    open_editor(page, guid)
    with engine.api(OPERATOR) as api:
        api.put(
            f"/api/assemblies/{guid}", headers={"If-Match": "3"}, json={"summary": "someone else"}
        ).raise_for_status()

    page.locator('[data-testid="history-item"][data-revision="1"]').click()
    page.get_by_test_id("restore").click()
    confirm = page.get_by_test_id("restore-dialog")
    confirm.get_by_role("button", name="Restore").click()
    expect(confirm.get_by_role("alert")).to_contain_text("Someone else changed this assembly")
    expect(confirm.get_by_role("alert")).to_contain_text("nothing was restored")
    with engine.api(OPERATOR) as api:
        now = api.get(f"/api/assemblies/{guid}").json()
    assert (now["revision"], now["summary"]) == (4, "someone else")
    confirm.get_by_role("button", name="Cancel").click()
    page.get_by_test_id("revision-close").click()
    # Closing re-reads the history: the other person's revision is listed.
    expect(page.get_by_test_id("history-item")).to_have_count(4)


def community_with_history(engine: Engine) -> str:
    with engine.api(ADMIN) as api:
        api.post(
            "/api/assemblies/dev-mode/switch",
            json={"enabled": True, "password": ADMIN[1], "reason": DEV_MODE_REASON},
        ).raise_for_status()
        guid = api.post(
            "/api/assemblies",
            json={
                "domain": "community",
                "display_name": f"Community history {uuid.uuid4().hex[:6]}",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "summary": "v1",
                "payload": {"script": "echo one\n"},
            },
        ).json()["assembly_guid"]
        api.put(
            f"/api/assemblies/{guid}",
            headers={"If-Match": "1"},
            json={"summary": "v2", "payload": {"script": "echo two\n"}},
        ).raise_for_status()
        api.post("/api/auth/logout")
    return guid


def test_history_is_readable_without_write_rights_and_restore_follows_save(
    new_context: Callable[..., BrowserContext], engine: Engine
) -> None:
    guid = community_with_history(engine)
    operator = new_context().new_page()
    sign_in(operator, OPERATOR)
    open_editor(operator, guid)
    expect(operator.get_by_test_id("read-only-banner")).to_be_visible()
    expect(operator.get_by_test_id("history-item")).to_have_count(2)
    operator.locator('[data-testid="history-item"][data-revision="1"]').click()
    dialog = operator.get_by_test_id("revision-dialog")
    expect(dialog.get_by_test_id("code-diff").locator(".cm-mergeView")).to_be_visible()
    expect(dialog.get_by_test_id("restore")).to_have_count(0)

    # An admin in Dev Mode may restore; when Dev Mode ended meanwhile (another tab), the
    # engine's refusal is shown and nothing changes.
    admin = new_context().new_page()
    sign_in(admin, ADMIN)
    assert dev_mode_api(admin, True) == 200
    admin.reload()
    open_editor(admin, guid)
    admin.locator('[data-testid="history-item"][data-revision="1"]').click()
    admin.get_by_test_id("restore").click()
    assert dev_mode_api(admin, False) == 200
    confirm = admin.get_by_test_id("restore-dialog")
    confirm.get_by_role("button", name="Restore").click()
    expect(confirm.get_by_role("alert")).to_contain_text("You may not change this assembly now")
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{guid}").json()["revision"] == 2


def test_history_and_diff_on_a_phone(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    record = three_revisions(engine)
    context = new_context()
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, OPERATOR)
    open_editor(page, record["assembly_guid"])
    page.get_by_test_id("history").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifact("history-panel-390.png"))
    page.locator('[data-testid="history-item"][data-revision="1"]').click()
    dialog = page.get_by_test_id("revision-dialog")
    # One column on a phone: the removed lines above the added ones.
    expect(dialog.get_by_test_id("code-diff").locator(".cm-deletedChunk").first).to_be_visible()
    expect(dialog.get_by_test_id("code-diff").locator(".cm-mergeView")).to_have_count(0)
    box = dialog.get_by_test_id("diff-view").bounding_box()
    assert box is not None and box["width"] <= 390
    page.screenshot(path=artifact("history-diff-390.png"))


def test_what_a_revision_changed_against_its_parent(page: Page, engine: Engine) -> None:
    record = three_revisions(engine)
    sign_in(page, OPERATOR)
    open_editor(page, record["assembly_guid"])
    dialog = page.get_by_test_id("revision-dialog")

    page.locator('[data-testid="history-item"][data-revision="2"]').click()
    expect(dialog.get_by_test_id("revision-title")).to_have_text(
        "Revision 2 compared with the current revision (3)"
    )
    dialog.get_by_test_id("compare-parent").click()
    expect(dialog.get_by_test_id("revision-title")).to_have_text(
        "What revision 2 changed (compared with revision 1)"
    )
    summary = dialog.get_by_test_id("field-diff-summary")
    expect(summary.get_by_test_id("before")).to_have_text("first summary")
    expect(summary.get_by_test_id("after")).to_have_text("second summary")
    expect(dialog.get_by_test_id("field-diff-display_name")).to_have_count(0)  # renamed only in 3
    merge = dialog.get_by_test_id("code-diff").locator(".cm-mergeView .cm-editor")
    expect(merge.nth(0)).to_contain_text("print('one')")
    expect(merge.nth(1)).to_contain_text("print('two')")
    expect(dialog.get_by_test_id("diff-right-label")).to_contain_text("Revision 2")
    expect(dialog.get_by_test_id("restore")).to_be_visible()  # restoring 2 is still offered
    dialog.get_by_test_id("revision-close").click()

    # The current revision opens on what it changed (against itself there is nothing).
    page.locator('[data-testid="history-item"][data-revision="3"]').click()
    expect(dialog.get_by_test_id("revision-title")).to_have_text(
        "What revision 3 changed (compared with revision 2)"
    )
    expect(dialog.get_by_test_id("field-diff-display_name").get_by_test_id("after")).to_have_text(
        record["display_name"]
    )
    expect(dialog.get_by_test_id("field-diff-summary")).to_have_count(0)
    expect(dialog.get_by_test_id("compare-current")).to_be_disabled()
    dialog.get_by_test_id("revision-close").click()

    page.locator('[data-testid="history-item"][data-revision="1"]').click()
    dialog.get_by_test_id("compare-parent").click()
    expect(dialog.get_by_test_id("revision-first")).to_be_visible()
    expect(dialog.get_by_test_id("revision-title")).to_have_text("What revision 1 changed")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_any_two_revisions_compare_side_by_side(
    new_context: Callable[..., BrowserContext], engine: Engine, theme: str, width: int
) -> None:
    record = three_revisions(engine)
    page = new_context(theme).new_page()
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, OPERATOR)
    open_editor(page, record["assembly_guid"])
    picks = page.get_by_test_id("history-pick")
    expect(page.get_by_test_id("history-compare")).to_have_count(0)

    def toggle(row: int, checked: bool) -> None:
        # The hint above the rows changes with the first pick and moves them: a click at a
        # position taken before that move can land beside the box on a loaded machine.
        picks.nth(row).dispatch_event("click")
        expect(picks.nth(row)).to_be_checked(checked=checked)

    toggle(2, True)  # revision 1
    toggle(1, True)  # revision 2
    toggle(0, True)  # revision 3: a third pick replaces the first
    expect(picks.nth(2)).not_to_be_checked()
    toggle(1, False)
    toggle(2, True)
    compare = page.get_by_test_id("history-compare")
    expect(compare).to_have_text("Compare 1 with 3")
    page.get_by_test_id("history-panel").screenshot(path=artifact(f"history-picked-{width}-{theme}.png"))
    compare.click()
    dialog = page.get_by_test_id("revision-dialog")
    expect(dialog.get_by_test_id("revision-title")).to_have_text("Revision 1 compared with revision 3")
    expect(dialog.get_by_test_id("compare-parent")).to_have_count(0)
    expect(dialog.get_by_test_id("restore")).to_have_count(0)  # restore belongs to one revision
    summary = dialog.get_by_test_id("field-diff-summary")
    expect(summary.get_by_test_id("before")).to_have_text("first summary")
    expect(summary.get_by_test_id("after")).to_have_text("second summary")
    expect(dialog.get_by_test_id("field-diff-display_name")).to_be_visible()
    if width > 600:  # a phone shows one column, its labels inline
        expect(dialog.get_by_test_id("diff-left-label")).to_contain_text("Revision 1")
        expect(dialog.get_by_test_id("diff-right-label")).to_contain_text("Revision 3")
    else:
        expect(dialog).to_contain_text("+ Revision 3")
    expect(dialog.get_by_test_id("code-diff").locator(".cm-editor").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=artifact(f"history-compare-{width}-{theme}.png"), animations="disabled")
