"""Response models (services/answers/): /openapi.json documents every answer, and the models
describe the answers without changing them (the contract run checks real answers against
the document; test_openapi_contract.py)."""

from __future__ import annotations

from typing import Any

import pytest

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from tests.api.support import ADMIN_DEV, OPERATOR, ApiEngine, create_body

# Answers that are free-form by design: the legacy document of an export.
FREE_FORM = {
    ("get", "/api/assemblies/{guid}/export"),
    ("get", "/api/assemblies/{guid}/revisions/{revision}/export"),
}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    ]


def test_every_answer_is_documented(settings: Settings) -> None:
    document = create_app(settings, console_log=False).openapi()
    undocumented = []
    for method, path, operation in _operations(document):
        success = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert success, f"{method.upper()} {path} documents no success answer"
        for code, response in success.items():
            content = response.get("content", {})
            if (method, path) == ("get", "/api/assemblies/{guid}/files/{file_name}"):
                assert list(content) == ["application/octet-stream"]
                continue
            if (method, path) == ("post", "/api/assemblies/bulk/export"):
                assert list(content) == ["application/zip"]  # a zip of library-folder files
                continue
            if (method, path) == ("get", "/metrics"):
                assert list(content) == ["text/plain"]  # the Prometheus text format
                continue
            if code == "204":
                assert not content  # no content, as the status says
                continue
            schema = content["application/json"]["schema"]
            named = "$ref" in schema or all("$ref" in s for s in schema.get("anyOf", [{}]))
            if not named and (method, path) not in FREE_FORM:
                undocumented.append(f"{method.upper()} {path} {code}: {schema}")
    assert not undocumented, "\n".join(undocumented)


@pytest.mark.parametrize(("caller", "shows_payload_guid"), [(OPERATOR, False), (ADMIN_DEV, True)])
def test_payload_guid_only_for_admins_in_every_record_answer(
    api: ApiEngine, caller: str, shows_payload_guid: bool
) -> None:
    """A model field the answer leaves out stays out (it is not filled in as null)."""
    created = api.request(caller, "POST", "/api/assemblies", json=create_body("user"))
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    answers = [
        created,
        api.request(caller, "GET", f"/api/assemblies/{guid}"),
        api.request(caller, "PUT", f"/api/assemblies/{guid}", json={"summary": "changed"}),
        api.request(caller, "GET", f"/api/assemblies/{guid}/revisions/1"),
        api.request(caller, "POST", f"/api/assemblies/{guid}/revisions/1/restore"),
        api.request(caller, "POST", f"/api/assemblies/{guid}/clone"),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert ("payload_guid" in answer.json()) is shows_payload_guid, answer.request.url
    deleted = api.request(caller, "DELETE", f"/api/assemblies/{guid}")
    assert deleted.status_code == 202, deleted.text
    assert set(deleted.json()) == {"assembly_guid", "source", "status", "is_dirty"}
    page = api.request(caller, "GET", "/api/assemblies/deleted?limit=1000").json()
    item = next(i for i in page["items"] if i["assembly_guid"] == guid)
    assert ("payload_guid" in item) is shows_payload_guid


def test_a_workflow_detail_keeps_its_shape(api: ApiEngine) -> None:
    body = {
        "display_name": "answer workflow",
        "assembly_kind": "workflow",
        "assembly_type": "workflow",
        "payload": {"workflow": {"nodes": [{"id": "a", "big": 2**62}], "edges": [], "extra": {"x": None}}},
    }
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
    assert created.status_code == 201, created.text
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{created.json()['assembly_guid']}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["payload"] == body["payload"]


def test_import_answers_a_record_or_a_dry_run(api: ApiEngine) -> None:
    document = {"name": "answer import", "type": "powershell", "script": "Write-Host 1"}
    dry = api.request(
        OPERATOR, "POST", "/api/assemblies/import", json={"document": document, "dry_run": True}
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert dry.json()["would_create"]["replaces"] is None
    made = api.request(OPERATOR, "POST", "/api/assemblies/import", json={"document": document})
    assert made.status_code == 201, made.text
    assert "dry_run" not in made.json() and "payload_guid" not in made.json()
