"""Bad input gets a clear 4xx in the engine's error shape and changes nothing (Docs/assemblies.md §4, §7).

Every refusal is checked for its status, its ``error`` code and a ``message`` a person can
act on, and against a snapshot of the engine taken before the request: the cache entries
(id, revision, payload, dirty state), the journal depth, the payload folder names and every
file under the temporary root must be exactly as they were.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.services.container import EngineServices
from tests.api.support import BACKENDS, payload_names, settings_on
from tests.support import ADMIN_PASSWORD

OPERATOR = ("bad-input-operator", "operator-password-1")
IMPORT_MAX_BYTES = 64 * 1024
UNKNOWN_GUID = "0123456789abcdef0123456789abcdef"


@dataclass
class Engine:
    client: TestClient
    root: Path
    settings: Settings
    headers: dict[str, str]
    guid: str

    @property
    def services(self) -> EngineServices:
        services: EngineServices = self.client.app.state.services  # type: ignore[attr-defined]
        return services


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One engine per backend: every refusal is checked on the embedded storage and on a
    cluster node on PostgreSQL."""
    root = tmp_path_factory.mktemp("bad-input")
    with (
        settings_on(
            request.param, request, root, lock_retry_seconds=1.0, import_max_bytes=IMPORT_MAX_BYTES
        ) as settings,
        TestClient(create_app(settings, console_log=False)) as client,
    ):
        login = client.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        admin = {"Authorization": f"Bearer {login.json()['token']}"}
        created = client.post(
            "/api/users",
            headers=admin,
            json={"username": OPERATOR[0], "password": OPERATOR[1], "role": "operator"},
        )
        assert created.status_code == 201, created.text
        login = client.post("/api/auth/login", json={"username": OPERATOR[0], "password": OPERATOR[1]})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        client.cookies.clear()  # authenticate by token only (no cookie, so no CSRF rules)
        existing = client.post("/api/assemblies", headers=headers, json=valid_body("Existing"))
        assert existing.status_code == 201, existing.text
        yield Engine(client, root, settings, headers, existing.json()["assembly_guid"])


def valid_body(name: str = "Valid") -> dict[str, Any]:
    return {
        "display_name": name,
        "assembly_kind": "script",
        "assembly_type": "powershell",
        "summary": "a valid assembly",
        "metadata": {"timeout_seconds": 30},
        "tags": ["ok"],
        "payload": {
            "script": "Write-Host 'ok'\n",
            "files": [
                {
                    "file_name": "readme.txt",
                    "mime_type": "text/plain",
                    "data": base64.b64encode(b"hello").decode("ascii"),
                },
            ],
        },
    }


def with_changes(**changes: Any) -> dict[str, Any]:
    body = valid_body()
    body.update(changes)
    return body


def with_file(file_name: str, data: str | None = None) -> dict[str, Any]:
    body = valid_body()
    encoded = base64.b64encode(b"attack").decode("ascii") if data is None else data
    body["payload"] = {
        "script": "Write-Host 'x'\n",
        "files": [{"file_name": file_name, "mime_type": "text/plain", "data": encoded}],
    }
    return body


# -- state snapshots ------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    entries: tuple[tuple[str, int, str, str, bool], ...]
    journal_depth: int
    payload_folders: tuple[str, ...]
    files: tuple[str, ...]


def snapshot(engine: Engine) -> Snapshot:
    storage = engine.services.storage
    entries = tuple(
        sorted(
            (
                a.record.assembly_guid,
                a.record.revision,
                a.record.updated_at,
                a.record.payload.payload_guid,
                a.state.is_dirty,
            )
            for a in storage.cache.items()
        )
    )
    payload_folders = tuple(sorted(payload_names(engine.services)))
    # Every file under the temporary root, except what a refused request may legitimately
    # touch: logs (audit of denials), SQLite's WAL/SHM side files and the sessions database.
    files = tuple(
        sorted(
            str(p.relative_to(engine.root))
            for p in engine.root.rglob("*")
            if "Logs" not in p.parts
            and not p.name.endswith(("-wal", "-shm", "-journal"))
            and p.name != "engine.db"
        )
    )
    return Snapshot(entries, storage.journal.depth(), payload_folders, files)


def assert_refused(
    engine: Engine,
    send: Callable[[], httpx.Response],
    status: int,
    error: str,
    *words: str,
) -> dict[str, str]:
    """Send a bad request: expect ``status``/``error``, a helpful message and no change."""
    before = snapshot(engine)
    response = send()
    after = snapshot(engine)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == error, body
    message = body["message"]
    assert isinstance(message, str) and len(message) >= 20, body
    assert "Traceback" not in message and 'File "' not in message, body
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"
    assert after == before, "a refused request changed the engine's state"
    return body


# -- malformed bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b'{"display_name": ', b"{'single': 'quotes'}", b"{} {}", b"NaN-ish", b'{"a": 1,}']
)
def test_malformed_json_is_400(engine: Engine, raw: bytes) -> None:
    headers = {**engine.headers, "Content-Type": "application/json"}
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=raw, headers=headers),
        400,
        "invalid_request",
        "JSON",
    )
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", content=raw, headers=headers),
        400,
        "invalid_request",
        "JSON",
    )


def test_body_that_is_not_utf8_is_400_saying_json(engine: Engine) -> None:
    headers = {**engine.headers, "Content-Type": "application/json"}
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=b"\xff\xfe{\x00}", headers=headers),
        400,
        "invalid_request",
        "JSON",
    )


def test_body_that_is_not_utf8_is_refused_and_changes_nothing(engine: Engine) -> None:
    headers = {**engine.headers, "Content-Type": "application/json"}
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=b"\xff\xfe{\x00}", headers=headers),
        400,
        "invalid_request",
    )


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_415(engine: Engine, content_type: str) -> None:
    raw = json.dumps(valid_body()).encode()
    headers = {**engine.headers, "Content-Type": content_type}
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=raw, headers=headers),
        415,
        "invalid_request",
        "Content-Type: application/json",
    )
    changes = json.dumps({"summary": "changed"}).encode()
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", content=changes, headers=headers),
        415,
        "invalid_request",
        "Content-Type: application/json",
    )


def test_missing_body_is_refused(engine: Engine) -> None:
    # No body and no content type: the caller is told to send JSON.
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", headers=engine.headers),
        415,
        "invalid_request",
        "Content-Type: application/json",
    )
    # An empty JSON body: the body is required.
    headers = {**engine.headers, "Content-Type": "application/json"}
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=b"", headers=headers),
        422,
        "invalid_document",
        "body",
        "required",
    )


@pytest.mark.parametrize("document", [[valid_body()], "a string", 42, None, True])
def test_json_that_is_not_an_object_is_422(engine: Engine, document: Any) -> None:
    raw = json.dumps(document).encode()
    headers = {**engine.headers, "Content-Type": "application/json"}
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=raw, headers=headers),
        422,
        "invalid_document",
    )
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", content=raw, headers=headers),
        422,
        "invalid_document",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_name": 5}, "display_name"),
        ({"display_name": ""}, "display_name"),
        ({"tags": "x"}, "tags"),
        ({"tags": [1, 2]}, "tags"),
        ({"metadata": []}, "metadata"),
        ({"metadata": "timeout=5"}, "metadata"),
        ({"summary": {"text": "x"}}, "summary"),
        ({"version": "1"}, "version"),
        ({"payload": {"script": 3}}, "payload.script"),
        ({"payload": {"script": ["Write-Host"]}}, "payload.script"),
        ({"payload": "Write-Host 'x'"}, "payload"),
        ({"payload": {"script": "x", "files": "readme.txt"}}, "payload.files"),
        ({"payload": {"script": "x", "files": [{"file_name": 7, "data": ""}]}}, "file_name"),
        ({"payload": {"script": "x", "files": [{"file_name": "a.txt", "data": 7}]}}, "data"),
    ],
)
def test_wrong_types_are_422_naming_the_field(engine: Engine, changes: dict[str, Any], field: str) -> None:
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", json=with_changes(**changes), headers=engine.headers),
        422,
        "invalid_document",
        field,
    )
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", json=changes, headers=engine.headers),
        422,
        "invalid_document",
        field,
    )


def test_unknown_fields_are_422_naming_the_field(engine: Engine) -> None:
    assert_refused(
        engine,
        lambda: engine.client.post(
            "/api/assemblies", json=with_changes(colour="red"), headers=engine.headers
        ),
        422,
        "invalid_document",
        "colour",
    )
    assert_refused(
        engine,
        lambda: engine.client.put(
            f"/api/assemblies/{engine.guid}",
            json={"summary": "x", "assembly_id": "y"},
            headers=engine.headers,
        ),
        422,
        "invalid_document",
        "assembly_id",
    )
    assert_refused(
        engine,
        lambda: engine.client.post(
            f"/api/assemblies/{engine.guid}/clone",
            json={"target_domain": "user", "extra": 1},
            headers=engine.headers,
        ),
        422,
        "invalid_document",
        "extra",
    )


def test_required_fields_missing_are_422(engine: Engine) -> None:
    for missing in ("display_name", "assembly_kind", "assembly_type", "payload"):
        body = valid_body()
        del body[missing]
        assert_refused(
            engine,
            lambda b=body: engine.client.post("/api/assemblies", json=b, headers=engine.headers),
            422,
            "invalid_document",
            missing,
        )


@pytest.mark.parametrize(
    ("kind", "assembly_type", "words"),
    [
        ("macro", "powershell", ("assembly_kind",)),
        ("script", "cobol", ("cobol", "powershell")),
        ("script", "ansible", ("ansible", "script")),
        ("workflow", "powershell", ("powershell", "workflow")),
        ("ansible", "bash", ("bash", "ansible")),
        ("SCRIPT", "powershell", ("assembly_kind",)),
    ],
)
def test_unknown_or_mismatched_kind_and_type_are_422(
    engine: Engine, kind: str, assembly_type: str, words: tuple[str, ...]
) -> None:
    body = with_changes(assembly_kind=kind, assembly_type=assembly_type)
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", json=body, headers=engine.headers),
        422,
        "invalid_document",
        *words,
    )


def test_type_change_that_does_not_fit_the_kind_is_422(engine: Engine) -> None:
    assert_refused(
        engine,
        lambda: engine.client.put(
            f"/api/assemblies/{engine.guid}", json={"assembly_type": "workflow"}, headers=engine.headers
        ),
        422,
        "invalid_document",
        "workflow",
    )


def test_unknown_domain_is_422(engine: Engine) -> None:
    assert_refused(
        engine,
        lambda: engine.client.post(
            "/api/assemblies", json=with_changes(domain="global"), headers=engine.headers
        ),
        422,
        "invalid_document",
        "domain",
    )


# -- payload files ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["not base64!", "QUJ", "QQ", "😀", "QU JD", "QUJD\n"])
def test_bad_base64_is_422(engine: Engine, data: str) -> None:
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", json=with_file("a.txt", data), headers=engine.headers),
        422,
        "invalid_document",
        "base64",
        "payload.files[0]",
    )


UNSAFE_NAMES = [
    "../x",
    "/etc/passwd",
    "a\\b",
    "a\x00b",
    "..",
    ".",
    ".hidden",
    "sub/x",
    "x\n",
    "",
    "v1..2.txt",
]


@pytest.mark.parametrize("file_name", UNSAFE_NAMES)
def test_unsafe_file_names_are_422_and_touch_nothing(engine: Engine, file_name: str) -> None:
    outside = engine.root / "x"
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", json=with_file(file_name), headers=engine.headers),
        422,
        "invalid_document",
        "file",
    )
    changes = {
        "payload": {
            "files": [
                {
                    "file_name": file_name,
                    "mime_type": "text/plain",
                    "data": base64.b64encode(b"attack").decode("ascii"),
                }
            ]
        }
    }
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", json=changes, headers=engine.headers),
        422,
        "invalid_document",
        "file",
    )
    # Nothing was written anywhere: no "x" beside or above the payload root, no temp folder left.
    assert not outside.exists()
    assert not (engine.settings.runtime_root / "x").exists()
    assert not any(
        p.name == "x" or p.read_bytes() == b"attack"
        for p in engine.root.rglob("*")
        if p.is_file() and "Logs" not in p.parts
    )
    assert not [n for n in payload_names(engine.services) if n.startswith(".tmp-")]


def test_duplicate_file_names_are_422(engine: Engine) -> None:
    body = with_file("a.txt")
    body["payload"]["files"].append(dict(body["payload"]["files"][0]))
    assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", json=body, headers=engine.headers),
        422,
        "invalid_document",
        "same file_name",
    )


# -- body size --------------------------------------------------------------------------------


def _big_body() -> bytes:
    body = valid_body("Too big")
    body["payload"]["script"] = "#" * (IMPORT_MAX_BYTES + 1024)
    return json.dumps(body).encode()


def test_body_over_the_limit_with_content_length_is_413(engine: Engine) -> None:
    raw = _big_body()
    headers = {**engine.headers, "Content-Type": "application/json"}
    body = assert_refused(
        engine,
        lambda: engine.client.post("/api/assemblies", content=raw, headers=headers),
        413,
        "payload_too_large",
        str(IMPORT_MAX_BYTES),
        "ENGINE_IMPORT_MAX_BYTES",
    )
    assert body["message"]
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", content=raw, headers=headers),
        413,
        "payload_too_large",
        str(IMPORT_MAX_BYTES),
    )


def test_body_just_under_the_limit_is_accepted(engine: Engine) -> None:
    body = valid_body("Just under")
    body["payload"]["script"] = "#" * (IMPORT_MAX_BYTES - 2048)
    response = engine.client.post("/api/assemblies", json=body, headers=engine.headers)
    assert response.status_code == 201, response.text


def test_chunked_body_over_the_limit_is_413(engine: Engine) -> None:
    raw = _big_body()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(raw), 8192):
            yield raw[start : start + 8192]

    def send() -> httpx.Response:
        response = engine.client.post(
            "/api/assemblies",
            content=chunks(),
            headers={**engine.headers, "Content-Type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert response.request.headers.get("transfer-encoding") == "chunked"
        return response

    assert_refused(engine, send, 413, "payload_too_large", str(IMPORT_MAX_BYTES))


def test_chunked_body_over_the_limit_is_refused_and_changes_nothing(engine: Engine) -> None:
    """Whatever the status, an oversized streamed body is a 4xx refusal that stores nothing."""
    raw = _big_body()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(raw), 8192):
            yield raw[start : start + 8192]

    before = snapshot(engine)
    response = engine.client.post(
        "/api/assemblies", content=chunks(), headers={**engine.headers, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) == {"error", "message"}
    assert snapshot(engine) == before


# -- ids in the path --------------------------------------------------------------------------

MALFORMED_GUIDS = [
    "zz",
    "0123456789abcdef0123456789abcde",  # 31 hex
    "0123456789ABCDEF0123456789ABCDEF",  # uppercase
    "0123456789abcdef0123456789abcdef0",  # 33 hex
    "%2e%2e",  # ".." after decoding
    "g" * 32,
    "0123456789abcdef 123456789abcdef",
]


def _guid_requests(engine: Engine, guid: str) -> list[Callable[[], httpx.Response]]:
    base = f"/api/assemblies/{guid}"
    return [
        lambda: engine.client.get(base, headers=engine.headers),
        lambda: engine.client.put(base, json={"summary": "x"}, headers=engine.headers),
        lambda: engine.client.delete(base, headers=engine.headers),
        lambda: engine.client.post(f"{base}/clone", json={"target_domain": "user"}, headers=engine.headers),
        lambda: engine.client.get(f"{base}/files/readme.txt", headers=engine.headers),
    ]


@pytest.mark.parametrize("guid", MALFORMED_GUIDS)
def test_malformed_guid_in_the_path_is_400(engine: Engine, guid: str) -> None:
    for send in _guid_requests(engine, guid):
        assert_refused(engine, send, 400, "invalid_request", "32 lowercase hex")


@pytest.mark.parametrize("guid", ["..%2f..%2fetc", "..%2F..%2Fetc%2Fpasswd"])
def test_encoded_traversal_guid_is_400(engine: Engine, guid: str) -> None:
    for send in _guid_requests(engine, guid):
        assert_refused(engine, send, 400, "invalid_request", "32 lowercase hex")


@pytest.mark.parametrize("guid", ["..%2f..%2fetc", "..%2F..%2Fetc%2Fpasswd", "..%2f..%2f..%2fhome"])
def test_encoded_traversal_guid_is_refused_and_reads_nothing(engine: Engine, guid: str) -> None:
    """Whatever route answers an encoded traversal, it is a refusal that reads and changes nothing."""
    for send in _guid_requests(engine, guid):
        before = snapshot(engine)
        response = send()
        assert response.status_code in (400, 404, 405), response.text
        body = response.json()
        assert set(body) == {"error", "message"}
        assert body["error"] in ("invalid_request", "not_found", "method_not_allowed")
        assert "root:" not in response.text
        assert snapshot(engine) == before


def test_unknown_well_formed_guid_is_404(engine: Engine) -> None:
    for send in _guid_requests(engine, UNKNOWN_GUID)[:4]:
        assert_refused(engine, send, 404, "not_found", UNKNOWN_GUID)


def test_unknown_attachment_is_404_naming_it(engine: Engine) -> None:
    assert_refused(
        engine,
        lambda: engine.client.get(f"/api/assemblies/{engine.guid}/files/nope.txt", headers=engine.headers),
        404,
        "not_found",
        "nope.txt",
    )


# -- query parameters and headers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=1000001", "limit"),
        ("limit=99999999999999999999999999", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999999999", "offset"),
        ("offset=1.5", "offset"),
        ("domain=global", "domain"),
        ("kind=macro", "kind"),
        ("order=sideways", "order"),
        ("sort=payload_guid", "sort"),
        ("dirty=maybe", "dirty"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(engine: Engine, query: str, name: str) -> None:
    assert_refused(
        engine,
        lambda: engine.client.get(f"/api/assemblies?{query}", headers=engine.headers),
        422,
        "invalid_document",
        name,
    )


@pytest.mark.parametrize("if_match", ["abc", "-1", "1.5", "*", "", "1, 2", "9" * 40, '"x"'])
def test_invalid_if_match_is_400(engine: Engine, if_match: str) -> None:
    headers = {**engine.headers, "If-Match": if_match}
    assert_refused(
        engine,
        lambda: engine.client.put(f"/api/assemblies/{engine.guid}", json={"summary": "x"}, headers=headers),
        400,
        "invalid_request",
        "If-Match",
    )
    assert_refused(
        engine,
        lambda: engine.client.delete(f"/api/assemblies/{engine.guid}", headers=headers),
        400,
        "invalid_request",
        "If-Match",
    )


def test_expected_revision_of_the_wrong_type_is_422(engine: Engine) -> None:
    assert_refused(
        engine,
        lambda: engine.client.put(
            f"/api/assemblies/{engine.guid}",
            json={"summary": "x", "expected_revision": "1"},
            headers=engine.headers,
        ),
        422,
        "invalid_document",
        "expected_revision",
    )


def test_engine_still_serves_after_all_refusals(engine: Engine) -> None:
    response = engine.client.get(f"/api/assemblies/{engine.guid}", headers=engine.headers)
    assert response.status_code == 200, response.text
    assert response.json()["payload"]["script"] == "Write-Host 'ok'\n"
    assert response.json()["revision"] == 1
