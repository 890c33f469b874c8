"""At most input_limits.FILES_PER_ASSEMBLY attached files per assembly (issue 23, finding 9):
create, update, import and clone all respect it, and a refusal changes nothing."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from assembly_engine import input_limits as limits
from tests.api.support import OPERATOR, ApiEngine, assert_unchanged, create_body, snapshot

DATA = base64.b64encode(b"x").decode()


def attachments(count: int) -> list[dict[str, Any]]:
    return [{"file_name": f"f{i}.txt", "data": DATA} for i in range(count)]


def refused(api: ApiEngine, method: str, url: str, body: Any) -> str:
    before = snapshot(api.services)
    response = api.request(OPERATOR, method, url, json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["error"] == "invalid_document"
    assert f"the limit is {limits.FILES_PER_ASSEMBLY}" in answer["message"], answer["message"]
    assert_unchanged(before, snapshot(api.services))
    message: str = answer["message"]
    return message


def with_files(count: int) -> dict[str, Any]:
    return {**create_body("user"), "payload": {"script": "Write-Host 1\n", "files": attachments(count)}}


def test_create_and_update_stop_at_the_limit(api: ApiEngine) -> None:
    at_limit = api.request(OPERATOR, "POST", "/api/assemblies", json=with_files(limits.FILES_PER_ASSEMBLY))
    assert at_limit.status_code == 201, at_limit.text
    refused(api, "POST", "/api/assemblies", with_files(limits.FILES_PER_ASSEMBLY + 1))
    guid = at_limit.json()["assembly_guid"]
    more = {"payload": {"files": attachments(limits.FILES_PER_ASSEMBLY + 1)}}
    refused(api, "PUT", f"/api/assemblies/{guid}", more)


def test_an_imported_document_with_too_many_files_is_refused(api: ApiEngine) -> None:
    document = {
        "name": "Many files",
        "type": "powershell",
        "script": "Write-Host 1",
        "files": attachments(limits.FILES_PER_ASSEMBLY + 1),
    }
    refused(api, "POST", "/api/assemblies/import", {"document": document})


def test_clone_respects_the_limit(api: ApiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=with_files(3))
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    # An assembly stored when the limit was higher: lowering the limit stands in for it.
    monkeypatch.setattr(limits, "FILES_PER_ASSEMBLY", 2)
    refused(api, "POST", f"/api/assemblies/{guid}/clone", {"target_domain": "user"})
    monkeypatch.setattr(limits, "FILES_PER_ASSEMBLY", 3)
    cloned = api.request(OPERATOR, "POST", f"/api/assemblies/{guid}/clone", json={"target_domain": "user"})
    assert cloned.status_code == 201, cloned.text
