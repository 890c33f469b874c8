"""The grid shows why a search hit is there: the matching line of the script under its name."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, search_list, sign_in

pytestmark = pytest.mark.e2e


def test_a_body_hit_shows_its_line_under_the_name(page: Page, engine: Engine) -> None:
    word = f"Get-Marker{uuid.uuid4().hex[:8]}"
    name = f"E2E search {uuid.uuid4().hex[:8]}"
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "powershell",
                "payload": {"script": f"# first\n# second\n{word} -Path $env:TEMP\n"},
            },
        )
        assert created.status_code == 201, created.text
        guid = created.json()["assembly_guid"]
    sign_in(page, OPERATOR)
    search_list(page, word.lower())
    row = page.locator(f'.ag-row[row-id="{guid}"]')
    expect(row.get_by_test_id("assembly-name")).to_have_text(name)
    expect(row.get_by_test_id("search-match")).to_have_text(f"3:{word} -Path $env:TEMP")
    # A hit in the name needs no line.
    search_list(page, name)
    expect(row.get_by_test_id("assembly-name")).to_have_text(name)
    expect(row.get_by_test_id("search-match")).to_have_count(0)
