"""The official library in the browser (Docs/official-library.md): the upgrade's admin
banner, the grid's vendor filter and the editor's choice with its three-way comparison; the
banner of a refused staging copy; a deprecated assembly's notice.

Each test runs an engine of its own (the upgrade: v1 shipped, A edited in Dev Mode,
restarted on v2 that changes A and drops C): the session's engine serves the shipped
library, which no test may upgrade or re-sign under the others.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect

from assembly_engine.cli.main import main
from tests.e2e.support import ADMIN, dev_mode_api, sign_in
from tests.engine_process import EngineProcess
from tests.support import REPO_ROOT
from tests.upgrade_support import Release, deprecate_first, dev_mode, edit_script, install, ship_v1, ship_v2

EDITED = "Write-Host 'A edited here'\n"
SHIPPED_LIBRARY = REPO_ROOT / "Data" / "Engine" / "Assemblies"


@pytest.fixture
def upgraded_engine(tmp_path: Path) -> Iterator[tuple[EngineProcess, Release]]:
    v1 = ship_v1(tmp_path / "vendor-v1", ["A", "B", "C"])
    v2 = ship_v2(v1, tmp_path / "vendor-v2", {"A": "Write-Host 'A v2'\n"}, ["C"])
    home, staging = tmp_path / "home", tmp_path / "staging"
    install(v1, staging)
    engine = EngineProcess(home, staging).start()
    try:
        headers = engine.login()
        dev_mode(engine.http, headers)
        edit_script(engine.http, headers, v1.guid("A"), EDITED)
        assert engine.http.post("/api/assemblies/dev-mode/write", json={}, headers=headers).status_code == 200
        assert engine.stop() == 0
        install(v2, staging)
        engine = EngineProcess(home, staging).start()
        yield engine, v2
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            engine.stop()


@pytest.fixture
def upgrade_page(browser: Browser, upgraded_engine: tuple[EngineProcess, Release]) -> Iterator[Page]:
    engine, _ = upgraded_engine
    context = browser.new_context(base_url=engine.url, viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    yield page
    context.close()
    assert not problems, "\n".join(problems)


def test_the_banner_the_filter_and_the_editor_lead_an_admin_through_an_upgrade(
    upgrade_page: Page, upgraded_engine: tuple[EngineProcess, Release]
) -> None:
    page = upgrade_page
    _, v2 = upgraded_engine
    sign_in(page, ADMIN)
    banner = page.get_by_test_id("upstream-banner")
    expect(banner).to_contain_text("1 official assembly has a vendor update waiting")
    expect(banner).to_contain_text("1 official assembly was removed by the vendor")
    page.get_by_test_id("upstream-show").click()
    expect(page.get_by_test_id("vendor-filter")).to_have_text("Needs attention")
    names = page.get_by_test_id("assembly-name")
    expect(names).to_have_count(2)
    assert sorted(names.all_inner_texts()) == ["A", "C"]

    page.get_by_test_id("vendor-filter").click()
    page.get_by_test_id("vendor-option-removed_upstream").click()
    expect(names).to_have_count(1)
    expect(names.first).to_have_text("C")
    # The filter lives in the address: a reload (or a shared link) keeps it.
    expect(page).to_have_url(re.compile(r"[?&]vendor=removed_upstream"))
    page.reload()
    expect(page.get_by_test_id("vendor-filter")).to_have_text("Removed upstream")
    expect(names).to_have_count(1)
    expect(names.first).to_have_text("C")

    page.goto(f"/assemblies/{v2.guid('A')}")
    choice = page.get_by_test_id("upstream-choice")
    expect(choice).to_have_attribute("data-state", "update_available")
    expect(page.get_by_test_id("upstream-take")).to_be_disabled()  # Dev Mode first
    assert dev_mode_api(page, True) == 200
    page.reload()
    page.get_by_test_id("upstream-compare").click()
    diff = page.get_by_test_id("upstream-diff")
    expect(diff).to_contain_text("Vendor base")
    expect(diff).to_contain_text("New vendor version")
    page.get_by_test_id("upstream-take").click()
    expect(page.get_by_test_id("upstream-choice")).to_have_count(0)
    expect(page.get_by_test_id("code-editor").locator(".cm-content")).to_have_text(re.compile("A v2"))


def test_an_admin_sees_why_the_official_library_was_refused(browser: Browser, tmp_path: Path) -> None:
    """Under ENGINE_OFFICIAL_SIGNATURES=require, a staging copy signed by a key the engine
    does not trust is refused; the engine still serves, and an admin's list says why."""
    private = tmp_path / "keys" / "ours"
    made = CliRunner().invoke(main, ["official", "keygen", str(private)])
    assert made.exit_code == 0, made.output
    staging = tmp_path / "staging"
    shutil.copytree(SHIPPED_LIBRARY, staging)  # signed with the repository's key, not ours
    env = {
        "ENGINE_OFFICIAL_SIGNATURES": "require",
        "ENGINE_OFFICIAL_TRUSTED_KEYS": str(private.with_name("ours.pub")),
    }
    engine = EngineProcess(tmp_path / "home", staging, extra_env=env).start()
    try:
        context = browser.new_context(base_url=engine.url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in(page, ADMIN)
        banner = page.get_by_test_id("signature-banner")
        expect(banner).to_contain_text("was refused by its signature check")
        expect(banner).to_contain_text("last good official library keeps serving")
        context.close()
    finally:
        assert engine.stop() == 0, engine.output()


def test_a_deprecated_assembly_shows_the_vendor_note_and_opens_its_replacement(
    browser: Browser, tmp_path: Path
) -> None:
    """The vendor deprecates an assembly in a release it signs: the grid's Vendor filter
    finds it (and filters by signature status), its editor says so with the vendor's note,
    and leads to the assembly that replaces it."""
    private = tmp_path / "keys" / "vendor"
    assert CliRunner().invoke(main, ["official", "keygen", str(private)]).exit_code == 0
    staging = tmp_path / "staging"
    shutil.copytree(SHIPPED_LIBRARY, staging)
    old, successor = deprecate_first(staging, "Use the new probe instead")
    signed = CliRunner().invoke(main, ["official", "sign", "--key", str(private), "--root", str(staging)])
    assert signed.exit_code == 0, signed.output
    env = {
        "ENGINE_OFFICIAL_SIGNATURES": "require",
        "ENGINE_OFFICIAL_TRUSTED_KEYS": str(private.with_name("vendor.pub")),
    }
    engine = EngineProcess(tmp_path / "home", staging, extra_env=env).start()
    try:
        context = browser.new_context(base_url=engine.url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        sign_in(page, ADMIN)
        name = engine.http.get(f"/api/assemblies/{old}", headers=engine.login()).json()["display_name"]
        # the grid's Vendor filter: the deprecated one alone, then by signature status
        names = page.get_by_test_id("assembly-name")
        expect(names.first).to_be_visible()
        for option, shown in (("deprecated", [name]), ("unsigned", [])):
            page.get_by_test_id("vendor-filter").click()
            page.get_by_test_id(f"vendor-option-{option}").click()
            expect(names).to_have_count(len(shown))
            assert names.all_inner_texts() == shown
        page.get_by_test_id("vendor-filter").click()
        page.get_by_test_id("vendor-option-verified").click()
        expect(names.first).to_be_visible()
        badges = page.get_by_test_id("assembly-grid").get_by_test_id("signature-badge")
        assert set(badges.all_inner_texts()) == {"Verified"}

        page.goto(f"/assemblies/{old}")
        notice = page.get_by_test_id("vendor-deprecated")
        expect(notice).to_contain_text("The vendor deprecated this assembly: Use the new probe instead")
        page.get_by_test_id("vendor-replaced-by").click()
        expect(page).to_have_url(re.compile(f"/assemblies/{successor}$"))
        expect(page.get_by_test_id("code-editor")).to_be_visible()
        expect(page.get_by_test_id("vendor-deprecated")).to_have_count(0)  # the successor is not deprecated
        context.close()
    finally:
        assert engine.stop() == 0, engine.output()
