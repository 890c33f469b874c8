"""Deleting from the list says where the assembly goes (Deleted, undeletable) and offers
Undo right away; Undo brings it back."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, search_list, sign_in

pytestmark = pytest.mark.e2e


def test_delete_then_undo_brings_it_back(page: Page, engine: Engine) -> None:
    name = f"Undo me {uuid.uuid4().hex[:6]}"
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": ""},
            },
        ).json()
    sign_in(page, OPERATOR)
    search_list(page, name)
    expect(page.get_by_test_id("assembly-name")).to_have_text([name])
    page.get_by_test_id("row-menu").first.click()
    page.get_by_test_id("action-delete").click()
    dialog = page.get_by_test_id("delete-dialog")
    expect(dialog).to_contain_text("kept under Deleted, where it can be undeleted")
    expect(dialog).not_to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Delete").click()
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("was deleted")
    expect(page.get_by_test_id("assembly-name")).to_have_count(0)
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{created['assembly_guid']}").status_code == 404

    notice.get_by_test_id("notice-action").click()
    expect(page.get_by_test_id("notice")).to_contain_text("is back")
    expect(page.get_by_test_id("assembly-name")).to_have_text([name])
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{created['assembly_guid']}").status_code == 200
