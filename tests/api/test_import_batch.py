"""POST /api/assemblies/import/batch: many documents, one result each, group-committed."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from tests.api.support import BACKENDS, settings_on
from tests.support import CORPUS, temp_settings, wait_until


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str], Settings]]:
    """An embedded engine; a test parametrised with ``engine`` gets it on that backend."""
    backend = getattr(request, "param", "sqlite")
    with (
        settings_on(backend, request, tmp_path) as settings,
        TestClient(create_app(settings, console_log=False)) as http,
    ):
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        http.cookies.clear()
        yield http, {"Authorization": f"Bearer {token}"}, settings


def script(name: str, text: str = "echo hi\n") -> dict[str, Any]:
    return {"document": {"name": name, "type": "bash", "script": text}}


def audit_lines(settings: Settings) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (settings.logs_dir / "audit.log").read_text().splitlines()]


def test_a_batch_imports_every_document_with_one_result_each(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    http, headers, settings = engine
    documents = [script(f"doc {i}") for i in range(120)]
    documents.insert(7, {"document": {}})
    documents.insert(9, {"document": {"name": "bad", "type": "perl", "script": "x"}})
    documents.insert(
        11, {"document_base64": base64.b64encode(b"Get-Date\r\n").decode(), "file_name": "Windows/When.ps1"}
    )
    documents.insert(13, {"document": "x", "document_base64": "eA=="})
    answer = http.post("/api/assemblies/import/batch", headers=headers, json={"documents": documents})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["imported"] == 121 and body["failed"] == 3
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(documents)))
    assert results[7]["error"] == "not_an_assembly"
    assert results[9]["error"] == "invalid_document" and "'perl'" in results[9]["message"]
    assert results[13]["status"] == "failed" and "send the document once" in results[13]["message"]
    assert results[11]["display_name"] == "When"
    listed = http.get("/api/assemblies", headers=headers, params={"limit": 1000}).json()
    assert listed["total"] == 121
    guids = {r["assembly_guid"] for r in results if r["status"] == "imported"}
    assert guids == {item["assembly_guid"] for item in listed["items"]}
    # one audit entry per imported assembly, and one for all the refused documents
    entries = [e for e in audit_lines(settings) if e["action"] == "assembly.import"]
    assert {e["assembly_guid"] for e in entries if e["outcome"] == "success"} == guids
    [refusals] = [e for e in entries if e["outcome"] == "failed"]
    assert refusals["detail"].startswith("3 of 124 document(s) of a batch refused: document 7: ")
    # durable: every create is in the journal (or flushed), so a restart keeps them all
    queue = http.get("/api/assemblies/queue", headers=headers).json()
    assert queue["domains"]["user"]["pending"] == 121


def test_a_batch_may_be_as_large_as_an_import(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    """The CLI sends batches of up to 8 MiB: the batch route carries assembly content like
    the single import, so ENGINE_IMPORT_MAX_BYTES applies to it, not the 1 MiB of others."""
    http, headers, settings = engine
    text = "Write-Host 'padding'\n" * 2000  # about 42 KB per document
    documents = [script(f"large {i}", text) for i in range(60)]
    body = json.dumps({"documents": documents}).encode()
    assert settings.request_max_bytes < len(body) < settings.import_max_bytes
    answer = http.post(
        "/api/assemblies/import/batch", headers={**headers, "Content-Type": "application/json"}, content=body
    )
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["imported"] == 60


def test_a_batch_survives_a_restart(tmp_path: Path) -> None:
    settings = temp_settings(tmp_path)
    docs = [script(f"kept {i}") for i in range(50)]
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            http.post("/api/assemblies/import/batch", headers=headers, json={"documents": docs}).json()[
                "imported"
            ]
            == 50
        )
    with TestClient(create_app(settings, console_log=False)) as http:
        token = http.post(
            "/api/auth/login", json={"username": "admin", "password": settings.admin_password}
        ).json()["token"]
        listed = http.get("/api/assemblies", headers={"Authorization": f"Bearer {token}"}).json()
        assert listed["total"] == 50


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_the_whole_corpus_imports_in_one_batch(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    http, headers, _ = engine
    documents: list[dict[str, Any]] = []
    for path in sorted(CORPUS.rglob("*")):
        if "tactical-rmm" in path.parts or path.suffix not in (".json", ".yml"):
            continue
        document: Any = json.loads(path.read_bytes()) if path.suffix == ".json" else path.read_text()
        documents.append({"document": document, "file_name": path.name})
    trmm = CORPUS / "tactical-rmm"
    for entry in json.loads((trmm / "community_scripts.json").read_bytes()):
        raw = (trmm / "scripts" / entry["filename"]).read_bytes()
        documents.append({"document": entry, "script_base64": base64.b64encode(raw).decode()})
    body = http.post("/api/assemblies/import/batch", headers=headers, json={"documents": documents}).json()
    assert body["failed"] == 0, [r for r in body["results"] if r["status"] == "failed"]
    assert body["imported"] == len(documents)


def test_a_dry_run_batch_validates_and_writes_nothing(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    http, headers, settings = engine
    payloads = settings.runtime_root / "Payloads"
    before = sorted(p.name for p in payloads.iterdir()) if payloads.exists() else []
    body = http.post(
        "/api/assemblies/import/batch",
        headers=headers,
        json={"documents": [script("one"), {"document": {}}], "dry_run": True},
    ).json()
    assert body["dry_run"] is True and body["valid"] == 1 and body["failed"] == 1
    assert body["results"][0]["would_create"]["display_name"] == "one"
    assert http.get("/api/assemblies", headers=headers).json()["total"] == 0
    after = sorted(p.name for p in payloads.iterdir()) if payloads.exists() else []
    assert after == before


@pytest.mark.parametrize("body", [{"documents": []}, {"documents": "x"}, {}])
def test_a_malformed_batch_is_refused_whole(
    engine: tuple[TestClient, dict[str, str], Settings],
    body: dict[str, Any],
) -> None:
    http, headers, _ = engine
    answer = http.post("/api/assemblies/import/batch", headers=headers, json=body)
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_document"


def test_an_operator_may_not_batch_into_official(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    http, headers, _ = engine
    http.post(
        "/api/users",
        headers=headers,
        json={"username": "op", "password": "operator-password", "role": "operator"},
    )
    token = http.post("/api/auth/login", json={"username": "op", "password": "operator-password"}).json()[
        "token"
    ]
    http.cookies.clear()
    answer = http.post(
        "/api/assemblies/import/batch",
        headers={"Authorization": f"Bearer {token}"},
        json={"documents": [script("x")], "domain": "official"},
    )
    assert answer.status_code == 403
    assert http.get("/api/assemblies", headers=headers).json()["total"] == 0


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def test_an_unstorable_value_in_one_document_is_only_that_documents_refusal(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    """Issue 23 #10: an out-of-range integer or too-deep nesting refuses its document."""
    http, headers, _ = engine
    too_big = {"document": {"name": "too big", "type": "bash", "script": "x", "timeout_seconds": 2**64}}
    too_deep = {"document": {"name": "too deep", "type": "bash", "script": "x", "extra": nested(100)}}
    documents = [script("first"), too_big, too_deep, script("last")]
    answer = http.post("/api/assemblies/import/batch", headers=headers, json={"documents": documents})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["imported"] == 2 and body["failed"] == 2
    results = body["results"]
    assert [r["status"] for r in results] == ["imported", "failed", "failed", "imported"]
    assert results[1]["error"] == "invalid_document"
    assert "timeout_seconds" in results[1]["message"] and "64-bit" in results[1]["message"]
    assert "nested more than 64 levels" in results[2]["message"]
    listed = {i["display_name"] for i in http.get("/api/assemblies", headers=headers).json()["items"]}
    assert listed == {"first", "last"}
    dry = http.post(
        "/api/assemblies/import/batch", headers=headers, json={"documents": documents, "dry_run": True}
    )
    assert dry.status_code == 200 and dry.json()["failed"] == 2


def test_copies_of_one_assembly_in_a_batch_apply_in_order_and_the_last_wins(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    """Issue 23 #13: a batch naming the same assembly twice applies the copies in batch order."""
    http, headers, _ = engine
    created = http.post(
        "/api/assemblies",
        headers=headers,
        json={
            "display_name": "target",
            "assembly_kind": "script",
            "assembly_type": "bash",
            "payload": {"script": "echo original\n"},
        },
    )
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    copies = 120
    documents = [
        {
            "document": {
                "assembly_guid": guid,
                "display_name": f"copy {i}",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": f"echo copy {i}\n"},
            }
        }
        for i in range(copies)
    ]
    answer = http.post("/api/assemblies/import/batch", headers=headers, json={"documents": documents})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["replaced"] == copies, body["results"][:3]
    assert {r["assembly_guid"] for r in body["results"]} == {guid}
    detail = http.get(f"/api/assemblies/{guid}", headers=headers).json()
    assert detail["display_name"] == f"copy {copies - 1}"
    assert detail["payload"]["script"] == f"echo copy {copies - 1}\n"
    assert detail["revision"] == copies + 1


def test_a_batch_of_refused_documents_writes_one_audit_entry(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    """Issue 23 #16: 2,000 empty documents are one audit entry, not 2,000 fsynced ones."""
    http, headers, settings = engine
    before = len(audit_lines(settings))
    answer = http.post(
        "/api/assemblies/import/batch", headers=headers, json={"documents": [{"document": {}}] * 2000}
    )
    assert answer.status_code == 200 and answer.json()["failed"] == 2000, answer.text
    [entry] = audit_lines(settings)[before:]
    assert (entry["action"], entry["outcome"]) == ("assembly.import", "failed")
    assert entry["detail"].startswith("2000 of 2000 document(s) of a batch refused: document 0: ")
    assert entry["detail"].endswith("and 1997 more")


def test_a_batchs_scripts_are_checked_once_it_is_done(
    engine: tuple[TestClient, dict[str, str], Settings],
) -> None:
    """The batch holds its documents' checks (services/checks/held.py) and they run after
    it: every imported script ends up checked, with the checker's finding."""
    http, headers, _ = engine
    documents = [script(f"checked {i}", f"echo $1 {i}\n") for i in range(3)]
    answer = http.post("/api/assemblies/import/batch", headers=headers, json={"documents": documents})
    assert answer.status_code == 200 and answer.json()["imported"] == 3, answer.text
    for result in answer.json()["results"]:

        def checked(guid: str = result["assembly_guid"]) -> Any:
            view = http.get(f"/api/assemblies/{guid}", headers=headers).json()
            return view["checks"] if view["checks"]["status"] == "checked" else None

        found = wait_until(checked, "the imported script's check", timeout=120)
        assert "SC2086" in [d["code"] for d in found["diagnostics"]]
