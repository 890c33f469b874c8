"""Never lose an edit: every way out of an editor with unsaved changes asks first."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.support import OPERATOR, Engine, search_list, sign_in

pytestmark = pytest.mark.e2e

PROMPT = "You have unsaved changes. Leave anyway?"


class Prompts:
    """Answers the page's confirm() prompts in turn and remembers what they said."""

    def __init__(self, page: Page) -> None:
        self.seen: list[str] = []
        self.answers: list[bool] = []
        page.on("dialog", self._answer)

    def _answer(self, dialog: Dialog) -> None:
        self.seen.append(dialog.message)
        if self.answers.pop(0) if self.answers else False:
            dialog.accept()
        else:
            dialog.dismiss()


def a_user_script(engine: Engine) -> tuple[str, str]:
    name = f"Guarded {uuid.uuid4().hex[:8]}"
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "category": "script",
                "summary": "before",
                "payload": {"script": "true\n"},
            },
        ).json()
    return name, created["assembly_guid"]


def open_from_list(page: Page, name: str, guid: str) -> None:
    search_list(page, name)
    page.locator(f'.ag-row[row-id="{guid}"]').get_by_test_id("assembly-name").click()
    expect(page).to_have_url(re.compile(f"/assemblies/{guid}$"))
    expect(page.get_by_test_id("field-description")).to_have_value("before")


def test_back_button_logo_and_sign_out_ask_before_dropping_edits(page: Page, engine: Engine) -> None:
    name, guid = a_user_script(engine)
    prompts = Prompts(page)
    sign_in(page, OPERATOR)
    open_from_list(page, name, guid)

    # Nothing changed yet: Back leaves without a question.
    page.evaluate("history.back()")
    expect(page.get_by_test_id("assembly-grid")).to_be_visible()
    assert prompts.seen == []
    page.evaluate("history.forward()")
    expect(page.get_by_test_id("field-description")).to_have_value("before")

    page.get_by_test_id("field-description").fill("my unsaved edit")
    expect(page).to_have_title(re.compile(r"^• " + re.escape(name)))

    # The browser's Back button: refused, the editor and the edit stay.
    page.evaluate("history.back()")
    page.wait_for_function("guid => window.location.pathname.endsWith(guid)", arg=guid)
    expect(page.get_by_test_id("field-description")).to_have_value("my unsaved edit")
    assert prompts.seen == [PROMPT]

    # The top-bar logo: refused too.
    page.get_by_test_id("logo").click()
    expect(page.get_by_test_id("field-description")).to_have_value("my unsaved edit")
    assert prompts.seen == [PROMPT, PROMPT]
    assert page.url.endswith(guid)

    # Sign out: refused, still signed in.
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("field-description")).to_have_value("my unsaved edit")
    assert len(prompts.seen) == 3

    # "Back to list", accepted this time: the list, and the edit is dropped.
    prompts.answers.append(True)
    page.get_by_role("button", name="Back to list").click()
    expect(page.get_by_test_id("assembly-grid")).to_be_visible()
    assert len(prompts.seen) == 4
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{guid}").json()["summary"] == "before"

    # After a save nothing is unsaved: leaving asks nothing.
    open_from_list(page, name, guid)
    page.get_by_test_id("field-description").fill("saved edit")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 2")
    page.get_by_test_id("logo").click()
    expect(page.get_by_test_id("assembly-grid")).to_be_visible()
    assert len(prompts.seen) == 4


def test_browser_back_accepted_leaves_the_editor(page: Page, engine: Engine) -> None:
    name, guid = a_user_script(engine)
    prompts = Prompts(page)
    sign_in(page, OPERATOR)
    open_from_list(page, name, guid)
    page.get_by_test_id("field-description").fill("thrown away")
    prompts.answers.append(True)
    page.evaluate("history.back()")
    expect(page.get_by_test_id("assembly-grid")).to_be_visible()
    assert prompts.seen == [PROMPT]
    assert not page.url.endswith(guid)


def test_an_imported_form_counts_as_unsaved(page: Page, engine: Engine, tmp_path: Path) -> None:
    document = tmp_path / "Imported Guard.json"
    document.write_text(
        json.dumps(
            {
                "name": f"Imported guard {uuid.uuid4().hex[:6]}",
                "type": "bash",
                "description": "from a file",
                "script": "echo imported\n",
            }
        )
    )
    prompts = Prompts(page)
    sign_in(page, OPERATOR)
    page.get_by_test_id("new-assembly").click()
    page.get_by_test_id("new-script").click()
    expect(page.get_by_test_id("field-name")).to_be_visible()
    page.get_by_test_id("import-export").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("import-json").click()
    chooser.value.set_files(document)
    expect(page.get_by_test_id("field-description")).to_have_value("from a file")
    expect(page.get_by_test_id("unsaved-badge")).to_be_visible()

    page.get_by_role("button", name="Back to list").click()
    expect(page.get_by_test_id("field-description")).to_have_value("from a file")
    assert prompts.seen == [PROMPT]
    page.evaluate("history.back()")
    page.wait_for_function("() => window.location.pathname.startsWith('/assemblies/new/')")
    expect(page.get_by_test_id("field-description")).to_have_value("from a file")
    assert prompts.seen == [PROMPT, PROMPT]

    # Saving the import is not "leaving": no prompt, and the record exists.
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    expect(page.get_by_test_id("unsaved-badge")).to_have_count(0)
    page.get_by_role("button", name="Back to list").click()
    expect(page.get_by_test_id("assembly-grid")).to_be_visible()
    assert len(prompts.seen) == 2


def test_closing_the_tab_with_an_import_asks(page: Page, tmp_path: Path) -> None:
    document = tmp_path / "Unload.json"
    document.write_text(json.dumps({"name": "Unload guard", "type": "bash", "script": "echo\n"}))
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    page.get_by_test_id("import-export").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("import-json").click()
    chooser.value.set_files(document)
    expect(page.get_by_test_id("field-name")).to_have_value("Unload guard")
    kinds: list[str] = []

    def answer(dialog: Dialog) -> None:
        kinds.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    page.wait_for_function("() => true")  # a round trip: the prompt has been answered by now
    assert kinds == ["beforeunload"]
    assert not page.is_closed()
    expect(page.get_by_test_id("field-name")).to_have_value("Unload guard")
