"""Input limits at the edge (issue 11): every free-text field has a documented cap, names are
one line of visible text, integers are signed 64-bit. Each refusal is a 422 that names the
field (and the limit) and changes nothing; the same rules hold for imported documents.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from assembly_engine import input_limits as limits
from tests.api.support import OPERATOR, ApiEngine, assert_unchanged, create_body, plant_assembly, snapshot

INT64_MAX = 2**63 - 1


def refused(api: ApiEngine, method: str, url: str, body: Any, *needles: str, status: int = 422) -> str:
    """Send ``body``, expect a refusal mentioning every needle, and that nothing changed."""
    before = snapshot(api.services)
    response = api.request(OPERATOR, method, url, json=body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["error"] == ("invalid_document" if status == 422 else "payload_too_large")
    for needle in needles:
        assert needle in answer["message"], answer["message"]
    assert_unchanged(before, snapshot(api.services))
    message = answer["message"]
    assert isinstance(message, str)
    return message


def with_fields(**fields: Any) -> dict[str, Any]:
    return {**create_body("user"), **fields}


def script_document(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "name": "Limits check",
        "description": "",
        "type": "powershell",
        "script_encoding": "base64",
        "script": base64.b64encode(b"Write-Host 1\n").decode(),
    }
    doc.update(fields)
    return doc


# -- lengths ----------------------------------------------------------------------------------

LONG_FIELDS = [
    pytest.param({"display_name": "n" * 201}, ("display_name", "201", "200"), id="display_name"),
    pytest.param({"summary": "s" * 10_001}, ("summary", "10000"), id="summary"),
    pytest.param({"category": "c" * 201}, ("category", "200"), id="category"),
    pytest.param({"tags": ["t" * 65]}, ("tags[0]", "64"), id="tag"),
    pytest.param({"tags": [f"t{i}" for i in range(51)]}, ("tags", "50"), id="tag-count"),
    pytest.param(
        {"metadata": {"variables": [{"name": "v" * 201}]}},
        ("metadata.variables[0].name", "200"),
        id="variable-name",
    ),
    pytest.param(
        {"metadata": {"variables": [{"name": "v", "label": "l" * 201}]}},
        ("metadata.variables[0].label", "200"),
        id="variable-label",
    ),
    pytest.param(
        {"metadata": {"variables": [{"name": "v", "description": "d" * 10_001}]}},
        ("metadata.variables[0].description", "10000"),
        id="variable-description",
    ),
    pytest.param(
        {"metadata": {"sites": {"mode": "specific", "values": ["s" * 201]}}},
        ("metadata.sites.values[0]", "200"),
        id="site",
    ),
    pytest.param(
        {"payload": {"script": "x", "files": [{"file_name": "é" * 128 + ".txt", "data": ""}]}},
        ("payload.files[0].file_name", "255 bytes"),
        id="file-name",
    ),
]


@pytest.mark.parametrize(("fields", "needles"), LONG_FIELDS)
def test_a_field_over_its_limit_is_refused_by_name(
    api: ApiEngine, fields: dict[str, Any], needles: tuple[str, ...]
) -> None:
    refused(api, "POST", "/api/assemblies", with_fields(**fields), *needles)


def test_an_update_with_a_long_name_is_refused(api: ApiEngine) -> None:
    guid = plant_assembly(api.services, "user")
    refused(
        api,
        "PUT",
        f"/api/assemblies/{guid}",
        {"display_name": "n" * 200_000},
        "display_name is 200000 characters long; the limit is 200 characters",
    )


def test_limits_are_the_documented_values() -> None:
    assert limits.DISPLAY_NAME_CHARS == 200
    assert limits.PLAYBOOK_BYTES == 512 * 1024


def test_a_name_at_its_limit_is_accepted(api: ApiEngine) -> None:
    response = api.request(
        OPERATOR, "POST", "/api/assemblies", json=with_fields(display_name="n" * 200, category="c" * 200)
    )
    assert response.status_code == 201, response.text


LONG_DOCUMENTS = [
    pytest.param(script_document(name="n" * 201), ("document.name", "200"), id="name"),
    pytest.param(
        script_document(description="d" * 10_001), ("document.description", "10000"), id="description"
    ),
    pytest.param(script_document(category="c" * 201), ("document.category", "200"), id="category"),
    pytest.param(
        script_document(variables=[{"name": "v" * 201}]), ("document.variables[0].name",), id="variable"
    ),
    pytest.param(
        {"tab_name": "w" * 201, "nodes": [], "edges": []}, ("document.tab_name", "200"), id="workflow"
    ),
    pytest.param(
        {
            "display_name": "n" * 201,
            "assembly_kind": "script",
            "assembly_type": "bash",
            "payload": {"script": "echo"},
        },
        ("document.display_name", "200"),
        id="wrapped",
    ),
]


@pytest.mark.parametrize(("document", "needles"), LONG_DOCUMENTS)
def test_a_legacy_document_over_a_limit_is_refused_not_truncated(
    api: ApiEngine, document: dict[str, Any], needles: tuple[str, ...]
) -> None:
    refused(api, "POST", "/api/assemblies/import", {"document": document}, *needles)
    # The same document sent as text (as the CLI and the UI send files) is refused alike.
    refused(api, "POST", "/api/assemblies/import", {"document": json.dumps(document)}, *needles)


# -- names are one line of visible text ---------------------------------------------------------

BAD_NAMES = [
    pytest.param("nul\x00name", "U+0000", id="nul"),
    pytest.param("invoice\u202efdp.exe", "U+202E", id="bidi-override"),
    pytest.param("isolate\u2066x", "U+2066", id="bidi-isolate"),
    pytest.param("line\u2028separator", "U+2028", id="line-separator"),
    pytest.param("para\u2029separator", "U+2029", id="paragraph-separator"),
    pytest.param("new\nline", "U+000A", id="newline"),
]


def test_a_summary_with_nul_is_refused_on_every_backend(api: ApiEngine) -> None:
    """Multi-line text may hold line breaks but not NUL: PostgreSQL text cannot store it,
    so cluster mode could never write such a change; both backends refuse it alike."""
    refused(api, "POST", "/api/assemblies", with_fields(summary="two\nlines\x00"), "summary", "U+0000")
    refused(
        api,
        "POST",
        "/api/assemblies/import",
        {"document": script_document(description="first\x00second")},
        "description",
        "U+0000",
    )


@pytest.mark.parametrize(("name", "code"), BAD_NAMES)
def test_names_with_control_or_bidi_characters_are_refused(api: ApiEngine, name: str, code: str) -> None:
    refused(api, "POST", "/api/assemblies", with_fields(display_name=name), "display_name", code)
    refused(
        api, "POST", "/api/assemblies/import", {"document": script_document(name=name)}, "document.name", code
    )
    refused(api, "POST", "/api/assemblies", with_fields(tags=[name]), "tags[0]", code)
    files = [{"file_name": name.replace("\x00", "\u202e") + ".txt", "data": ""}]
    refused(
        api,
        "POST",
        "/api/assemblies",
        with_fields(payload={"script": "x", "files": files}),
        "payload.files[0].file_name",
    )


def test_ordinary_unicode_names_are_accepted(api: ApiEngine) -> None:
    for name in ("Déploiement — serveur", "部署脚本", "Скрипт", "Σενάριο", "emoji 👩‍💻 ok"):
        response = api.request(OPERATOR, "POST", "/api/assemblies", json=with_fields(display_name=name))
        assert response.status_code == 201, response.text


# -- media types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mime", ["text/html\r\nX-Injected: 1", "texthtml", "text/", "a b/c", "text/plain; charset=\u202e"]
)
def test_a_mime_type_must_be_a_type_subtype_token(api: ApiEngine, mime: str) -> None:
    files = [{"file_name": "a.txt", "mime_type": mime, "data": ""}]
    refused(
        api,
        "POST",
        "/api/assemblies",
        with_fields(payload={"script": "x", "files": files}),
        "payload.files[0].mime_type",
        "type/subtype",
    )
    entry = {"file_name": "a.txt", "mime_type": mime, "data": ""}
    refused(
        api,
        "POST",
        "/api/assemblies/import",
        {"document": script_document(files=[entry])},
        "document.files[0].mime_type",
    )


# -- integers outside signed 64-bit --------------------------------------------------------------

HUGE_INTEGERS = [
    pytest.param({"metadata": {"n": 2**64}}, "metadata.n", id="metadata"),
    pytest.param({"metadata": {"deep": [{"x": -(2**63) - 1}]}}, "metadata.deep[0].x", id="negative"),
    pytest.param({"version": 2**63}, "version", id="version"),
    pytest.param({"metadata": {"timeout_seconds": 2**63}}, "metadata.timeout_seconds", id="timeout"),
    pytest.param(
        {"metadata": {"variables": [{"name": "v", "default": 2**70}]}},
        "metadata.variables[0].default",
        id="variable-default",
    ),
    pytest.param(
        {"payload": {"script": "x", "files": [{"file_name": "a", "data": "", "size": 2**64}]}},
        "payload.files[0].size",
        id="payload",
    ),
]


@pytest.mark.parametrize(("fields", "path"), HUGE_INTEGERS)
def test_integers_outside_signed_64_bit_are_refused_with_their_path(
    api: ApiEngine, fields: dict[str, Any], path: str
) -> None:
    refused(api, "POST", "/api/assemblies", with_fields(**fields), path, "signed 64-bit")
    guid = plant_assembly(api.services, "user")
    refused(api, "PUT", f"/api/assemblies/{guid}", fields, path, "signed 64-bit")


IMPORT_INTEGERS = [
    pytest.param(script_document(version=2**63), "document.version", id="version"),
    pytest.param(script_document(timeout_seconds=2**64), "document.timeout_seconds", id="timeout"),
    pytest.param(
        script_document(variables=[{"name": "v", "default": -(2**80)}]),
        "document.variables[0].default",
        id="variable",
    ),
    pytest.param(script_document(custom_field={"n": 2**64}), "document.custom_field.n", id="unknown-field"),
    pytest.param(
        {"tab_name": "w", "nodes": [{"id": "a", "x": 2**64}], "edges": []},
        "document.nodes[0].x",
        id="workflow-node",
    ),
]


@pytest.mark.parametrize(("document", "path"), IMPORT_INTEGERS)
def test_imported_integers_outside_signed_64_bit_are_refused(
    api: ApiEngine, document: dict[str, Any], path: str
) -> None:
    refused(api, "POST", "/api/assemblies/import", {"document": document}, path, "signed 64-bit")
    refused(api, "POST", "/api/assemblies/import", {"document": json.dumps(document)}, path, "signed 64-bit")


def test_the_largest_signed_64_bit_values_are_kept_and_served(api: ApiEngine) -> None:
    body = with_fields(version=INT64_MAX, metadata={"low": -(2**63), "high": INT64_MAX})
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["metadata"] == {"low": -(2**63), "high": INT64_MAX}
    listed = api.request(OPERATOR, "GET", "/api/assemblies?limit=1000")
    assert listed.status_code == 200, listed.text
    flushed = api.services.storage.cache.flush_now(None, budget_seconds=2.0)
    assert all(result.ok for result in flushed), flushed


# -- playbooks ----------------------------------------------------------------------------------


def big_playbook(size: int) -> str:
    head = "- name: big\n  hosts: all\n  tasks:\n"
    task = "    - ansible.builtin.debug:\n        msg: hello\n"
    return head + task * (size // len(task) + 1)


PLAYBOOK_OVER = big_playbook(limits.PLAYBOOK_BYTES)


@pytest.mark.parametrize("how", ["create", "raw-yaml", "yaml-text", "legacy-json", "wrapped"])
def test_a_playbook_over_its_limit_is_refused_before_it_is_parsed(api: ApiEngine, how: str) -> None:
    encoded = base64.b64encode(PLAYBOOK_OVER.encode()).decode()
    url, body = {
        "create": (
            "/api/assemblies",
            with_fields(assembly_kind="ansible", assembly_type="ansible", payload={"script": PLAYBOOK_OVER}),
        ),
        "raw-yaml": ("/api/assemblies/import", {"document": PLAYBOOK_OVER, "file_name": "big.yml"}),
        "yaml-text": ("/api/assemblies/import", {"document": PLAYBOOK_OVER}),
        "legacy-json": (
            "/api/assemblies/import",
            {"document": script_document(type="ansible", script=encoded)},
        ),
        "wrapped": (
            "/api/assemblies/import",
            {
                "document": {
                    "display_name": "big",
                    "assembly_kind": "ansible",
                    "payload": {"script": PLAYBOOK_OVER},
                }
            },
        ),
    }[how]
    started = time.perf_counter()
    message = refused(api, "POST", url, body, str(limits.PLAYBOOK_BYTES), "playbook", status=413)
    assert "import_playbook" in message
    assert time.perf_counter() - started < 2.0


def test_a_playbook_within_its_limit_is_imported(api: ApiEngine) -> None:
    text = big_playbook(limits.PLAYBOOK_BYTES - 4096)
    assert len(text.encode()) <= limits.PLAYBOOK_BYTES
    response = api.request(
        OPERATOR, "POST", "/api/assemblies/import", json={"document": text, "file_name": "large but fine.yml"}
    )
    assert response.status_code == 201, response.text[:500]
    assert response.json()["display_name"] == "large but fine"
