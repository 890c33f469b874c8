"""Concurrent edits, partial updates, the dirty flag, locked databases and damaged payloads.

Docs/assemblies.md §4 (payload integrity), §6 (cache, write queue, durability, busy databases) and §7
(optimistic concurrency with ``If-Match`` / ``expected_revision``, error codes), exercised
through the REST API of an in-process engine on temporary roots.
"""

from __future__ import annotations

import base64
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.services.container import EngineServices
from tests.api.support import BACKENDS, settings_on
from tests.support import ADMIN_PASSWORD

ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-1")
ATTACHMENT = b"\x00\x01binary attachment\xff\xfe"
LOCK_RETRY_SECONDS = 1.0


@dataclass
class Engine:
    client: TestClient
    settings: Settings
    admin: dict[str, str]
    alice: dict[str, str]
    bob: dict[str, str]

    @property
    def services(self) -> EngineServices:
        services: EngineServices = self.client.app.state.services  # type: ignore[attr-defined]
        return services


def _token(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _start(request: pytest.FixtureRequest, backend: str, root: Path) -> Iterator[Engine]:
    with (
        settings_on(
            backend, request, root, lock_retry_seconds=LOCK_RETRY_SECONDS, sqlite_busy_timeout_ms=100
        ) as settings,
        TestClient(create_app(settings, console_log=False)) as client,
    ):
        admin = _token(client, "admin", ADMIN_PASSWORD)
        for username, password in (ALICE, BOB):
            created = client.post(
                "/api/users",
                headers=admin,
                json={"username": username, "password": password, "role": "operator"},
            )
            assert created.status_code == 201, created.text
        alice = _token(client, *ALICE)
        bob = _token(client, *BOB)
        switched = client.post(
            "/api/assemblies/dev-mode/switch",
            headers=admin,
            json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "flush in tests"},
        )
        assert switched.status_code == 200, switched.text
        client.cookies.clear()  # authenticate by token only
        yield Engine(client, settings, admin, alice, bob)


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Revisions, merges and races, on each backend (embedded, and a cluster node)."""
    yield from _start(request, request.param, tmp_path_factory.mktemp("concurrency"))


@pytest.fixture(scope="module")
def embedded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """For what only the embedded storage has: its database files and payload folders."""
    yield from _start(request, "sqlite", tmp_path_factory.mktemp("concurrency-embedded"))


def full_body(name: str) -> dict[str, Any]:
    return {
        "display_name": name,
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "summary": "original summary",
        "category": "maintenance",
        "metadata": {
            "timeout_seconds": 120,
            "sites": {"mode": "specific", "values": ["site-a", "site-b"]},
            "variables": [
                {
                    "name": "target",
                    "label": "Target",
                    "type": "string",
                    "default": "srv01",
                    "required": True,
                    "description": "host to act on",
                }
            ],
        },
        "tags": ["ops", "nightly"],
        "payload": {
            "script": "Write-Host 'original'\n",
            "files": [
                {
                    "file_name": "data.bin",
                    "mime_type": "application/octet-stream",
                    "data": base64.b64encode(ATTACHMENT).decode("ascii"),
                },
            ],
        },
    }


def create(engine: Engine, name: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = engine.client.post("/api/assemblies", json=full_body(name), headers=headers or engine.alice)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def detail(engine: Engine, guid: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = engine.client.get(f"/api/assemblies/{guid}", headers=headers or engine.alice)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def flush(engine: Engine, domain: str = "user") -> httpx.Response:
    return engine.client.post("/api/assemblies/dev-mode/write", json={"domain": domain}, headers=engine.admin)


def assert_error(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == error, body
    message: str = body["message"]
    assert "Traceback" not in message
    return message


# -- concurrent edits -------------------------------------------------------------------------


def test_second_put_with_a_stale_if_match_is_409_naming_the_current_revision(engine: Engine) -> None:
    guid = create(engine, "Concurrent If-Match")["assembly_guid"]
    seen_by_alice = detail(engine, guid, engine.alice)
    seen_by_bob = detail(engine, guid, engine.bob)
    revision = seen_by_alice["revision"]
    assert seen_by_bob["revision"] == revision

    first = engine.client.put(
        f"/api/assemblies/{guid}",
        json={"summary": "alice's change"},
        headers={**engine.alice, "If-Match": str(revision)},
    )
    assert first.status_code == 200, first.text
    assert first.json()["revision"] == revision + 1

    second = engine.client.put(
        f"/api/assemblies/{guid}",
        json={"summary": "bob's change"},
        headers={**engine.bob, "If-Match": str(revision)},
    )
    message = assert_error(second, 409, "conflict")
    assert re.search(rf"\b{revision + 1}\b", message), message
    assert "current revision" in message.lower()

    stored = detail(engine, guid)
    assert stored["summary"] == "alice's change"
    assert stored["revision"] == revision + 1
    assert stored["updated_by"] == ALICE[0]


def test_quoted_and_weak_if_match_values_are_understood(engine: Engine) -> None:
    guid = create(engine, "Etag forms")["assembly_guid"]
    response = engine.client.put(
        f"/api/assemblies/{guid}", json={"summary": "quoted"}, headers={**engine.alice, "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    response = engine.client.put(
        f"/api/assemblies/{guid}", json={"summary": "weak"}, headers={**engine.alice, "If-Match": 'W/"2"'}
    )
    assert response.status_code == 200, response.text
    assert response.json()["revision"] == 3


def test_second_put_with_a_stale_expected_revision_is_409(engine: Engine) -> None:
    guid = create(engine, "Concurrent expected_revision")["assembly_guid"]
    revision = detail(engine, guid, engine.alice)["revision"]
    assert detail(engine, guid, engine.bob)["revision"] == revision

    first = engine.client.put(
        f"/api/assemblies/{guid}",
        json={"summary": "alice's change", "expected_revision": revision},
        headers=engine.alice,
    )
    assert first.status_code == 200, first.text
    assert first.json()["revision"] == revision + 1

    second = engine.client.put(
        f"/api/assemblies/{guid}",
        json={"summary": "bob's change", "expected_revision": revision},
        headers=engine.bob,
    )
    message = assert_error(second, 409, "conflict")
    assert re.search(rf"\b{revision + 1}\b", message), message

    stored = detail(engine, guid)
    assert stored["summary"] == "alice's change"
    assert stored["revision"] == revision + 1


def test_stale_delete_is_409_and_keeps_the_assembly(engine: Engine) -> None:
    guid = create(engine, "Stale delete")["assembly_guid"]
    engine.client.put(f"/api/assemblies/{guid}", json={"summary": "moved on"}, headers=engine.alice)
    response = engine.client.delete(f"/api/assemblies/{guid}", headers={**engine.bob, "If-Match": "1"})
    assert_error(response, 409, "conflict")
    assert detail(engine, guid)["summary"] == "moved on"


def test_eight_threads_with_the_same_if_match_one_wins(engine: Engine) -> None:
    guid = create(engine, "Threaded If-Match")["assembly_guid"]
    revision = detail(engine, guid)["revision"]
    journal_before = engine.services.storage.journal.depth()
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results: dict[int, httpx.Response] = {}
    errors: list[BaseException] = []

    def edit(index: int) -> None:
        try:
            headers = {**(engine.alice if index % 2 else engine.bob), "If-Match": str(revision)}
            barrier.wait(timeout=10)
            results[index] = engine.client.put(
                f"/api/assemblies/{guid}", json={"summary": f"edit {index}"}, headers=headers
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200] + [409] * (threads_count - 1), statuses

    winner = next(i for i, r in results.items() if r.status_code == 200)
    for index, response in results.items():
        if index != winner:
            assert_error(response, 409, "conflict")
            assert str(revision + 1) in response.json()["message"]
    stored = detail(engine, guid)
    assert stored["summary"] == f"edit {winner}"
    assert stored["revision"] == revision + 1
    # Exactly one mutation was journalled.
    assert engine.services.storage.journal.depth() == journal_before + 1


# -- partial updates --------------------------------------------------------------------------

KEPT_FIELDS = (
    "display_name",
    "category",
    "metadata",
    "tags",
    "assembly_kind",
    "assembly_type",
    "source",
    "created_at",
    "created_by",
    "version",
)


def attachment(engine: Engine, guid: str, name: str = "data.bin") -> bytes:
    response = engine.client.get(f"/api/assemblies/{guid}/files/{name}", headers=engine.bob)
    assert response.status_code == 200, response.text
    return response.content


def test_put_of_one_field_keeps_every_other_field(engine: Engine) -> None:
    guid = create(engine, "Partial summary")["assembly_guid"]
    before = detail(engine, guid)
    response = engine.client.put(f"/api/assemblies/{guid}", json={"summary": "x"}, headers=engine.bob)
    assert response.status_code == 200, response.text
    after = detail(engine, guid)
    assert after["summary"] == "x"
    for name in KEPT_FIELDS:
        assert after[name] == before[name], name
    assert after["payload"] == before["payload"]
    assert after["payload"]["script"] == "Write-Host 'original'\n"
    assert [f["file_name"] for f in after["payload"]["files"]] == ["data.bin"]
    assert attachment(engine, guid) == ATTACHMENT
    assert after["revision"] == before["revision"] + 1
    assert after["updated_by"] == BOB[0]


def test_put_of_the_script_alone_keeps_the_attachment(engine: Engine) -> None:
    guid = create(engine, "Partial script")["assembly_guid"]
    before = detail(engine, guid)
    response = engine.client.put(
        f"/api/assemblies/{guid}", json={"payload": {"script": "new"}}, headers=engine.alice
    )
    assert response.status_code == 200, response.text
    after = detail(engine, guid)
    assert after["payload"]["script"] == "new"
    assert after["payload"]["files"] == before["payload"]["files"]
    assert attachment(engine, guid) == ATTACHMENT
    for name in (*KEPT_FIELDS, "summary"):
        assert after[name] == before[name], name


def test_put_of_one_metadata_key_merges(engine: Engine) -> None:
    guid = create(engine, "Partial metadata")["assembly_guid"]
    before = detail(engine, guid)
    response = engine.client.put(
        f"/api/assemblies/{guid}", json={"metadata": {"timeout_seconds": 5}}, headers=engine.alice
    )
    assert response.status_code == 200, response.text
    after = detail(engine, guid)
    assert after["metadata"]["timeout_seconds"] == 5
    assert after["metadata"]["sites"] == before["metadata"]["sites"]
    assert after["metadata"]["variables"] == before["metadata"]["variables"]
    for name in ("display_name", "summary", "category", "tags", "payload"):
        assert after[name] == before[name], name
    assert attachment(engine, guid) == ATTACHMENT


# -- the dirty flag -----------------------------------------------------------------------------


def test_change_is_dirty_until_a_flush_persists_it(embedded: Engine) -> None:
    created = create(embedded, "Dirty flag")
    guid = created["assembly_guid"]
    assert created["is_dirty"] is True
    assert created["dirty_since"]
    assert detail(embedded, guid)["is_dirty"] is True

    flushed = flush(embedded)
    assert flushed.status_code == 200, flushed.text
    clean = detail(embedded, guid)
    assert clean["is_dirty"] is False
    assert clean["dirty_since"] is None
    assert clean["last_persisted"]

    changed = embedded.client.put(
        f"/api/assemblies/{guid}", json={"summary": "changed again"}, headers=embedded.alice
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["is_dirty"] is True
    listed = embedded.client.get(
        "/api/assemblies", params={"dirty": "true", "limit": 1000}, headers=embedded.alice
    )
    assert guid in {item["assembly_guid"] for item in listed.json()["items"]}

    assert flush(embedded).status_code == 200
    assert detail(embedded, guid)["is_dirty"] is False
    with sqlite3.connect(embedded.settings.runtime_root / "user_created.db") as db:
        row = db.execute(
            "SELECT summary, revision FROM assemblies WHERE assembly_guid = ?", (guid,)
        ).fetchone()
    assert row == ("changed again", 2)


# -- locked databases ---------------------------------------------------------------------------

LOCK_HOLDER = """
import sqlite3
import sys

conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
conn.close()
print("released", flush=True)
"""


@pytest.fixture
def lock_holder(embedded: Engine) -> Iterator[subprocess.Popen[str]]:
    """Another process holding a write lock on user_created.db until it reads a line."""
    assert flush(embedded).status_code == 200  # start from an empty user queue
    database = embedded.settings.runtime_root / "user_created.db"
    process = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == "locked", (line, process.stderr.read() if process.stderr else "")
        yield process
    finally:
        if process.poll() is None:
            try:
                process.communicate("commit\n", timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def release(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate("commit\n", timeout=10)
    assert process.returncode == 0, err
    assert "released" in out


def test_locked_database_queues_changes_and_flush_answers_503(
    embedded: Engine, lock_holder: subprocess.Popen[str]
) -> None:
    journal = embedded.services.storage.journal

    created = embedded.client.post(
        "/api/assemblies", json=full_body("Written while locked"), headers=embedded.alice
    )
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    assert created.json()["is_dirty"] is True
    assert guid in {entry.assembly_guid for entry in journal.pending()}  # durable before the 201

    started = time.monotonic()
    busy = flush(embedded)
    elapsed = time.monotonic() - started
    message = assert_error(busy, 503, "database_busy")
    assert "still queued" in message
    assert int(busy.headers["Retry-After"]) >= 1
    # Retried for the budget (with a little slack for the backoff's last sleep), then answered.
    assert LOCK_RETRY_SECONDS * 0.9 <= elapsed < LOCK_RETRY_SECONDS + 4.0, elapsed

    queue = embedded.client.get("/api/assemblies/queue", headers=embedded.alice)
    assert queue.status_code == 200, queue.text
    user_queue = queue.json()["domains"]["user"]
    assert guid in {item["assembly_guid"] for item in user_queue["items"]}
    assert user_queue["last_error"]
    assert detail(embedded, guid)["is_dirty"] is True
    assert guid in {entry.assembly_guid for entry in journal.pending()}

    release(lock_holder)
    written = flush(embedded)
    assert written.status_code == 200, written.text
    assert written.json()["results"]["user"]["persisted"] >= 1
    with sqlite3.connect(embedded.settings.runtime_root / "user_created.db") as db:
        row = db.execute("SELECT display_name FROM assemblies WHERE assembly_guid = ?", (guid,)).fetchone()
    assert row == ("Written while locked",)
    assert detail(embedded, guid)["is_dirty"] is False
    assert guid not in {entry.assembly_guid for entry in journal.pending()}


def test_updates_and_deletes_are_accepted_while_locked(
    embedded: Engine, lock_holder: subprocess.Popen[str]
) -> None:
    guid = create(embedded, "Edited while locked")["assembly_guid"]
    doomed = create(embedded, "Deleted while locked")["assembly_guid"]
    updated = embedded.client.put(
        f"/api/assemblies/{guid}", json={"summary": "locked edit"}, headers=embedded.bob
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["is_dirty"] is True
    deleted = embedded.client.delete(f"/api/assemblies/{doomed}", headers=embedded.bob)
    assert deleted.status_code == 202, deleted.text
    assert_error(flush(embedded), 503, "database_busy")

    release(lock_holder)
    assert flush(embedded).status_code == 200
    with sqlite3.connect(embedded.settings.runtime_root / "user_created.db") as db:
        rows = dict(
            db.execute(
                "SELECT assembly_guid, summary FROM assemblies WHERE assembly_guid IN (?, ?)", (guid, doomed)
            ).fetchall()
        )
    assert rows == {guid: "locked edit"}


# -- missing and corrupt payloads ------------------------------------------------------------


def payload_folder(engine: Engine, guid: str) -> Path:
    record = detail(engine, guid, engine.admin)
    folder: Path = engine.services.storage.payloads.path_for(record["payload_guid"])
    assert folder.is_dir()
    return folder


def list_item(engine: Engine, guid: str) -> dict[str, Any]:
    response = engine.client.get("/api/assemblies", params={"limit": 1000}, headers=engine.alice)
    assert response.status_code == 200, response.text
    item: dict[str, Any] = next(i for i in response.json()["items"] if i["assembly_guid"] == guid)
    return item


def assert_no_server_error_anywhere(engine: Engine, guid: str) -> None:
    """Every endpoint that touches the damaged assembly answers without a 5xx."""
    attempts = [
        engine.client.get(f"/api/assemblies/{guid}", headers=engine.alice),
        engine.client.get(f"/api/assemblies/{guid}/files/data.bin", headers=engine.alice),
        engine.client.post(
            f"/api/assemblies/{guid}/clone", json={"target_domain": "user"}, headers=engine.alice
        ),
        engine.client.put(
            f"/api/assemblies/{guid}", json={"payload": {"script": "fix"}}, headers=engine.alice
        ),
        engine.client.get("/api/assemblies", headers=engine.alice),
        engine.client.get("/api/assemblies/queue", headers=engine.alice),
        engine.client.get("/api/health"),
    ]
    for response in attempts:
        assert response.status_code < 500, (response.request.url, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "message"}


def test_missing_payload_answers_409_integrity_error(embedded: Engine) -> None:
    record = create(embedded, "Missing payload victim")
    guid = record["assembly_guid"]
    folder = payload_folder(embedded, guid)
    (folder / "script.ps1").unlink()

    assert embedded.client.get("/api/assemblies", headers=embedded.alice).status_code == 200
    response = embedded.client.get(f"/api/assemblies/{guid}", headers=embedded.alice)
    message = assert_error(response, 409, "integrity_error")
    assert "Missing payload victim" in message or guid in message
    assert "missing" in message
    assert list_item(embedded, guid)["integrity"] == "missing"

    download = embedded.client.get(f"/api/assemblies/{guid}/files/data.bin", headers=embedded.alice)
    assert_error(download, 409, "integrity_error")
    clone = embedded.client.post(
        f"/api/assemblies/{guid}/clone", json={"target_domain": "user"}, headers=embedded.alice
    )
    assert_error(clone, 409, "integrity_error")
    assert_no_server_error_anywhere(embedded, guid)


@pytest.mark.parametrize("damaged", ["script.ps1", "files/data.bin", "manifest.json"])
def test_corrupt_payload_answers_409_integrity_error(embedded: Engine, damaged: str) -> None:
    guid = create(embedded, f"Corrupt payload victim {damaged}")["assembly_guid"]
    target = payload_folder(embedded, guid) / damaged
    content = bytearray(target.read_bytes())
    content[0] ^= 0x20  # same size, different bytes
    target.write_bytes(bytes(content))

    response = embedded.client.get(f"/api/assemblies/{guid}", headers=embedded.alice)
    message = assert_error(response, 409, "integrity_error")
    assert f"Corrupt payload victim {damaged}" in message or guid in message
    assert "corrupt" in message
    assert list_item(embedded, guid)["integrity"] == "corrupt"
    assert_no_server_error_anywhere(embedded, guid)


def test_deleted_payload_folder_answers_409_and_the_rest_still_serves(embedded: Engine) -> None:
    healthy = create(embedded, "Healthy neighbour")["assembly_guid"]
    guid = create(embedded, "Folder gone")["assembly_guid"]
    folder = payload_folder(embedded, guid)
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()

    message = assert_error(
        embedded.client.get(f"/api/assemblies/{guid}", headers=embedded.alice), 409, "integrity_error"
    )
    assert "missing" in message
    assert list_item(embedded, guid)["integrity"] == "missing"
    assert detail(embedded, healthy)["integrity"] == "ok"
    assert_no_server_error_anywhere(embedded, guid)
