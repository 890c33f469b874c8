"""Headers and downloads (issue 11): nosniff, a Content-Security-Policy and a Referrer-Policy
on every answer; attachments are opaque downloads; non-Latin-1 names download; no CDN
scripts in the engine's origin."""

from __future__ import annotations

import base64
from urllib.parse import quote

import httpx
import pytest

from tests.api.support import ANONYMOUS, OPERATOR, ApiEngine, create_body


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy or "sandbox" in policy


@pytest.mark.parametrize(
    ("caller", "method", "url"),
    [
        (ANONYMOUS, "GET", "/api/health"),
        (ANONYMOUS, "GET", "/"),
        (ANONYMOUS, "GET", "/some/client/route"),
        (ANONYMOUS, "GET", "/api/assemblies"),  # 401 through the list's fast lane
        (OPERATOR, "GET", "/api/assemblies"),
        (OPERATOR, "GET", "/api/no-such-route"),
        (OPERATOR, "GET", "/openapi.json"),
    ],
)
def test_every_answer_carries_the_security_headers(
    api: ApiEngine, caller: str, method: str, url: str
) -> None:
    response = api.request(caller, method, url)
    assert_security_headers(response)
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_a_refused_oversized_body_carries_them_too(api: ApiEngine) -> None:
    size = api.settings.import_max_bytes + 1
    response = api.client.post(
        "/api/assemblies/import",
        content=b"x" * size,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.tokens[OPERATOR]}"},
    )
    assert response.status_code == 413
    assert_security_headers(response)
    # Without a session the body is refused before it is read, with the headers as well.
    anonymous = api.client.post(
        "/api/assemblies/import", content=b"x" * size, headers={"Content-Type": "application/json"}
    )
    assert anonymous.status_code == 401
    assert_security_headers(anonymous)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_page_loads_third_party_script(api: ApiEngine, path: str) -> None:
    response = api.request(ANONYMOUS, "GET", path)
    text = response.text.lower()
    assert "swagger" not in text and "redoc" not in text and "cdn" not in text
    assert "default-src 'self'" in response.headers["content-security-policy"]


NAMES = ["报告.html", "Отчёт.svg", "Αναφορά.txt", "plain report.txt"]


@pytest.mark.parametrize("file_name", NAMES)
def test_an_attachment_is_an_opaque_download_whatever_its_name(api: ApiEngine, file_name: str) -> None:
    content = b"<script>alert(document.cookie)</script>"
    body = create_body("user")
    body["payload"] = {
        "script": "Write-Host 1\n",
        "files": [
            {"file_name": file_name, "mime_type": "text/html", "data": base64.b64encode(content).decode()}
        ],
    }
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=body)
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    response = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/files/{quote(file_name)}")
    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("sandbox")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert f"filename*=UTF-8''{quote(file_name, safe='')}" in disposition
    assert disposition.isascii()
    detail = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}")
    assert detail.json()["payload"]["files"][0]["mime_type"] == "text/html"


@pytest.mark.parametrize("display_name", ["部署脚本", "Скрипт обновления", "Σενάριο", "Café déploiement"])
def test_an_export_of_a_non_latin1_name_downloads(api: ApiEngine, display_name: str) -> None:
    created = api.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user", display_name))
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    response = api.request(OPERATOR, "GET", f"/api/assemblies/{guid}/export")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == display_name
    disposition = response.headers["content-disposition"]
    assert disposition.isascii()
    assert f"filename*=UTF-8''{quote(display_name, safe='')}.json" in disposition
    assert_security_headers(response)
