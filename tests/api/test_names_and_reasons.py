"""Names people read must be what they are (issue 23, findings 11, 12 and 14): no invisible
or blank names, names kept in NFC, reserved user names, a one-line Dev Mode reason."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.api.support import ADMIN, OPERATOR, ApiEngine, assert_unchanged, create_body, snapshot
from tests.support import ADMIN_PASSWORD

DATA = base64.b64encode(b"x").decode()


def refused(api: ApiEngine, caller: str, method: str, url: str, body: Any, needle: str) -> None:
    before = snapshot(api.services)
    response = api.request(caller, method, url, json=body)
    assert response.status_code in (400, 422), response.text
    answer = response.json()
    assert set(answer) == {"error", "message"}, answer
    assert needle in answer["message"], answer["message"]
    assert_unchanged(before, snapshot(api.services))


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        pytest.param("\u200b", "U+200B", id="zero-width-space"),
        pytest.param("   ", "blank", id="spaces"),
        pytest.param("\u3164", "blank", id="hangul-filler"),
        pytest.param("\u3000\u115f", "blank", id="ideographic-space-and-filler"),
        pytest.param("Reset\u200bPassword", "U+200B", id="hidden-space"),
        pytest.param("Reset\u2060Password", "U+2060", id="word-joiner"),
        pytest.param("\ufeffReset", "U+FEFF", id="byte-order-mark"),
        pytest.param("Re\u00adset", "U+00AD", id="soft-hyphen"),
    ],
)
def test_invisible_and_blank_display_names_are_refused(api: ApiEngine, name: str, needle: str) -> None:
    refused(api, OPERATOR, "POST", "/api/assemblies", {**create_body("user"), "display_name": name}, needle)


def test_invisible_tags_and_file_names_are_refused(api: ApiEngine) -> None:
    refused(api, OPERATOR, "POST", "/api/assemblies", {**create_body("user"), "tags": ["\u200b"]}, "U+200B")
    refused(api, OPERATOR, "POST", "/api/assemblies", {**create_body("user"), "tags": ["\u3164"]}, "blank")
    body = {
        **create_body("user"),
        "payload": {"script": "x", "files": [{"file_name": "\u3164", "data": DATA}]},
    }
    refused(api, OPERATOR, "POST", "/api/assemblies", body, "blank")
    document = {"name": "\u200b", "type": "bash", "script": "echo 1"}
    refused(api, OPERATOR, "POST", "/api/assemblies/import", {"document": document}, "U+200B")


def test_names_are_kept_in_nfc(api: ApiEngine) -> None:
    created = api.request(
        OPERATOR, "POST", "/api/assemblies", json={**create_body("user"), "display_name": "Caf\u0065\u0301"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "Caf\u00e9"
    imported = api.request(
        OPERATOR,
        "POST",
        "/api/assemblies/import",
        json={"document": {"name": "Re\u0301sume\u0301", "type": "bash", "script": "echo 1"}},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["display_name"] == "R\u00e9sum\u00e9"
    # "é.txt" beside "e\u0301.txt" is one name twice.
    files = [{"file_name": "\u00e9.txt", "data": DATA}, {"file_name": "e\u0301.txt", "data": DATA}]
    body = {**create_body("user"), "payload": {"script": "x", "files": files}}
    refused(api, OPERATOR, "POST", "/api/assemblies", body, "same file_name")
    one = {**create_body("user"), "payload": {"script": "x", "files": [files[1]]}}
    stored = api.request(OPERATOR, "POST", "/api/assemblies", json=one)
    assert stored.status_code == 201, stored.text
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{stored.json()['assembly_guid']}").json()
    assert [f["file_name"] for f in detail["payload"]["files"]] == ["\u00e9.txt"]


def test_joiners_that_real_text_needs_stay_allowed(api: ApiEngine) -> None:
    for name in (
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    ):
        created = api.request(
            OPERATOR, "POST", "/api/assemblies", json={**create_body("user"), "display_name": name}
        )
        assert created.status_code == 201, created.text
        assert created.json()["display_name"] == name


@pytest.mark.parametrize("username", ["cli", "engine", "assembly-engine", "CLI", "Engine"])
def test_reserved_user_names_cannot_be_created(api: ApiEngine, username: str) -> None:
    body = {
        "username": username,
        "password": "a-long-password-1",
        "role": "admin",
        "current_password": ADMIN_PASSWORD,
    }
    refused(api, ADMIN, "POST", "/api/users", body, "reserved")


@pytest.mark.parametrize(
    "reason",
    [
        "deploy \u202egnp.exe",
        "line one\u2028line two",
        "para\u2029graph",
        "mark\u200fed",
        "hidden\u200bspace",
    ],
    ids=["bidi-override", "line-separator", "paragraph-separator", "rtl-mark", "zero-width-space"],
)
def test_dev_mode_reason_is_one_line_of_plain_text(api: ApiEngine, reason: str) -> None:
    body = {"enabled": True, "password": ADMIN_PASSWORD, "reason": reason}
    refused(api, ADMIN, "POST", "/api/assemblies/dev-mode/switch", body, "reason")
    assert api.dev_mode_enabled(api.tokens[ADMIN]) is False
