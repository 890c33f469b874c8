"""Import legacy documents through the editor, save them, export them again."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, sign_in
from tests.legacy_comparison import normalise_for_comparison
from tests.support import CORPUS

pytestmark = pytest.mark.e2e

SCRIPTS = sorted((CORPUS / "scripts").glob("*.json"))
OTHERS = sorted((CORPUS / "workflows").glob("*.json")) + sorted((CORPUS / "ansible_playbooks").glob("*.yml"))


def test_corpus_is_there() -> None:
    assert SCRIPTS, f"no legacy script documents under {CORPUS / 'scripts'}"


def import_file(page: Page, path: Path) -> None:
    page.get_by_test_id("import-export").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("import-json").click()
    chooser.value.set_files(path)


def expected_name(path: Path) -> str:
    if path.suffix != ".json":
        return path.stem
    document = json.loads(path.read_text(encoding="utf-8"))
    return str(document.get("name") or document.get("tab_name") or path.stem)


def import_save_export(page: Page, engine: Engine, path: Path) -> None:
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    import_file(page, path)
    name = expected_name(path)
    expect(page.get_by_test_id("field-name")).to_have_value(name)
    expect(page.get_by_test_id("new-badge")).to_be_visible()
    expect(page.get_by_test_id("assembly-editor").get_by_test_id("domain-badge")).to_have_text("User-Created")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    guid = page.url.rsplit("/", 1)[1]
    expect(page.get_by_test_id("editor-title")).to_have_text(name)

    with engine.api(OPERATOR) as api:
        record = api.get(f"/api/assemblies/{guid}").json()
        assert record["source"] == "user"
        assert record["display_name"] == name

        # Export from the editor: the download is the API's export, and a lossless round trip.
        page.get_by_test_id("import-export").click()
        with page.expect_download() as download:
            page.get_by_test_id("export-json").click()
        downloaded = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert download.value.suggested_filename.endswith(".json")
        assert downloaded == api.get(f"/api/assemblies/{guid}/export").json()
    if path.suffix == ".json":
        original = json.loads(path.read_text(encoding="utf-8"))
        assert normalise_for_comparison(downloaded) == normalise_for_comparison(original)

    # Listed as User-Created.
    page.get_by_text("Back to list").click()
    page.get_by_test_id("quick-search").fill(name)
    row = page.locator(f'.ag-row[row-id="{guid}"]')
    expect(row.get_by_test_id("assembly-name")).to_have_text(name)
    expect(row.get_by_test_id("domain-badge")).to_have_text("User-Created")


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_import_script_save_and_export(page: Page, engine: Engine, path: Path) -> None:
    import_save_export(page, engine, path)


@pytest.mark.parametrize("path", OTHERS, ids=[p.stem for p in OTHERS])
def test_import_workflow_and_playbook(page: Page, engine: Engine, path: Path) -> None:
    import_save_export(page, engine, path)


def test_imported_then_edited_is_created_from_the_form(page: Page, engine: Engine) -> None:
    path = CORPUS / "scripts" / "Hello World.json"
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    import_file(page, path)
    expect(page.get_by_test_id("field-name")).to_have_value("Hello World")
    expect(page.get_by_test_id("code-editor")).to_contain_text("Write-Host $env:Message")
    expect(page.get_by_test_id("variable-name")).to_have_value("Message")
    page.get_by_test_id("field-name").fill("Hello World (edited)")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/assemblies/[0-9a-f]{32}$"))
    guid = page.url.rsplit("/", 1)[1]
    with engine.api(OPERATOR) as api:
        record = api.get(f"/api/assemblies/{guid}").json()
    assert record["source"] == "user"
    assert record["display_name"] == "Hello World (edited)"
    assert record["metadata"]["timeout_seconds"] == 3600
    assert record["metadata"]["sites"] == {"mode": "specific", "values": ["1"]}
    assert [v["name"] for v in record["metadata"]["variables"]] == ["Message"]
    assert record["payload"]["script"] == "Write-Host $env:Message\n\n\n\n\n"


def test_a_file_that_is_not_a_legacy_document_is_refused(page: Page, tmp_path: Path) -> None:
    bogus = tmp_path / "not-an-assembly.json"
    bogus.write_text(json.dumps({"hello": "world"}), encoding="utf-8")
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    import_file(page, bogus)
    error = page.get_by_test_id("editor-error")
    expect(error).to_contain_text("not a legacy assembly document")
    expect(error).not_to_contain_text("{")
    expect(page.get_by_test_id("field-name")).to_have_value("")


def test_the_editor_import_uses_the_engine_parser(page: Page, engine: Engine, tmp_path: Path) -> None:
    # An upstream item (which only the engine's parser knows) fills the form ...
    item = CORPUS / "items" / "6df431a02cedb99d843f05ac5f1be3998913c397.json"
    sign_in(page, OPERATOR)
    page.goto("/assemblies/new/script")
    import_file(page, item)
    expect(page.get_by_test_id("field-name")).to_have_value("Shutdown Device [WIN]")
    expect(page.get_by_test_id("code-editor")).to_contain_text("shutdown.exe")
    expect(page.get_by_test_id("variable-name")).to_have_value("timeout")
    # ... and what the engine refuses, the editor refuses with the engine's reason
    # (the removed browser parser used to accept base64 with line breaks).
    odd = tmp_path / "odd-base64.json"
    odd.write_text(
        json.dumps(
            {
                "name": "x",
                "type": "bash",
                "script": "echo\n",
                "files": [{"file_name": "a.bin", "data": "aGVs\nbG8="}],
            }
        ),
        encoding="utf-8",
    )
    import_file(page, odd)
    expect(page.get_by_test_id("editor-error")).to_contain_text("files[0].data is not valid base64")


def test_the_browser_parser_is_gone() -> None:
    web = Path(__file__).resolve().parents[2] / "web" / "src"
    assert not (web / "legacy.js").exists()
    sources = [p.read_text(encoding="utf-8") for p in web.rglob("*.js*")]
    assert not any("parseLegacyFile" in text or "legacy.js" in text for text in sources)
