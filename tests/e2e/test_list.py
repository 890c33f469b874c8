"""Signing in, the assembly list, its badges, chip counts and the dirty pill."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, hold_write_lock, sign_in

pytestmark = pytest.mark.e2e

DOMAIN_LABELS = {"official": "Official", "community": "Community", "user": "User-Created"}


def totals(engine: Engine) -> dict[str, int]:
    with engine.api() as api:
        counts = {
            d: api.get("/api/assemblies", params={"domain": d, "limit": 1}).json()["total"]
            for d in DOMAIN_LABELS
        }
        counts["all"] = api.get("/api/assemblies", params={"limit": 1}).json()["total"]
    return counts


@pytest.mark.parametrize("user", [ADMIN, OPERATOR], ids=["admin", "operator"])
def test_sign_in_shows_the_library_with_badges_and_counts(
    page: Page, engine: Engine, user: tuple[str, str]
) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(user[0])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("sign-in-error")).to_be_visible()
    expect(page.get_by_test_id("sign-in-error")).not_to_contain_text("{")

    sign_in(page, user)
    expect(page.get_by_test_id("user-role")).to_have_text("Administrator" if user == ADMIN else "Operator")

    expected = totals(engine)
    assert expected["official"] > 0
    for key, count in expected.items():
        chip_count = page.get_by_test_id(f"domain-chip-{key}").get_by_test_id("chip-count")
        expect(chip_count).to_have_text(f"{count:,}")  # grouped: "10,045"

    # The official filter lists official rows only, each with the Official badge.
    page.get_by_test_id("domain-chip-official").click()
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name").first).to_be_visible()
    badges = grid.get_by_test_id("domain-badge")
    expect(badges.first).to_have_text("Official")
    shown = min(expected["official"], 50)
    expect(badges).to_have_count(shown)
    for text in badges.all_inner_texts():
        assert text == "Official"
    # Each official row shows its signature status; the shipped library is signed (other
    # tests of this engine may have edited one in Dev Mode: Modified).
    signatures = grid.get_by_test_id("signature-badge")
    expect(signatures).to_have_count(shown)
    assert "Verified" in signatures.all_inner_texts()
    assert set(signatures.all_inner_texts()) <= {"Verified", "Modified"}

    # Quick search narrows the list through the API's q.
    with engine.api() as api:
        first = api.get("/api/assemblies", params={"domain": "official", "limit": 1}).json()["items"][0]
    page.get_by_test_id("quick-search").fill(first["display_name"])
    expect(grid.get_by_test_id("assembly-name").first).to_have_text(first["display_name"])

    # Sign out returns to the sign-in page.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_new_script_shows_the_pill_until_the_flush(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    page.get_by_test_id("new-assembly").click()
    page.get_by_test_id("new-script").click()
    name = f"E2E pill {uuid.uuid4().hex[:8]}"
    page.get_by_test_id("field-name").fill(name)
    page.get_by_test_id("field-type").click()
    page.get_by_test_id("type-bash").click()
    editor = page.get_by_test_id("code-editor").locator(".cm-content")
    editor.click()
    page.keyboard.type("echo hello from the browser")
    # The engine flushes every second: hold user_created.db's write lock (as another
    # process could) so the change stays queued while we look, then let it go.
    with hold_write_lock(engine.process.home / "Assemblies" / "user_created.db"):
        page.get_by_test_id("save").click()
        expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
        expect(page.get_by_test_id("assembly-editor").get_by_test_id("dirty-pill")).to_be_visible()
        guid = page.url.rsplit("/", 1)[1]
        page.get_by_text("Back to list").click()
        page.get_by_test_id("quick-search").fill(name)
        row = page.locator(f'.ag-row[row-id="{guid}"]')
        expect(row.get_by_test_id("assembly-name")).to_have_text(name)
        expect(row.get_by_test_id("dirty-pill")).to_be_visible()

    # Released: the next flush persists it and the pill goes without a reload. The row must
    # be on screen, named and without the pill at the same moment: a row the grid is just
    # re-rendering has no pill either.
    expect(row.get_by_test_id("domain-badge")).to_have_text("User-Created")
    clean_row = page.locator(f'.ag-row[row-id="{guid}"]:not(:has([data-testid="dirty-pill"]))')
    expect(clean_row.get_by_test_id("assembly-name")).to_have_text(name, timeout=20_000)
    with engine.api() as api:
        record = api.get(f"/api/assemblies/{guid}").json()
    assert record["is_dirty"] is False
    assert record["payload"]["script"] == "echo hello from the browser"


def test_server_side_sorting_and_paging(page: Page, engine: Engine) -> None:
    prefix = f"Paged {uuid.uuid4().hex[:6]}"
    with engine.api(OPERATOR) as api:
        for index in range(55):
            api.post(
                "/api/assemblies",
                json={
                    "display_name": f"{prefix} {index:02d}",
                    "assembly_kind": "script",
                    "assembly_type": "bash",
                    "category": f"cat-{index % 7}",
                    "payload": {"script": "true\n"},
                },
            ).raise_for_status()
    sign_in(page, OPERATOR)
    page.get_by_test_id("quick-search").fill(prefix)
    grid = page.get_by_test_id("assembly-grid")
    names = grid.get_by_test_id("assembly-name")
    expect(names.first).to_have_text(f"{prefix} 00")
    summary = grid.locator(".ag-paging-row-summary-panel")
    expect(summary).to_have_text(re.compile(r"1\s+to\s+50\s+of\s+55"))

    grid.get_by_role("button", name="Next Page").click()
    expect(summary).to_have_text(re.compile(r"51\s+to\s+55\s+of\s+55"))
    expect(names).to_have_count(5)
    expect(names.first).to_have_text(f"{prefix} 50")

    # Sorting is done by the engine: Name descending puts the last one first.
    header = grid.locator('.ag-header-cell[col-id="display_name"]')
    header.click()  # ascending (already the engine's default order)
    header.click()  # descending
    expect(names.first).to_have_text(f"{prefix} 54")
    with engine.api(OPERATOR) as api:
        by_category = api.get(
            "/api/assemblies", params={"q": prefix, "sort": "category", "order": "asc", "limit": 1}
        ).json()["items"][0]
    grid.locator('.ag-header-cell[col-id="category"]').click()
    expect(grid.locator('.ag-row[row-index="0"] [col-id="category"]')).to_have_text(by_category["category"])
