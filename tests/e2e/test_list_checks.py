"""The stored script checks in the list and the read-only view, in chromium
(Docs/script-checks.md, "In the list"): a row's mark, the Checks filter in the address and
as a chip that clears it, and an operator reading an official script's stored problems.

The test runs an engine of its own on an empty library, so the rows are exactly the ones
it writes, and with ``ENGINE_CHECKS_BLOCK=none`` so that an official script with an error
can be stored (by default the official domain refuses one).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.support import ADMIN, OPERATOR, add_operator, artifact, sign_in, watch_for_problems
from tests.engine_process import EngineProcess

pytestmark = pytest.mark.e2e

BROKEN = "#!/bin/bash\nif [ -f /tmp/flag ]; then\n  echo found\n"  # no `fi`: a parse error
UNUSED = "#!/bin/bash\ncount=1\n"  # SC2034, a warning only
CLEAN = '#!/bin/bash\necho "hello"\n'


def _bash(domain: str, name: str, script: str) -> dict[str, Any]:
    return {
        "domain": domain,
        "display_name": name,
        "assembly_kind": "script",
        "assembly_type": "bash",
        "category": "script",
        "payload": {"script": script},
    }


def _checked(api: httpx.Client, guid: str) -> dict[str, Any]:
    """The detail's stored check, once the engine has one (checks run beside the save)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        checks = api.get(f"/api/assemblies/{guid}").json().get("checks")
        if checks and checks.get("status") == "checked" and not checks.get("timed_out"):
            return dict(checks)
        time.sleep(0.25)
    raise AssertionError(f"no stored check for {guid} within 90 s")


@pytest.fixture
def checked_engine(tmp_path: Path) -> Iterator[tuple[EngineProcess, dict[str, dict[str, Any]]]]:
    """An engine holding an official script with an error (an admin's, in Dev Mode) and an
    operator's three user scripts (an error, a warning, clean), every one checked."""
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(
        tmp_path / "home", staging, flush_interval=1, extra_env={"ENGINE_CHECKS_BLOCK": "none"}
    )
    engine.start()
    try:
        guids: dict[str, str] = {}
        with httpx.Client(base_url=engine.url, headers=engine.login(), timeout=30) as admin:
            admin.post(
                "/api/assemblies/dev-mode/switch",
                json={
                    "enabled": True,
                    "password": ADMIN[1],
                    "reason": "e2e: an official script with an error",
                },
            ).raise_for_status()
            made = admin.post("/api/assemblies", json=_bash("official", "Official Broken Probe", BROKEN))
            made.raise_for_status()
            guids["Official Broken Probe"] = made.json()["assembly_guid"]
            admin.post("/api/assemblies/dev-mode/write", json={}).raise_for_status()
        add_operator(engine)
        with httpx.Client(base_url=engine.url, headers=engine.login(*OPERATOR), timeout=30) as olga:
            for name, script in (
                ("Broken Loop", BROKEN),
                ("Unused Count", UNUSED),
                ("Clean Greeting", CLEAN),
            ):
                made = olga.post("/api/assemblies", json=_bash("user", name, script))
                made.raise_for_status()
                guids[name] = made.json()["assembly_guid"]
            checks = {name: _checked(olga, guid) | {"guid": guid} for name, guid in guids.items()}
        yield engine, checks
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            assert engine.stop() == 0, engine.output()


@pytest.fixture
def checks_page(browser: Browser, checked_engine: tuple[EngineProcess, dict[str, Any]]) -> Iterator[Page]:
    engine, _ = checked_engine
    context = browser.new_context(base_url=engine.url, viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    page = context.new_page()
    watch_for_problems(page, problems)
    yield page
    context.close()
    assert not problems, "the page reported problems:\n" + "\n".join(problems)


def _choose(page: Page, option: str) -> None:
    page.get_by_test_id("checks-filter").click()
    page.get_by_test_id(f"checks-option-{option}").click()


def test_the_list_marks_and_filters_scripts_by_their_stored_check(
    checks_page: Page, checked_engine: tuple[EngineProcess, dict[str, dict[str, Any]]]
) -> None:
    page = checks_page
    _, checks = checked_engine
    assert checks["Broken Loop"]["has_errors"], checks["Broken Loop"]
    assert checks["Unused Count"]["counts"]["error"] == 0 and checks["Unused Count"]["counts"]["warning"] >= 1
    assert checks["Clean Greeting"]["counts"] == {"error": 0, "warning": 0, "info": 0}
    sign_in(page, OPERATOR)
    names = page.get_by_test_id("assembly-name")
    expect(names).to_have_count(4)

    # Each row's mark: errors in red, else warnings; nothing on the clean row.
    grid = page.get_by_test_id("assembly-grid")

    def row(name: str) -> Any:
        return grid.locator(".ag-row").filter(
            has=page.get_by_test_id("assembly-name").get_by_text(name, exact=True)
        )

    errors = checks["Broken Loop"]["counts"]["error"]
    mark = row("Broken Loop").get_by_test_id("check-mark")
    # (the element's text, what a screen reader reads, whether or not the words are shown)
    expect(mark).to_have_text(f"{errors} error" + ("s" if errors != 1 else ""))
    expect(mark).to_have_attribute("data-severity", "error")
    expect(mark).to_have_attribute("title", re.compile(rf"{errors} errors?, \d+ warnings?, \d+ notes?"))
    warnings = checks["Unused Count"]["counts"]["warning"]
    warned = row("Unused Count").get_by_test_id("check-mark")
    expect(warned).to_have_text(f"{warnings} warning" + ("s" if warnings != 1 else ""))
    expect(warned).to_have_attribute("data-severity", "warning")
    expect(row("Clean Greeting").get_by_test_id("check-mark")).to_have_count(0)
    expect(row("Official Broken Probe").get_by_test_id("check-mark")).to_have_attribute(
        "data-severity", "error"
    )
    expect(grid.get_by_test_id("check-mark")).to_have_count(3)
    # Up to 1679 px the name keeps the width: the mark is an icon and the number.
    expect(mark.locator(".ae-check-word")).to_be_hidden()
    expect(mark.locator("svg")).to_be_visible()
    page.screenshot(path=artifact("list-checks-1440.png"))
    # Wider, its words.
    page.set_viewport_size({"width": 1720, "height": 900})
    expect(mark.locator(".ae-check-word")).to_be_visible()
    expect(mark.locator("svg")).to_be_hidden()
    page.screenshot(path=artifact("list-checks-1720.png"))
    page.set_viewport_size({"width": 1440, "height": 900})

    # The filter: in the address, and as a chip that clears it.
    expect(page.get_by_test_id("active-checks")).to_have_count(0)
    _choose(page, "errors")
    expect(names).to_have_text(["Broken Loop", "Official Broken Probe"])  # by name
    expect(page).to_have_url(re.compile(r"[?&]checks=errors(&|$)"))
    expect(page.get_by_test_id("active-checks")).to_have_text("Checks: Has errors")
    page.screenshot(path=artifact("list-checks-errors-1440.png"))
    _choose(page, "clean")
    expect(page.get_by_test_id("checks-filter")).to_have_text("No errors")
    expect(names).to_have_text(["Clean Greeting", "Unused Count"])
    _choose(page, "unchecked")
    expect(names).to_have_count(0)

    # The address brings the filter back; the chip clears it.
    page.goto("/?checks=errors")
    expect(page.get_by_test_id("checks-filter")).to_have_text("Has errors")
    expect(names).to_have_count(2)
    page.get_by_test_id("active-checks").locator(".MuiChip-deleteIcon").click()
    expect(names).to_have_count(4)
    expect(page.get_by_test_id("active-checks")).to_have_count(0)
    expect(page.get_by_test_id("checks-filter")).to_have_text("Any")
    expect(page).not_to_have_url(re.compile(r"checks="))

    # On a phone: the mark under the name, the filter in the header.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/?checks=errors")
    expect(names).to_have_count(2)
    expect(grid.get_by_test_id("check-mark")).to_have_count(2)
    expect(grid.get_by_test_id("check-mark").first.locator(".ae-check-word")).to_be_visible()
    for box in (
        page.get_by_test_id("checks-filter").bounding_box(),
        grid.get_by_test_id("check-mark").first.bounding_box(),
    ):
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.screenshot(path=artifact("list-checks-390.png"))


def test_an_operator_reads_the_stored_check_of_an_official_script(
    checks_page: Page, checked_engine: tuple[EngineProcess, dict[str, dict[str, Any]]]
) -> None:
    """Nothing is checked as it is typed in a read-only view: it shows the engine's stored
    check of the saved script instead."""
    page = checks_page
    _, checks = checked_engine
    stored = checks["Official Broken Probe"]
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{stored['guid']}")
    expect(page.get_by_test_id("code-editor")).to_be_visible()
    panel = page.get_by_test_id("stored-check")
    expect(panel).to_contain_text("Script check of the saved script")
    problems = panel.get_by_test_id("problem")
    expect(problems).to_have_count(len(stored["diagnostics"]))
    first = stored["diagnostics"][0]
    expect(problems.first).to_contain_text(f"{first['line']}:{first['column']}")
    expect(problems.first).to_contain_text(first["code"])
    expect(page.get_by_test_id("problems")).to_have_count(0)  # no live check of a read-only text
    page.screenshot(path=artifact("readonly-stored-check-1440.png"), full_page=True)

    # Her own clean script is hers to edit: the live check answers there, not the stored one.
    page.goto(f"/assemblies/{checks['Clean Greeting']['guid']}")
    expect(page.get_by_test_id("check-count")).to_have_text("0 errors")
    expect(page.get_by_test_id("stored-check")).to_have_count(0)
