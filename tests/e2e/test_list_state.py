"""The list at scale: state in the address (Back restores it), kind and category filters
with counts that follow the search, formatted counts, page sizes, column widths, clones
that can be told apart and a delete confirmation that says what goes."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, artifact, search_list, sign_in

pytestmark = pytest.mark.e2e


def seed(
    engine: Engine,
    prefix: str,
    count: int,
    *,
    category: str | None = None,
    kinds: tuple[str, ...] = ("script",),
) -> None:
    with engine.api(OPERATOR) as api:
        for index in range(count):
            kind = kinds[index % len(kinds)]
            body = {
                "display_name": f"{prefix} {index:04d}",
                "assembly_kind": kind,
                "assembly_type": {"script": "bash", "workflow": "workflow", "ansible": "ansible"}[kind],
                "category": category or f"cat-{index % 3}",
                "payload": (
                    {"workflow": {"nodes": [], "edges": []}} if kind == "workflow" else {"script": "true\n"}
                ),
            }
            api.post("/api/assemblies", json=body).raise_for_status()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def test_page_search_sort_and_chip_live_in_the_address_and_back_restores_them(
    page: Page,
    engine: Engine,
) -> None:
    prefix = f"Stateful {uuid.uuid4().hex[:6]}"
    seed(engine, prefix, 60)
    sign_in(page, OPERATOR)
    grid = page.get_by_test_id("assembly-grid")
    names = grid.get_by_test_id("assembly-name")
    summary = grid.locator(".ag-paging-row-summary-panel")
    page.get_by_test_id("quick-search").fill(prefix)
    page.get_by_test_id("domain-chip-user").click()
    expect(summary).to_have_text(re.compile(r"1\s+to\s+50\s+of\s+60"))
    header = grid.locator('.ag-header-cell[col-id="display_name"]')
    header.click()
    header.click()  # descending
    expect(names.first).to_have_text(f"{prefix} 0059")
    grid.get_by_role("button", name="Next Page").click()
    expect(summary).to_have_text(re.compile(r"51\s+to\s+60\s+of\s+60"))
    expect(names.first).to_have_text(f"{prefix} 0009")
    page.wait_for_function("() => new URLSearchParams(location.search).get('page') === '2'")
    assert query(page) == {
        "domain": ["user"],
        "q": [prefix],
        "sort": ["display_name"],
        "order": ["desc"],
        "page": ["2"],
    }
    shared = page.url

    # Open an assembly from page 2, come back with the browser's Back: same view.
    names.first.click()
    expect(page.get_by_test_id("editor-title")).to_have_text(f"{prefix} 0009")
    page.go_back()
    expect(summary).to_have_text(re.compile(r"51\s+to\s+60\s+of\s+60"))
    expect(names.first).to_have_text(f"{prefix} 0009")
    expect(page.get_by_test_id("quick-search")).to_have_value(prefix)
    expect(page.get_by_test_id("domain-chip-user")).to_have_attribute("aria-pressed", "true")
    expect(grid.locator('.ag-header-cell[col-id="display_name"]')).to_have_attribute(
        "aria-sort", "descending"
    )
    page.wait_for_function("() => new URLSearchParams(location.search).get('page') === '2'")
    assert query(page)["order"] == ["desc"]

    # "Back to list" returns to it too, and the address is shareable (a fresh tab).
    names.nth(2).click()
    page.get_by_role("button", name="Back to list").click()
    expect(summary).to_have_text(re.compile(r"51\s+to\s+60\s+of\s+60"))
    page.wait_for_function("() => new URLSearchParams(location.search).get('page') === '2'")
    other = page.context.new_page()
    other.goto(shared)
    expect(other.get_by_test_id("assembly-grid").locator(".ag-paging-row-summary-panel")).to_have_text(
        re.compile(r"51\s+to\s+60\s+of\s+60")
    )
    first_name = other.get_by_test_id("assembly-grid").get_by_test_id("assembly-name").first
    expect(first_name).to_have_text(f"{prefix} 0009")
    other.close()


def test_kind_and_category_filters_with_counts_that_follow_the_search(page: Page, engine: Engine) -> None:
    prefix = f"Faceted {uuid.uuid4().hex[:6]}"
    seed(engine, prefix, 9, kinds=("script", "workflow", "ansible"))
    sign_in(page, OPERATOR)
    grid = page.get_by_test_id("assembly-grid")
    summary = grid.locator(".ag-paging-row-summary-panel")
    page.get_by_test_id("quick-search").fill(prefix)
    expect(summary).to_have_text(re.compile(r"1\s+to\s+9\s+of\s+9"))
    expect(page.get_by_test_id("domain-chip-all").get_by_test_id("chip-count")).to_have_text("9")
    expect(page.get_by_test_id("domain-chip-official").get_by_test_id("chip-count")).to_have_text("0")

    page.get_by_test_id("kind-filter").click()
    for kind, label in (("script", "Script"), ("workflow", "Workflow"), ("ansible", "Ansible Playbook")):
        expect(page.get_by_test_id(f"kind-option-{kind}")).to_have_text(f"{label} (3)")
    page.get_by_test_id("kind-option-workflow").click()
    expect(summary).to_have_text(re.compile(r"1\s+to\s+3\s+of\s+3"))
    expect(page.get_by_test_id("domain-chip-user").get_by_test_id("chip-count")).to_have_text("3")
    for text in grid.locator('.ag-row [col-id="assembly_type"]').all_inner_texts():
        assert text.strip() == "Workflow"

    # Categories counted for the search and the chosen kind: index % 3 → cat-0, cat-1, cat-2;
    # the workflows are index 1, 4, 7 → cat-1, cat-1, cat-1.
    page.get_by_test_id("category-filter").click()
    expect(page.get_by_test_id("category-option-cat-1")).to_have_text("cat-1 (3)")
    expect(page.get_by_test_id("category-option-cat-0")).to_have_count(0)
    page.keyboard.press("Escape")
    page.get_by_test_id("kind-filter").click()
    page.get_by_test_id("kind-option-all").click()
    page.get_by_test_id("category-filter").click()
    expect(page.get_by_test_id("category-option-cat-0")).to_have_text("cat-0 (3)")
    page.get_by_test_id("category-option-cat-2").click()
    expect(summary).to_have_text(re.compile(r"1\s+to\s+3\s+of\s+3"))
    assert query(page)["category"] == ["cat-2"]
    for text in grid.locator('.ag-row [col-id="category"]').all_inner_texts():
        assert text.strip() == "cat-2"
    page.get_by_test_id("kind-filter").click()
    expect(page.get_by_test_id("kind-option-ansible")).to_have_text("Ansible Playbook (3)")
    expect(page.get_by_test_id("kind-option-script")).to_have_text("Script (0)")
    page.keyboard.press("Escape")
    page.screenshot(path=artifact("list-filters-1440.png"))


def test_counts_are_grouped_page_size_is_a_choice_and_names_come_first(page: Page, engine: Engine) -> None:
    category = f"bulk-{uuid.uuid4().hex[:6]}"
    seed(engine, f"Bulk {category}", 1000, category=category)
    sign_in(page, OPERATOR)
    grid = page.get_by_test_id("assembly-grid")
    page.get_by_test_id("category-filter").click()
    expect(page.get_by_test_id(f"category-option-{category}")).to_have_text(f"{category} (1,000)")
    page.get_by_test_id(f"category-option-{category}").click()
    expect(page.get_by_test_id("domain-chip-all").get_by_test_id("chip-count")).to_have_text("1,000")
    expect(page.get_by_test_id("domain-chip-user").get_by_test_id("chip-count")).to_have_text("1,000")
    page.get_by_test_id("category-filter").click()
    page.get_by_test_id("category-option-all").click()
    expect(page.get_by_test_id("domain-chip-all").get_by_test_id("chip-count")).to_have_text(
        re.compile(r"^\d{1,3}(,\d{3})+$")
    )

    summary = grid.locator(".ag-paging-row-summary-panel")
    expect(summary).to_have_text(re.compile(r"1\s+to\s+50\s+of"))
    grid.locator(".ag-paging-page-size .ag-picker-field-wrapper").click()
    page.get_by_role("option", name="100", exact=True).click()
    expect(summary).to_have_text(re.compile(r"1\s+to\s+100\s+of"))
    page.wait_for_function("() => new URLSearchParams(location.search).get('size') === '100'")

    width = {
        col: grid.locator(f'.ag-header-cell[col-id="{col}"]').bounding_box()["width"]
        for col in ("display_name", "source", "summary", "assembly_type")
    }
    assert width["source"] <= 160, width
    assert width["display_name"] >= 300 and width["display_name"] > width["summary"], width
    page.screenshot(path=artifact("list-1440.png"))


def test_clones_are_named_opened_and_told_apart(page: Page, engine: Engine) -> None:
    name = f"Value Parser {uuid.uuid4().hex[:6]}"
    with engine.api(OPERATOR) as api:
        original = api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "python",
                "category": "parsers",
                "payload": {"script": "print(1)\n"},
            },
        ).json()
    page.set_viewport_size({"width": 1720, "height": 900})  # "Updated by" beside the folder tree
    sign_in(page, ADMIN)
    search_list(page, name)
    row = page.locator(f'.ag-row[row-id="{original["assembly_guid"]}"]')
    expect(row.locator('[col-id="updated_by"]')).to_have_text("olga")
    row.get_by_test_id("row-menu").click()
    page.get_by_test_id("action-clone").click()
    expect(page.get_by_test_id("clone-name")).to_have_value(f"{name} (copy)")
    page.get_by_test_id("clone-name").fill(f"{name} for branch offices")
    page.get_by_test_id("clone-dialog").get_by_role("button", name="Clone").click()
    # The clone opens at once.
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    assert original["assembly_guid"] not in page.url
    expect(page.get_by_test_id("editor-title")).to_have_text(f"{name} for branch offices")
    clone = page.url.rsplit("/", 1)[1]

    page.go_back()
    grid = page.get_by_test_id("assembly-grid")
    expect(grid.get_by_test_id("assembly-name")).to_have_count(2)
    clone_row = page.locator(f'.ag-row[row-id="{clone}"]')
    expect(clone_row.locator('[col-id="updated_by"]')).to_have_text("admin")
    expect(row.locator('[col-id="updated_by"]')).to_have_text("olga")

    # The delete confirmation names source, category and the last change.
    clone_row.get_by_test_id("row-menu").click()
    page.get_by_test_id("action-delete").click()
    details = page.get_by_test_id("delete-details")
    expect(details).to_contain_text("User-Created")
    expect(details).to_contain_text("parsers")
    expect(details).to_contain_text(re.compile(r"\d{4}.* by admin"))
    page.screenshot(path=artifact("list-delete-confirmation-1440.png"))
    page.get_by_test_id("delete-dialog").get_by_role("button", name="Delete").click()
    expect(grid.get_by_test_id("assembly-name")).to_have_count(1)
