"""A batch import's 2xx means every imported document is durable: the engine is killed
(SIGKILL) the moment the answer arrives, and after a restart every assembly of the batch
reads back whole, payload and attachment included, while the refused ones left nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from assembly_engine.domain.types import Integrity, is_valid_payload_guid
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.engine_process import EngineProcess

DOCUMENTS = 96


def legacy_document(index: int) -> tuple[dict[str, object], bytes, bytes | None]:
    """A legacy script document, every third with a binary attachment."""
    script = f"echo 'kill test {index}'\n".encode() * (index % 7 + 1)
    attachment = bytes(range(256)) * (index % 5 + 1) if index % 3 == 0 else None
    files = []
    if attachment is not None:
        files.append(
            {
                "file_name": f"tool-{index}.bin",
                "size": len(attachment),
                "mime_type": "application/octet-stream",
                "data": base64.b64encode(attachment).decode(),
            }
        )
    document = {
        "version": 1,
        "name": f"kill batch {index:03d}",
        "category": "Kill test",
        "type": "bash",
        "script": base64.b64encode(script).decode(),
        "script_encoding": "base64",
        "files": files,
    }
    return document, script, attachment


def test_every_document_of_an_acknowledged_batch_survives_sigkill(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    home = tmp_path / "home"
    # No flush during the test: what is acknowledged lives in the journal and Payloads/.
    engine = EngineProcess(home, staging, flush_interval=3600).start()
    expected = [legacy_document(index) for index in range(DOCUMENTS)]
    bodies: list[dict[str, object]] = [{"document": document} for document, _, _ in expected]
    bodies.insert(10, {"document": {"name": "refused", "type": "perl", "script": "x"}})
    bodies.insert(50, {"document": {**expected[0][0], "files": [{"file_name": "../escape", "data": ""}]}})
    try:
        headers = engine.login()
        with engine.client() as http:
            answer = http.post("/api/assemblies/import/batch", headers=headers, json={"documents": bodies})
        engine.kill()  # at once: nothing after the answer may be needed for durability
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["imported"] == DOCUMENTS and body["failed"] == 2
        guids = [r["assembly_guid"] for r in body["results"] if r["status"] == "imported"]

        engine.start()
        headers = engine.login()
        payload_guids = []
        with engine.client() as http:
            for guid, (document, script, _) in zip(guids, expected, strict=True):
                detail = http.get(f"/api/assemblies/{guid}", headers=headers)
                assert detail.status_code == 200, detail.text
                data = detail.json()
                assert data["display_name"] == document["name"]
                assert data["integrity"] == "ok"
                assert data["payload"]["script"].encode() == script
                payload_guids.append(data["payload_guid"])
            listed = http.get("/api/assemblies", headers=headers, params={"limit": 1000}).json()
            assert listed["total"] == DOCUMENTS
    finally:
        engine.stop()
    payloads = PayloadStore(home / "Assemblies" / "Payloads")
    for payload_guid, (_, script, attachment) in zip(payload_guids, expected, strict=True):
        content = payloads.read(payload_guid)
        assert content.main == script
        assert [f.data for f in content.files] == ([attachment] if attachment is not None else [])
    # The refused documents left no payload folder (and no write left a temp folder).
    names = set(payloads.root.iterdir())
    assert all(is_valid_payload_guid(path.name) for path in names), sorted(p.name for p in names)
    assert len(names) == DOCUMENTS
    assert all(payloads.check(path.name) is Integrity.OK for path in names)
    audit = [json.loads(line) for line in (home / "Logs" / "audit.log").read_text().splitlines()]
    imports = [e for e in audit if e["action"] == "assembly.import"]
    assert sorted(e["assembly_guid"] for e in imports if e["outcome"] == "success") == sorted(guids)
