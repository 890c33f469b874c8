"""Editor details: variables, attached files (upload, download, remove), workflow preview."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, open_new_script, sign_in
from tests.support import CORPUS

pytestmark = pytest.mark.e2e


def test_variables_and_attached_files(page: Page, engine: Engine, tmp_path: Path) -> None:
    attachment = tmp_path / "settings.bin"
    attachment.write_bytes(b"hello\x00world\xff")
    sign_in(page, OPERATOR)
    open_new_script(page)
    name = f"E2E files {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("field-name").fill(name)
    page.get_by_test_id("field-timeout").fill("120")
    page.get_by_test_id("sites-specific").click()
    page.get_by_label("Site ids (comma separated)").fill("3, 7")
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("variable-name").fill("Target")
    page.get_by_test_id("variable-label").fill("Target folder")
    page.get_by_test_id("variable-default").fill("C:\\Temp")
    page.get_by_test_id("file-input").set_input_files(attachment)
    expect(page.get_by_test_id("file-row")).to_contain_text("settings.bin")
    page.get_by_test_id("code-editor").locator(".cm-content").click()
    page.keyboard.type("Get-Content $env:Target")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    guid = page.url.rsplit("/", 1)[1]

    with engine.api(OPERATOR) as api:
        record = api.get(f"/api/assemblies/{guid}").json()
        assert record["metadata"]["timeout_seconds"] == 120
        assert record["metadata"]["sites"] == {"mode": "specific", "values": ["3", "7"]}
        assert record["metadata"]["variables"] == [
            {
                "name": "Target",
                "label": "Target folder",
                "type": "string",
                "default": "C:\\Temp",
                "required": False,
                "description": "",
            }
        ]
        assert [(f["file_name"], f["size"]) for f in record["payload"]["files"]] == [("settings.bin", 12)]

    # The saved file downloads with the same bytes; removing it and saving drops it.
    row = page.get_by_test_id("file-row")
    with page.expect_download() as download:
        row.get_by_role("button", name="Download").click()
    assert Path(download.value.path()).read_bytes() == attachment.read_bytes()
    assert download.value.suggested_filename == "settings.bin"

    # Changing only the script keeps the file (sent by name, bytes kept by the engine).
    page.get_by_test_id("code-editor").locator(".cm-content").click()
    page.keyboard.press("End")
    page.keyboard.type(" | Out-Host")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 2")
    with engine.api(OPERATOR) as api:
        record = api.get(f"/api/assemblies/{guid}").json()
        assert record["payload"]["script"] == "Get-Content $env:Target | Out-Host"
        assert [f["file_name"] for f in record["payload"]["files"]] == ["settings.bin"]

    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_test_id("file-row")).to_have_count(0)
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 3")
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{guid}").json()["payload"]["files"] == []


@pytest.mark.parametrize("name", ["Math Operations", "Value Parser"])
def test_workflow_preview_draws_nodes_and_edges(page: Page, name: str) -> None:
    path = CORPUS / "workflows" / f"{name}.json"
    workflow = json.loads(path.read_text(encoding="utf-8"))
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/workflow")
    page.get_by_test_id("import-input").set_input_files(path)
    expect(page.get_by_test_id("field-name")).to_have_value(workflow["tab_name"])
    preview = page.get_by_test_id("workflow-preview")
    expect(preview.get_by_test_id("workflow-node")).to_have_count(len(workflow["nodes"]))
    expect(preview.get_by_test_id("workflow-edge")).to_have_count(len(workflow["edges"]))
    expect(preview).to_contain_text(workflow["nodes"][0]["data"]["label"][:10])


def test_closing_the_tab_with_unsaved_edits_asks_first(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    page.get_by_test_id("field-name").fill(f"E2E unsaved {uuid.uuid4().hex[:6]}")
    page.get_by_test_id("code-editor").locator(".cm-content").click()
    page.keyboard.type("Write-Host 'not saved yet'")
    asked: list[str] = []

    def stay(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.type)
        dialog.dismiss()  # "Stay on page"

    page.on("dialog", stay)
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert not page.is_closed()  # the edit is still there to save
    expect(page.get_by_test_id("code-editor")).to_contain_text("not saved yet")


def test_a_saved_editor_closes_without_asking(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    page.get_by_test_id("field-name").fill(f"E2E saved {uuid.uuid4().hex[:6]}")
    page.get_by_test_id("field-type").click()
    page.get_by_test_id("type-bash").click()
    page.get_by_test_id("code-editor").locator(".cm-content").click()
    page.keyboard.type("echo saved")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    expect(page.get_by_test_id("save")).to_be_disabled()  # nothing left to save
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    with page.expect_event("close", timeout=5000):
        page.close(run_before_unload=True)
    assert asked == []
