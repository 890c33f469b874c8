"""The editor as it is used every day: a sticky action bar, a readable read-only view,
clones that can be told apart, validation messages, the tab title."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, OPERATOR, Engine, artifact, open_new_script, sign_in

pytestmark = pytest.mark.e2e


def official_with_variables(engine: Engine) -> dict:
    with engine.api() as api:
        params = {"domain": "official", "kind": "script", "limit": 200}
        items = api.get("/api/assemblies", params=params).json()["items"]
        # List items leave metadata out: the detail has it.
        details = [api.get(f"/api/assemblies/{i['assembly_guid']}").json() for i in items]
    with_variables = [i for i in details if i["metadata"].get("variables")]
    assert with_variables, "no official script with variables"
    return max(
        with_variables, key=lambda i: max(len(v.get("description") or "") for v in i["metadata"]["variables"])
    )


def a_script_with_variables(engine: Engine, name: str) -> str:
    variables = [
        {
            "name": f"Var{i}",
            "label": f"Variable {i}",
            "type": "string",
            "default": "",
            "required": False,
            "description": f"Description {i}",
        }
        for i in range(12)
    ]
    with engine.api(OPERATOR) as api:
        return api.post(
            "/api/assemblies",
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "powershell",
                "category": "maintenance",
                "summary": "sticky bar",
                "metadata": {"variables": variables},
                "payload": {"script": "".join(f"Write-Output {i}\n" for i in range(40))},
            },
        ).json()["assembly_guid"]


def box(page: Page, test_id: str) -> dict:
    found = page.get_by_test_id(test_id).bounding_box()
    assert found is not None, test_id
    return found


def test_action_bar_stays_in_view_and_save_does_not_wrap_at_1440(page: Page, engine: Engine) -> None:
    name = f"Restart Print Spooler and Clear Stuck Jobs on Branch Servers {uuid.uuid4().hex[:4]}"
    guid = a_script_with_variables(engine, name)
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    expect(page).to_have_title(f"{name} · Assembly Engine")
    expect(page.get_by_test_id("editor-title")).to_have_text(name)
    save, io = box(page, "save"), box(page, "import-export")
    back = page.get_by_role("button", name="Back to list").bounding_box()
    assert back is not None
    # One line: Back, the title, Import/Export and Save share a row.
    assert abs(save["y"] - io["y"]) < 2 and abs(save["y"] - back["y"]) < 2, (save, io, back)
    assert save["height"] < 45, save
    assert save["x"] + save["width"] <= 1440

    # Edit a variable far down the page: Save is still on screen, and saves.
    last = page.get_by_test_id("variable-description").last
    last.scroll_into_view_if_needed()
    last.fill("changed far down")
    assert page.evaluate("() => window.scrollY") > 200
    save = box(page, "save")
    assert 0 <= save["y"] and save["y"] + save["height"] <= 900, save
    expect(page.get_by_test_id("save")).to_be_in_viewport()
    expect(page.get_by_test_id("unsaved-badge")).to_be_visible()
    page.screenshot(path=artifact("editor-sticky-bar-1440.png"))
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("persist-status")).to_contain_text("Revision 2")
    with engine.api(OPERATOR) as api:
        variables = api.get(f"/api/assemblies/{guid}").json()["metadata"]["variables"]
    assert variables[-1]["description"] == "changed far down"


def test_read_only_view_is_text_and_admins_can_enable_dev_mode_from_it(page: Page, engine: Engine) -> None:
    official = official_with_variables(engine)
    longest = max(official["metadata"]["variables"], key=lambda v: len(v.get("description") or ""))
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{official['assembly_guid']}")
    expect(page.get_by_test_id("read-only-banner")).to_be_visible()
    editor = page.get_by_test_id("assembly-editor")
    # No disabled inputs: every value is text, at full contrast, never cut off.
    expect(editor.locator("input:disabled, textarea:disabled")).to_have_count(0)
    # (History's "pick to compare" boxes are controls, not values.)
    values = editor.locator("input:not([type=file]):not([data-testid=history-pick]), textarea")
    expect(values).to_have_count(0)
    expect(page.get_by_test_id("text-name-value")).to_have_text(official["display_name"])
    if official["summary"]:
        expect(page.get_by_test_id("text-description-value")).to_have_text(official["summary"])
    cells = page.get_by_test_id("variable-description-text")
    expect(cells.filter(has_text=longest["description"])).to_have_count(1)
    cell = cells.filter(has_text=longest["description"])
    assert cell.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the description is cut off"
    color = page.get_by_test_id("text-name-value").evaluate("el => getComputedStyle(el).color")
    assert color in ("rgba(0, 0, 0, 0.87)", "rgb(0, 0, 0)"), color
    page.screenshot(path=artifact("editor-read-only-1440.png"), full_page=True)
    expect(page.get_by_test_id("enable-dev-mode")).to_have_count(0)  # operators cannot

    # An admin gets "Enable Dev Mode" next to "Clone to User-Created"; it opens the prompt.
    page.get_by_test_id("sign-out").click()
    sign_in(page, ADMIN)
    page.goto(f"/assemblies/{official['assembly_guid']}")
    clone, enable = page.get_by_test_id("clone-to-user"), page.get_by_test_id("enable-dev-mode")
    expect(enable).to_be_visible()
    assert abs(clone.bounding_box()["y"] - enable.bounding_box()["y"]) < 2
    enable.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Password").fill(ADMIN[1])
    dialog.get_by_label("Reason").fill("e2e: read-only view")
    dialog.get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("read-only-banner")).to_have_count(0)
    expect(page.get_by_test_id("field-name")).to_have_value(official["display_name"])
    page.get_by_test_id("dev-mode-banner").get_by_role("button", name="Disable Dev Mode").click()
    expect(page.get_by_test_id("read-only-banner")).to_be_visible()


def test_blank_and_duplicate_variable_names_are_refused_and_sites_keep_spaces(
    page: Page,
    engine: Engine,
) -> None:
    name = f"Validated {uuid.uuid4().hex[:6]}"
    sign_in(page, OPERATOR)
    open_new_script(page)
    expect(page).to_have_title("New Script · Assembly Engine")
    page.get_by_test_id("field-name").fill(name)
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("save").click()
    error = page.get_by_test_id("editor-error")
    expect(error).to_have_text("Variable row 1 has no name; give it one or remove the row.")
    rows = page.get_by_test_id("variable-row")
    expect(rows.nth(0)).to_have_attribute("data-invalid", "true")
    expect(rows.nth(1)).to_have_attribute("data-invalid", "true")
    expect(page).to_have_url(re.compile(r"/assemblies/new/script$"))  # nothing was sent

    page.get_by_test_id("variable-name").nth(0).fill("Target")
    page.get_by_test_id("variable-name").nth(1).fill("Target")
    page.get_by_test_id("save").click()
    expect(error).to_have_text("Variable row 2 is named “Target” like row 1; variable names must be unique.")
    expect(rows.nth(0)).not_to_have_attribute("data-invalid", "true")
    expect(rows.nth(1)).to_contain_text("like row 1")
    expect(page.get_by_test_id("variable-name").nth(1)).to_be_focused()
    page.screenshot(path=artifact("editor-validation-1440.png"))

    page.get_by_test_id("variable-name").nth(1).fill("Site")
    page.get_by_test_id("sites-specific").click()
    page.get_by_test_id("field-sites").press_sequentially("Main Office, Lab 2")
    expect(page.get_by_test_id("field-sites")).to_have_value("Main Office, Lab 2")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    guid = page.url.rsplit("/", 1)[1]
    with engine.api(OPERATOR) as api:
        record = api.get(f"/api/assemblies/{guid}").json()
    assert record["metadata"]["sites"] == {"mode": "specific", "values": ["Main Office", "Lab 2"]}
    assert [v["name"] for v in record["metadata"]["variables"]] == ["Target", "Site"]
    expect(page.get_by_test_id("field-sites")).to_have_value("Main Office, Lab 2")


def test_the_engine_refuses_what_the_client_let_through(page: Page, engine: Engine) -> None:
    """The engine is the rule: a blank name sent past the client's check (here by a script
    in the signed-in page, with the page's cookie and CSRF header) is refused, 422 naming
    the row."""
    with engine.api(OPERATOR) as api:
        guid = api.post(
            "/api/assemblies",
            json={
                "display_name": f"Server rule {uuid.uuid4().hex[:6]}",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": "true\n"},
            },
        ).json()["assembly_guid"]
    sign_in(page, OPERATOR)
    page.goto(f"/assemblies/{guid}")
    expect(page.get_by_test_id("field-name")).to_be_visible()
    reply = page.evaluate(
        """async (guid) => {
        const csrf = document.cookie.split('; ').find(c => c.startsWith('ae_csrf=')).split('=')[1];
        const r = await fetch(`/api/assemblies/${guid}`, {method: 'PUT', headers: {
            'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf)},
            body: JSON.stringify({metadata: {variables: [{name: 'A'}, {name: ''}]}})});
        return {status: r.status, body: await r.json()};
    }""",
        guid,
    )
    assert reply["status"] == 422
    assert "variable row 2" in reply["body"]["message"]
