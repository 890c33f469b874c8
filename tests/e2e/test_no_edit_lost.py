"""Unsaved edits survive what ends the work around them: a session that ends (signed out
elsewhere) before Save, a reload of the tab, Dev Mode switched off in another tab. The
edits are kept (in the page and in the browser's draft) and saved once possible."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.support import ADMIN, OPERATOR, Engine, dev_mode_api, sign_in

pytestmark = pytest.mark.e2e


def own_assembly(engine: Engine) -> str:
    with engine.api(OPERATOR) as api:
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": f"Kept edits {uuid.uuid4().hex[:6]}",
                "assembly_kind": "script",
                "assembly_type": "python",
                "summary": "stored",
                "category": "drafts",
                "payload": {"script": "print('stored')\n"},
            },
        )
        created.raise_for_status()
    return str(created.json()["assembly_guid"])


def stored(engine: Engine, guid: str) -> dict[str, Any]:
    with engine.api(ADMIN) as api:
        return dict(api.get(f"/api/assemblies/{guid}").json())


def sign_out_elsewhere(page: Page, engine: Engine) -> None:
    """End the page's session from outside the page, as another tab's Sign out would."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    reply = httpx.post(
        f"{engine.process.url}/api/auth/logout",
        cookies=cookies,
        headers={"X-CSRF-Token": cookies["ae_csrf"]},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text


def save_unless_asked(page: Page) -> bool:
    """Press Save; False when the page had already noticed the ended session (a background
    read got 401) and asks to sign in again before Save could be pressed: that dialog covers
    the page, and the edit is kept either way."""
    if page.get_by_test_id("reauth-dialog").is_visible():
        return False
    try:
        page.get_by_test_id("save").click(timeout=5000)
    except PlaywrightTimeout:
        return False
    return True


def test_an_ended_session_keeps_the_edit_and_saves_it_after_signing_in_again(
    page: Page, engine: Engine
) -> None:
    guid = own_assembly(engine)
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("field-description")).to_have_value("stored")
    page.get_by_test_id("field-description").fill("typed before the session ended")
    sign_out_elsewhere(page, engine)

    pressed = save_unless_asked(page)
    dialog = page.get_by_test_id("reauth-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("nothing on this page is lost")
    # The editor stays underneath with the edit in it.
    expect(page.get_by_test_id("field-description")).to_have_value("typed before the session ended")
    assert stored(engine, guid)["summary"] == "stored"

    dialog.get_by_label("Password").fill("wrong password")
    dialog.get_by_test_id("reauth-submit").click()
    expect(dialog.get_by_test_id("reauth-error")).to_be_visible()
    dialog.get_by_label("Password").fill(OPERATOR[1])
    dialog.get_by_test_id("reauth-submit").click()
    expect(dialog).to_have_count(0)
    if not pressed:
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    expect(page.get_by_test_id("unsaved-badge")).to_have_count(0)
    record = stored(engine, guid)
    assert (record["summary"], record["revision"]) == ("typed before the session ended", 2)


def test_after_signing_in_again_a_save_meanwhile_by_someone_else_is_a_conflict(
    page: Page, engine: Engine
) -> None:
    guid = own_assembly(engine)
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("field-description")).to_have_value("stored")
    page.get_by_test_id("field-category").fill("mine")
    sign_out_elsewhere(page, engine)
    with engine.api(OPERATOR) as api:
        api.put(
            f"/api/assemblies/{guid}", json={"summary": "theirs"}, headers={"If-Match": "1"}
        ).raise_for_status()

    pressed = save_unless_asked(page)
    dialog = page.get_by_test_id("reauth-dialog")
    dialog.get_by_label("Password").fill(OPERATOR[1])
    dialog.get_by_test_id("reauth-submit").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_test_id("field-category")).to_have_value("mine")
    if not pressed:
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("conflict-dialog")).to_be_visible()
    assert stored(engine, guid)["category"] == "drafts"


def test_a_reload_offers_the_unsaved_edits_back(page: Page, engine: Engine) -> None:
    guid = own_assembly(engine)
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    page.get_by_test_id("field-description").fill("kept across a reload")
    page.once("dialog", lambda d: d.accept())  # the browser's "leave the page?"
    page.reload()
    offer = page.get_by_test_id("draft-offer")
    expect(offer).to_contain_text("unsaved edits of this assembly")
    expect(page.get_by_test_id("field-description")).to_have_value("stored")
    offer.get_by_test_id("draft-restore").click()
    expect(page.get_by_test_id("field-description")).to_have_value("kept across a reload")
    expect(page.get_by_test_id("unsaved-badge")).to_be_visible()
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved")
    assert stored(engine, guid)["summary"] == "kept across a reload"
    # Saved: nothing is offered any more.
    page.reload()
    expect(page.get_by_test_id("field-description")).to_have_value("kept across a reload")
    expect(page.get_by_test_id("draft-offer")).to_have_count(0)


def test_a_discarded_draft_is_gone(page: Page, engine: Engine) -> None:
    guid = own_assembly(engine)
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    page.get_by_test_id("field-description").fill("not wanted")
    page.once("dialog", lambda d: d.accept())
    page.reload()
    page.get_by_test_id("draft-offer").get_by_test_id("draft-discard").click()
    expect(page.get_by_test_id("draft-offer")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("field-description")).to_have_value("stored")
    expect(page.get_by_test_id("draft-offer")).to_have_count(0)


def test_dev_mode_ended_elsewhere_keeps_the_edits_savable_as_a_copy(page: Page, engine: Engine) -> None:
    sign_in(page, ADMIN)
    assert dev_mode_api(page, True) == 200
    # Created through the page's own session, the one in Dev Mode.
    guid = page.evaluate(
        """async () => {
        const csrf = document.cookie.split('; ').find(c => c.startsWith('ae_csrf=')).split('=')[1];
        const r = await fetch('/api/assemblies', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
            body: JSON.stringify({domain: 'community', display_name: 'Community kept edits',
            assembly_kind: 'script', assembly_type: 'bash', summary: 'stored',
            payload: {script: 'echo\\n'}})});
        return (await r.json()).assembly_guid;
    }"""
    )
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("field-description")).to_have_value("stored")
    page.get_by_test_id("field-description").fill("community edit")
    assert dev_mode_api(page, False) == 200  # another tab of this session

    page.get_by_test_id("save").click()
    banner = page.get_by_test_id("dev-mode-ended")
    expect(banner).to_contain_text("Your edits are kept")
    # Not shown as stored: the form stays editable, marked unsaved.
    expect(page.get_by_test_id("field-description")).to_have_value("community edit")
    expect(page.get_by_test_id("unsaved-badge")).to_be_visible()
    expect(page.get_by_test_id("read-only-banner")).to_have_count(0)
    assert stored(engine, guid)["summary"] == "stored"

    banner.get_by_test_id("stranded-save-copy").click()
    expect(page.get_by_test_id("notice")).to_contain_text("saved as")
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    copy = stored(engine, page.url.rsplit("/", 1)[1])
    assert (copy["source"], copy["summary"]) == ("user", "community edit")
    assert stored(engine, guid)["summary"] == "stored"
