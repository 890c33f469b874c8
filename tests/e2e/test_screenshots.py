"""Screenshots of the list and the editor in both themes, saved under test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, artifact, hold_write_lock, sign_in

pytestmark = pytest.mark.e2e


def first_of_kind(engine: Engine, kind: str) -> str:
    with engine.api() as api:
        items = api.get("/api/assemblies", params={"kind": kind, "limit": 50}).json()["items"]
        # List items leave metadata out: the detail has it.
        details = [api.get(f"/api/assemblies/{i['assembly_guid']}").json() for i in items]
    with_variables = [i for i in details if i["metadata"].get("variables")]
    return (with_variables or items)[0]["assembly_guid"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots(
    new_context: Callable[..., BrowserContext], engine: Engine, theme: Literal["light", "dark"]
) -> None:
    page = new_context(theme).new_page()
    page.goto("/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.screenshot(path=artifact(f"sign-in-{theme}.png"), animations="disabled")
    sign_in(page, ADMIN)
    expect(page.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first).to_be_visible()
    expect(page.get_by_test_id("domain-chip-all").get_by_test_id("chip-count")).not_to_have_text("…")
    page.screenshot(path=artifact(f"list-{theme}.png"), animations="disabled")

    with engine.api(OPERATOR) as api:
        gone = api.post(
            "/api/assemblies",
            json={
                "display_name": f"Deleted example ({theme})",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "category": "script",
                "payload": {"script": "true\n"},
            },
        ).json()
        api.delete(f"/api/assemblies/{gone['assembly_guid']}").raise_for_status()
    page.get_by_test_id("deleted-view").click()
    expect(page.get_by_test_id("deleted-name").first).to_be_visible()
    page.screenshot(path=artifact(f"list-deleted-{theme}.png"), animations="disabled")
    page.get_by_test_id("deleted-view").click()
    expect(page.get_by_test_id("assembly-grid")).to_have_attribute("data-view", "list")

    page.goto(f"/assemblies/{first_of_kind(engine, 'script')}")
    expect(page.get_by_test_id("code-editor").locator(".cm-content")).to_be_visible()
    page.screenshot(path=artifact(f"editor-script-{theme}.png"), full_page=True, animations="disabled")

    page.goto(f"/assemblies/{first_of_kind(engine, 'workflow')}")
    expect(page.get_by_test_id("workflow-preview")).to_be_visible()
    page.screenshot(path=artifact(f"editor-workflow-{theme}.png"), full_page=True, animations="disabled")

    # Dev Mode banner and a queued (dirty) row, kept queued by holding the database lock.
    page.get_by_test_id("dev-mode-switch").click()
    page.get_by_role("dialog").get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("dialog").get_by_label("Reason").fill("screenshots")
    page.get_by_role("dialog").get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("dev-mode-banner")).to_be_visible()
    with hold_write_lock(engine.process.home / "Assemblies" / "user_created.db"):
        with engine.api(OPERATOR) as api:
            api.post(
                "/api/assemblies",
                json={
                    "display_name": f"Queued example ({theme})",
                    "assembly_kind": "script",
                    "assembly_type": "powershell",
                    "category": "script",
                    "summary": "Waiting for the writer.",
                    "payload": {"script": "Write-Output 'queued'\n"},
                },
            ).raise_for_status()
        page.goto("/")
        page.get_by_test_id("domain-chip-user").click()
        page.get_by_test_id("quick-search").fill("Queued example")
        expect(page.get_by_test_id("assembly-grid").get_by_test_id("dirty-pill").first).to_be_visible()
        page.screenshot(path=artifact(f"list-dirty-dev-mode-{theme}.png"), animations="disabled")
    page.get_by_test_id("dev-mode-banner").get_by_role("button", name="Disable Dev Mode").click()

    page.goto("/")
    page.get_by_test_id("new-assembly").click()
    page.get_by_test_id("new-ansible").click()
    expect(page.get_by_test_id("editor-title")).to_have_text("New Ansible Playbook")
    page.screenshot(path=artifact(f"editor-new-{theme}.png"), full_page=True, animations="disabled")
