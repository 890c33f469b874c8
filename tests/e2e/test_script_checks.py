"""The editor's script checks in chromium: a typed error in the gutter within a second,
the problems list and the count beside Save."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.support import OPERATOR, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_a_typed_error_shows_in_the_gutter_within_a_second(page: Page, engine: Engine) -> None:
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")  # a PowerShell script by default
    editor = page.get_by_test_id("code-editor")
    editor.locator(".cm-content").click()
    page.keyboard.type("Write-Host 'fine'")
    expect(page.get_by_test_id("check-count")).to_have_text("0 errors")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems found")

    page.keyboard.press("Enter")
    page.keyboard.type("function Get-Broken {")
    started = time.monotonic()
    page.keyboard.press("Delete")  # the editor closed the brace itself: the last key
    marker = editor.locator(".cm-gutter-lint .cm-lint-marker-error")
    marker.wait_for(state="visible", timeout=5_000)
    elapsed = time.monotonic() - started
    print(f"gutter mark {elapsed:.3f} s after the last key")
    assert elapsed < 1.0, elapsed
    expect(editor.locator(".cm-lintRange-error")).to_have_count(1)
    problem = page.get_by_test_id("problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("2:21")
    expect(problem).to_contain_text("'{' is never closed")
    expect(page.get_by_test_id("check-count")).to_have_text("1 error")

    # Closing the brace clears the mark.
    page.keyboard.type("}")
    expect(marker).to_have_count(0)
    expect(page.get_by_test_id("check-count")).to_have_text("0 errors")


def test_the_form_does_not_move_when_the_first_check_answers(page: Page, engine: Engine) -> None:
    # The first check of the new script is held back until the form has been measured.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route("**/api/assemblies/check", hold)
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    expect(page.get_by_test_id("problems-placeholder")).to_be_attached()
    add_variable = page.get_by_role("button", name="Add variable")
    before = add_variable.bounding_box()
    for _ in range(50):  # the check is asked for a moment after the editor opens
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the first check was not asked for"
    assert add_variable.bounding_box() == before  # nothing moved while it was out
    for route in held:
        route.continue_()
    page.unroute("**/api/assemblies/check")
    expect(page.get_by_test_id("problems")).to_contain_text("No problems found")
    after = add_variable.bounding_box()
    assert before is not None and after is not None
    assert after["y"] == before["y"], (before, after)
