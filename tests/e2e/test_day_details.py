"""Smaller things of a working day: the first click on Updated shows the newest first, a
new form names no legacy category, and an operator's disabled Rename/Delete say why."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_the_first_click_on_updated_sorts_newest_first(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    expect(page.get_by_test_id("assembly-name").first).to_be_visible()
    page.locator('.ag-header-cell[col-id="updated_at"]').click()
    expect(page).to_have_url(re.compile(r"sort=updated_at&order=desc"))


def test_a_new_form_prefills_no_legacy_category(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    for kind in ("script", "ansible", "workflow"):
        page.goto(f"/assemblies/new/{kind}")
        expect(page.get_by_test_id("field-category")).to_have_value("")


def test_disabled_row_actions_say_why(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    page.get_by_test_id("domain-chip-official").click()
    expect(page).to_have_url(re.compile(r"domain=official"))
    page.get_by_test_id("row-menu").first.click()
    for action in ("action-rename", "action-delete"):
        item = page.get_by_test_id(action)
        expect(item).to_have_attribute("aria-disabled", "true")
        expect(item).to_contain_text("Read-only domain: Dev Mode")
