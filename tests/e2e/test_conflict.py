"""Two browsers edit the same assembly: the second save is refused, never overwrites."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.conftest import OPERATOR, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_second_save_shows_the_conflict(new_context: Callable[..., BrowserContext], engine: Engine) -> None:
    with engine.api(OPERATOR) as api:
        created = api.post("/api/assemblies", json={
            "display_name": "Shared edit target", "assembly_kind": "script", "assembly_type": "python",
            "summary": "original", "payload": {"script": "print('hi')\n"},
        }).json()
    guid = created["assembly_guid"]
    first, second = new_context().new_page(), new_context().new_page()
    for page in (first, second):
        sign_in(page, OPERATOR)
        page.goto(f"/assemblies/{guid}")
        expect(page.get_by_test_id("field-description")).to_have_value("original")

    first.get_by_test_id("field-description").fill("first writer")
    first.get_by_test_id("save").click()
    expect(first.get_by_test_id("notice")).to_contain_text("Saved")

    second.get_by_test_id("field-description").fill("second writer")
    second.get_by_test_id("save").click()
    conflict = second.get_by_test_id("conflict-message")
    expect(conflict).to_contain_text("Someone else saved this assembly")
    expect(conflict).not_to_contain_text("{")
    with engine.api(OPERATOR) as api:
        assert api.get(f"/api/assemblies/{guid}").json()["summary"] == "first writer"

    conflict.get_by_role("button", name="Reload").click()
    expect(second.get_by_test_id("conflict-message")).to_have_count(0)
    expect(second.get_by_test_id("field-description")).to_have_value("first writer")
