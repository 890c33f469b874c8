"""Ctrl+K from any page opens a palette: typing part of a name lists matches, Enter opens."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_ctrl_k_jumps_to_an_assembly(page: Page, engine: Engine) -> None:
    name = f"Palette target {uuid.uuid4().hex[:6]}"
    with engine.api(OPERATOR) as api:
        guid = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": ""},
            },
        ).json()["assembly_guid"]
    sign_in(page, OPERATOR)
    expect(page.get_by_test_id("assembly-name").first).to_be_visible()
    page.keyboard.press("Control+k")
    palette = page.get_by_test_id("command-palette")
    palette.get_by_test_id("palette-input").fill(name[-12:])
    expect(palette.get_by_test_id("palette-item")).to_have_count(1)
    expect(palette.get_by_test_id("palette-item")).to_contain_text(name)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/assemblies/{guid}$"))
    expect(page.get_by_test_id("field-name")).to_have_value(name)
