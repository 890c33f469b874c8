"""Import and export through the API, over every document of the real legacy corpus."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.services.assemblies.legacy import ENGINE_KEY
from tests.api.support import BACKENDS, settings_on
from tests.legacy_comparison import normalise_for_comparison
from tests.support import CORPUS, temp_settings

# Tactical RMM's manifest is not one document; tests/api/test_tactical_rmm.py imports it.
CORPUS_FILES = (
    sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file()
        and p.suffix in {".json", ".yml", ".yaml"}
        and p.relative_to(CORPUS).parts[0] != "tactical-rmm"
    )
    if CORPUS.exists()
    else []
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = temp_settings(tmp_path_factory.mktemp("import-export"))
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        yield http, {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=BACKENDS)
def on_each_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The round trips again on each backend: embedded, and a cluster node on PostgreSQL."""
    root = tmp_path_factory.mktemp("round-trip")
    with (
        settings_on(request.param, request, root) as settings,
        TestClient(create_app(settings, console_log=False)) as http,
    ):
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        yield http, {"Authorization": f"Bearer {token}"}


def import_file(http: TestClient, headers: dict[str, str], path: Path) -> Any:
    document: Any = json.loads(path.read_bytes()) if path.suffix == ".json" else path.read_text()
    return http.post(
        "/api/assemblies/import", headers=headers, json={"document": document, "file_name": path.name}
    )


def without_engine_block(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != ENGINE_KEY}


def test_the_corpus_is_there() -> None:
    assert len(CORPUS_FILES) >= 20, f"expected the legacy corpus at {CORPUS}"


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_document_round_trips_through_the_api(
    on_each_backend: tuple[TestClient, dict[str, str]], path: Path
) -> None:
    http, headers = on_each_backend
    imported = import_file(http, headers, path)
    assert imported.status_code == 201, imported.text
    record = imported.json()
    assert record["source"] == "user"
    exported = http.get(f"/api/assemblies/{record['assembly_guid']}/export", headers=headers)
    assert exported.status_code == 200
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and "/" not in disposition
    document = exported.json()
    assert document[ENGINE_KEY]["assembly_guid"] == record["assembly_guid"]
    if path.suffix == ".json":
        assert normalise_for_comparison(document) == normalise_for_comparison(json.loads(path.read_bytes()))
    else:  # a raw playbook comes back as a document whose script is the exact YAML text
        assert base64.b64decode(document["script"]) == path.read_bytes()
    # Importing the export again (it names this assembly, which we may write) replaces it in
    # place, and the next export is the same document.
    again = http.post("/api/assemblies/import", headers=headers, json={"document": document})
    assert again.status_code == 200 and again.json()["assembly_guid"] == record["assembly_guid"]
    second = http.get(f"/api/assemblies/{record['assembly_guid']}/export", headers=headers).json()
    assert without_engine_block(second) == without_engine_block(document)


def test_variables_of_every_type_and_binary_attachments_round_trip(
    on_each_backend: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = on_each_backend
    blob = bytes(range(256)) * 4 + b"\x00\xff\xfe"
    document = {
        "version": 1,
        "name": "Everything",
        "description": "",
        "category": "script",
        "type": "bash",
        "script": base64.b64encode(b'#!/bin/bash\necho "$Target"\n').decode(),
        "script_encoding": "base64",
        "timeout_seconds": 120,
        "sites": {"mode": "specific", "values": ["1", "7"]},
        "variables": [
            {
                "name": "Target",
                "label": "Target",
                "type": "string",
                "default": "x",
                "required": True,
                "description": "a string",
            },
            {
                "name": "Count",
                "label": "Count",
                "type": "number",
                "default": 3,
                "required": False,
                "description": "a number",
            },
            {
                "name": "Force",
                "label": "Force",
                "type": "boolean",
                "default": False,
                "required": False,
                "description": "a flag",
            },
            {
                "name": "Secret",
                "label": "Secret",
                "type": "credential",
                "default": "",
                "required": False,
                "description": "a credential",
            },
            {
                "name": "Mode",
                "label": "Mode",
                "type": "select",
                "default": "fast",
                "options": ["fast", "slow"],
                "required": False,
                "description": "a choice",
            },
        ],
        "files": [
            {
                "file_name": "tool.bin",
                "size": len(blob),
                "mime_type": "application/octet-stream",
                "data": base64.b64encode(blob).decode(),
            }
        ],
    }
    created = http.post("/api/assemblies/import", headers=headers, json={"document": document})
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    attachment = http.get(f"/api/assemblies/{guid}/files/tool.bin", headers=headers)
    assert attachment.status_code == 200 and attachment.content == blob
    exported = http.get(f"/api/assemblies/{guid}/export", headers=headers).json()
    assert normalise_for_comparison(exported) == normalise_for_comparison(document)


def test_export_of_a_missing_payload_is_a_409_naming_the_assembly(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = api
    created = import_file(http, headers, CORPUS / "scripts" / "Hello World.json").json()
    services = http.app.state.services  # type: ignore[attr-defined]
    folder = services.storage.payloads.path_for(created["payload_guid"])
    for child in folder.iterdir():
        if child.is_file() and child.name != "manifest.json":
            child.unlink()
    response = http.get(f"/api/assemblies/{created['assembly_guid']}/export", headers=headers)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "integrity_error"
    assert "Hello World" in body["message"] and "missing" in body["message"]


def test_runners_resolve_an_assembly_to_its_verified_content(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = api
    created = import_file(http, headers, CORPUS / "scripts" / "Unlock_AD_Account.json").json()
    services = http.app.state.services  # type: ignore[attr-defined]
    content = services.assemblies.resolve_payload(created["assembly_guid"])
    assert content.main_file_name == "script.ps1"
    assert content.text == "$UserName = $env:User_Name\nUnlock-ADAccount -Identity $UserName"
    assert content.files == ()


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"name": "my-package", "version": "1.0.0", "dependencies": {}},
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "array", "items": {}},
        [{"guid": "x", "filename": "a.ps1"}],
        "",
    ],
    ids=["empty", "package-manifest", "json-schema", "a-list", "empty-text"],
)
def test_what_is_no_assembly_is_called_so_with_what_was_expected(
    api: tuple[TestClient, dict[str, str]],
    document: Any,
) -> None:
    http, headers = api
    before = http.get("/api/assemblies", headers=headers).json()["total"]
    answer = http.post("/api/assemblies/import", headers=headers, json={"document": document})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    if document == "":
        assert body["error"] == "invalid_document"  # text that is neither JSON nor YAML plays
    else:
        assert body["error"] == "not_an_assembly"
        assert body["message"].startswith("not an assembly document")
        assert "expected a legacy script document" in body["message"]
        assert "is missing" not in body["message"]
    assert http.get("/api/assemblies", headers=headers).json()["total"] == before


def test_workflow_exported_without_tab_name_imports_back(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = api
    first = http.post(
        "/api/assemblies/import",
        headers=headers,
        json={
            "document": {"nodes": [{"id": "a"}], "edges": []},
            "file_name": "Unnamed Flow.json",
        },
    )
    assert first.status_code == 201, first.text
    exported = http.get(f"/api/assemblies/{first.json()['assembly_guid']}/export", headers=headers).json()
    assert "tab_name" not in exported
    exported[ENGINE_KEY]["assembly_guid"] = "f" * 32  # names no assembly: a new one
    again = http.post("/api/assemblies/import", headers=headers, json={"document": exported})
    assert again.status_code == 201, again.text
    assert again.json()["display_name"] == "Unnamed Flow"


def test_plain_script_bytes_import_through_document_base64(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    http, headers = api
    raw = b"\xef\xbb\xbfWrite-Host 'hi'\r\n"
    answer = http.post(
        "/api/assemblies/import",
        headers=headers,
        json={"document_base64": base64.b64encode(raw).decode(), "file_name": "Windows/Greet.ps1"},
    )
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert (record["display_name"], record["category"], record["assembly_type"]) == (
        "Greet",
        "Windows",
        "powershell",
    )
    exported = http.get(f"/api/assemblies/{record['assembly_guid']}/export", headers=headers).json()
    assert base64.b64decode(exported["script"]) == raw
    both = http.post(
        "/api/assemblies/import",
        headers=headers,
        json={"document": "x", "document_base64": "eA==", "file_name": "a.ps1"},
    )
    assert both.status_code == 422 and "send the document once" in both.json()["message"]
    neither = http.post("/api/assemblies/import", headers=headers, json={"file_name": "a.ps1"})
    assert neither.status_code == 422 and "document is missing" in neither.json()["message"]


def test_dry_run_answers_what_import_would_create_and_creates_nothing(
    api: tuple[TestClient, dict[str, str]],
    tmp_path: Path,
) -> None:
    http, headers = api
    item = json.loads((CORPUS / "items" / "6df431a02cedb99d843f05ac5f1be3998913c397.json").read_bytes())
    before = http.get("/api/assemblies", headers=headers).json()["total"]
    answer = http.post("/api/assemblies/import", headers=headers, json={"document": item, "dry_run": True})
    assert answer.status_code == 200, answer.text
    preview = answer.json()["would_create"]
    assert answer.json()["dry_run"] is True
    assert preview["display_name"] == "Shutdown Device [WIN]" and preview["assembly_type"] == "powershell"
    assert preview["payload"]["script"] == base64.b64decode(item["payload"]["script"]).decode()
    assert preview["metadata"]["variables"] == item["payload"]["variables"]
    assert preview["replaces"] is None
    assert http.get("/api/assemblies", headers=headers).json()["total"] == before
    # the same parser: what the dry run shows is what the import creates
    created = http.post("/api/assemblies/import", headers=headers, json={"document": item}).json()
    for key in (
        "display_name",
        "summary",
        "category",
        "assembly_kind",
        "assembly_type",
        "version",
        "metadata",
        "tags",
    ):
        assert created[key] == preview[key], key
    # a dry run of its export says it would replace it; as_new says it would not
    exported = http.get(f"/api/assemblies/{created['assembly_guid']}/export", headers=headers).json()
    again = http.post(
        "/api/assemblies/import", headers=headers, json={"document": exported, "dry_run": True}
    ).json()["would_create"]
    assert again["replaces"] == created["assembly_guid"]
    fresh = http.post(
        "/api/assemblies/import",
        headers=headers,
        json={"document": exported, "dry_run": True, "as_new": True},
    ).json()
    assert fresh["would_create"]["replaces"] is None
    new = http.post("/api/assemblies/import", headers=headers, json={"document": exported, "as_new": True})
    assert new.status_code == 201 and new.json()["assembly_guid"] != created["assembly_guid"]


def test_a_refused_dry_run_names_the_problem(api: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = api
    document = {
        "name": "x",
        "type": "bash",
        "script": "echo\n",
        "files": [{"file_name": "a.bin", "data": "aGVs\nbG8="}],
    }
    answer = http.post(
        "/api/assemblies/import", headers=headers, json={"document": document, "dry_run": True}
    )
    assert answer.status_code == 422
    assert "document.files[0].data is not valid base64" in answer.json()["message"]


def test_a_workflow_gets_the_same_payload_whether_imported_or_created(tmp_path: Path) -> None:
    # One workflow encoding for the whole engine: the same canvas must not get two
    # checksums depending on the door it came in by.
    settings = temp_settings(tmp_path)
    workflow = {"tab_name": "Same canvas", "nodes": [{"id": "n1", "label": "Prüfen"}], "edges": []}
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        headers = {"Authorization": f"Bearer {token}"}
        imported = http.post("/api/assemblies/import", headers=headers, json={"document": workflow})
        created = http.post(
            "/api/assemblies",
            headers=headers,
            json={
                "display_name": "Same canvas",
                "assembly_kind": "workflow",
                "assembly_type": "workflow",
                "payload": {"workflow": workflow},
            },
        )
        assert imported.status_code == 201, imported.text
        assert created.status_code == 201, created.text
        folders = [settings.payloads_root / answer.json()["payload_guid"] for answer in (imported, created)]
        manifests = [(folder / "manifest.json").read_bytes() for folder in folders]
        mains = [(folder / "workflow.json").read_bytes() for folder in folders]
    assert folders[0] != folders[1]
    assert mains[0] == mains[1]
    assert hashlib.sha256(manifests[0]).hexdigest() == hashlib.sha256(manifests[1]).hexdigest()
