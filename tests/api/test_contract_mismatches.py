"""Small contract mismatches of issue 23, 17, over the ASGI app with real SQLite files."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.support import (
    ADMIN,
    OPERATOR,
    OPERATOR_NAME,
    OPERATOR_PASSWORD,
    ApiEngine,
    bearer,
    create_body,
    login,
)


def test_the_session_of_a_bearer_that_stopped_working_is_an_answer(api: ApiEngine) -> None:
    token = login(api.client, OPERATOR_NAME, OPERATOR_PASSWORD)
    assert api.client.post("/api/auth/logout", headers=bearer(token)).status_code == 200
    api.client.cookies.clear()
    ended = api.client.get("/api/auth/session", headers=bearer(token))
    assert ended.status_code == 200, ended.text
    assert ended.json() == {"signed_in": False, "ended": "revoked"}
    unknown = api.client.get("/api/auth/session", headers=bearer("x" * 43))
    assert unknown.status_code == 200, unknown.text
    assert unknown.json()["signed_in"] is False
    # Every other route still refuses such a token.
    assert api.client.get("/api/auth/me", headers=bearer(token)).status_code == 401


def test_head_is_answered_wherever_get_is(api: ApiEngine) -> None:
    for path, headers in (("/api/health", {}), ("/api/assemblies", api.headers(OPERATOR))):
        got = api.client.get(path, headers=headers)
        head = api.client.head(path, headers=headers)
        assert head.status_code == got.status_code == 200, (path, head.status_code)
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
    assert api.client.head("/api/auth/login").status_code == 405  # no GET there either


def test_the_prune_refusal_speaks_of_pruning(api: ApiEngine) -> None:
    for caller, status in ((ADMIN, 403), (OPERATOR, 403)):
        refused = api.request(caller, "POST", "/api/admin/history/prune", json={})
        assert refused.status_code == status, refused.text
        message = refused.json()["message"]
        assert "prun" in message.lower() and "queue" not in message.lower(), message


def test_a_revision_has_one_address_and_a_short_404(api: ApiEngine) -> None:
    made = api.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"))
    assert made.status_code == 201, made.text
    guid = made.json()["assembly_guid"]
    for step in range(30):
        edit = {"summary": f"edit {step}"}
        assert api.request(OPERATOR, "PUT", f"/api/assemblies/{guid}", json=edit).status_code == 200
    assert api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/1").status_code == 200
    for alias in ("01", "001", "+1", "1.0"):
        refused = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/{alias}")
        assert refused.status_code == 422, (alias, refused.text)
        assert "leading zero" in refused.text or "integer" in refused.text
    missing = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/revisions/999")
    assert missing.status_code == 404
    message = missing.json()["message"]
    assert "31 kept, from 1 to 31" in message and "2, 3" not in message and len(message) < 250


def test_a_non_latin_attachment_name_keeps_its_extension_in_the_ascii_fallback(api: ApiEngine) -> None:
    body = create_body("user")
    body["payload"] = {"script": "echo", "files": [{"file_name": "отчёт.txt", "data": "aGk="}]}
    made = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
    assert made.status_code == 201, made.text
    guid = made.json()["assembly_guid"]
    got = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/files/{quote('отчёт.txt')}")
    assert got.status_code == 200 and got.content == b"hi"
    disposition = got.headers["content-disposition"]
    assert 'filename="download.txt"' in disposition, disposition
    assert "filename*=UTF-8''" + quote("отчёт.txt", safe="") in disposition


def test_document_base64_may_not_be_empty_and_the_schema_says_so(api: ApiEngine) -> None:
    schema = api.client.get("/openapi.json").json()["components"]["schemas"]["ImportRequest"]
    assert schema["properties"]["document_base64"]["anyOf"][0]["minLength"] == 1
    refused = api.request(OPERATOR, "POST", "/api/assemblies/import", json={"document_base64": ""})
    assert refused.status_code == 422, refused.text
    assert refused.json()["message"]
