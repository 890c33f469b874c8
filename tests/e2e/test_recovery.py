"""What a short Dev Mode and a short engine outage do to a page, against an engine of this
module's own (Dev Mode lasts 70 s there; it is stopped and started again on its port):
a warning a minute before Dev Mode ends, a notice when it ends with the unsaved edits
kept; the list says the engine is away and recovers by itself when it is back."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, dev_mode_api
from tests.engine_process import EngineProcess

pytestmark = pytest.mark.e2e

DEV_MODE_SECONDS = 70


@pytest.fixture(scope="module")
def own_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("recovery")
    staging = root / "staging"
    staging.mkdir()
    process = EngineProcess(
        root / "home",
        staging,
        flush_interval=1,
        extra_env={"ENGINE_DEV_MODE_TTL_SECONDS": str(DEV_MODE_SECONDS)},
    ).start()
    try:
        with httpx.Client(base_url=process.url, headers=process.login(), timeout=30) as api:
            api.post(
                "/api/users", json={"username": OPERATOR[0], "password": OPERATOR[1], "role": "operator"}
            ).raise_for_status()
            for n in range(3):
                api.post(
                    "/api/assemblies",
                    json={
                        "domain": "user",
                        "display_name": f"Outage survivor {n}",
                        "assembly_kind": "script",
                        "assembly_type": "bash",
                        "payload": {"script": "echo hi\n"},
                    },
                ).raise_for_status()
        yield Engine(process, process.url, True)
    finally:
        process.stop()


@pytest.fixture
def own_context(new_context: Callable[..., BrowserContext], own_engine: Engine) -> BrowserContext:
    # The shared fixture's base URL is the session's engine: these pages use full URLs.
    return new_context()


def url(engine: Engine, path: str) -> str:
    return engine.url + path


def test_the_list_recovers_from_a_short_outage_by_itself(
    own_context: BrowserContext, own_engine: Engine
) -> None:
    page = own_context.new_page()
    page.goto(url(own_engine, "/"))
    page.get_by_label("Username").fill(OPERATOR[0])
    page.get_by_label("Password").fill(OPERATOR[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("assembly-name").first).to_be_visible()

    own_engine.process.stop()
    page.get_by_test_id("quick-search").fill("survivor 2")
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    own_engine.process.start()
    # No reload, no click: the retries find the engine again.
    expect(page.get_by_test_id("assembly-name")).to_have_text(["Outage survivor 2"], timeout=60_000)
    expect(page.get_by_test_id("offline-banner")).to_have_count(0, timeout=30_000)


def test_dev_mode_warns_before_it_ends_and_keeps_the_edits_after(
    own_context: BrowserContext, own_engine: Engine
) -> None:
    page = own_context.new_page()
    page.goto(url(own_engine, "/"))
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_have_text(ADMIN[0])
    assert dev_mode_api(page, True) == 200
    # Created through the page's session (the one in Dev Mode).
    guid = page.evaluate(
        """async () => {
        const csrf = document.cookie.split('; ').find(c => c.startsWith('ae_csrf=')).split('=')[1];
        const r = await fetch('/api/assemblies', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
            body: JSON.stringify({domain: 'community',
            display_name: 'Shared tool', assembly_kind: 'script', assembly_type: 'bash', summary: 'stored',
            payload: {script: 'echo shared\\n'}})});
        return (await r.json()).assembly_guid;
    }"""
    )
    page.goto(url(own_engine, f"/assemblies/{guid}"))
    expect(page.get_by_test_id("dev-mode-banner")).to_be_visible()
    page.get_by_test_id("field-description").fill("edited in Dev Mode")

    ending = page.get_by_test_id("dev-mode-ending")
    expect(ending).to_contain_text("less than a minute", timeout=DEV_MODE_SECONDS * 1000)
    expect(ending.get_by_test_id("dev-mode-extend")).to_be_visible()
    expect(page.get_by_test_id("notice")).to_contain_text("Dev Mode has ended", timeout=90_000)
    expect(page.get_by_test_id("dev-mode-ended")).to_be_visible()
    expect(page.get_by_test_id("field-description")).to_have_value("edited in Dev Mode")
    expect(page.get_by_test_id("unsaved-badge")).to_be_visible()
    with own_engine.api() as api:
        assert api.get(f"/api/assemblies/{guid}").json()["summary"] == "stored"
