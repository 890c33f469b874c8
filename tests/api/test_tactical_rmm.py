"""A Tactical RMM entry with its script text through POST /api/assemblies/import."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from tests.support import CORPUS, temp_settings

TRMM = CORPUS / "tactical-rmm"
ENTRIES: list[dict[str, Any]] = (
    json.loads((TRMM / "community_scripts.json").read_bytes()) if TRMM.is_dir() else []
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = temp_settings(tmp_path_factory.mktemp("trmm"))
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        yield http, {"Authorization": f"Bearer {token}"}


def entry_with(predicate: Any) -> dict[str, Any]:
    return next(entry for entry in ENTRIES if predicate(entry))


@pytest.mark.parametrize("which", ["bom", "crlf", "int-timeout", "no-timeout"])
def test_one_entry_with_its_script_text_imports_byte_exact(
    api: tuple[TestClient, dict[str, str]],
    which: str,
) -> None:
    http, headers = api
    scripts = TRMM / "scripts"
    entry = {
        "bom": lambda: entry_with(lambda e: (scripts / e["filename"]).read_bytes()[:3] == b"\xef\xbb\xbf"),
        "crlf": lambda: entry_with(lambda e: b"\r\n" in (scripts / e["filename"]).read_bytes()),
        "int-timeout": lambda: entry_with(lambda e: isinstance(e.get("default_timeout"), int)),
        "no-timeout": lambda: entry_with(lambda e: "default_timeout" not in e),
    }[which]()
    raw = (scripts / entry["filename"]).read_bytes()
    answer = http.post(
        "/api/assemblies/import", headers=headers, json={"document": entry, "script": raw.decode("utf-8")}
    )
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert record["display_name"] == entry["name"] and record["tags"] == entry["supported_platforms"]
    assert record["metadata"]["legacy"]["tactical_rmm"] == entry
    exported = http.get(f"/api/assemblies/{record['assembly_guid']}/export", headers=headers).json()
    assert base64.b64decode(exported["script"]) == raw
    assert exported["tactical_rmm"] == entry


def test_script_base64_is_byte_exact_for_any_bytes(api: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = api
    raw = b"@echo off\r\necho \xe9t\xe9\r\n"  # Windows-1252, not UTF-8
    entry = {**ENTRIES[1], "filename": "latin.bat"}
    answer = http.post(
        "/api/assemblies/import",
        headers=headers,
        json={"document": entry, "script_base64": base64.b64encode(raw).decode()},
    )
    assert answer.status_code == 201, answer.text
    exported = http.get(f"/api/assemblies/{answer.json()['assembly_guid']}/export", headers=headers).json()
    assert base64.b64decode(exported["script"]) == raw


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"script": None}, "needs its script"),
        ({"script": "x", "script_base64": "eA=="}, "send the script once"),
        ({"script_base64": "not base64!"}, "script_base64 is not valid base64"),
    ],
)
def test_bad_entry_requests_are_refused_and_change_nothing(
    api: tuple[TestClient, dict[str, str]],
    body: dict[str, Any],
    message: str,
) -> None:
    http, headers = api
    before = http.get("/api/assemblies", headers=headers).json()["total"]
    answer = http.post("/api/assemblies/import", headers=headers, json={"document": ENTRIES[0], **body})
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["message"]
    assert http.get("/api/assemblies", headers=headers).json()["total"] == before


def test_a_script_next_to_another_document_is_refused(api: tuple[TestClient, dict[str, str]]) -> None:
    http, headers = api
    answer = http.post(
        "/api/assemblies/import",
        headers=headers,
        json={"document": {"name": "x", "type": "bash", "script": "echo\n"}, "script": "echo\n"},
    )
    assert answer.status_code == 422 and "only for a Tactical RMM entry" in answer.json()["message"]
