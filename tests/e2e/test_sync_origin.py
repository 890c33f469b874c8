"""Library as code in the editor: a synced assembly shows its source, path and commit."""

from __future__ import annotations

import base64
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import ADMIN, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_a_synced_assembly_shows_where_it_came_from(page: Page, engine: Engine) -> None:
    source = f"file:///srv/library-{uuid.uuid4().hex[:6]}.git"
    commit = "0123456789abcdef0123456789abcdef01234567"
    body = {
        "source": source,
        "commit": commit,
        "domain": "user",
        "items": [
            {"path": "Windows/e2e-synced.ps1", "content": base64.b64encode(b"Write-Host e2e\r\n").decode()}
        ],
    }
    with engine.api() as api:
        answer = api.post("/api/sync/apply", json=body)
        assert answer.status_code == 200, answer.text
        guid = answer.json()["results"][0]["assembly_guid"]
        created = api.post(
            "/api/assemblies",
            json={
                "display_name": "not synced",
                "assembly_kind": "script",
                "assembly_type": "powershell",
                "payload": {"script": "Write-Host x"},
            },
        )
        assert created.status_code == 201, created.text
    sign_in(page, ADMIN)
    page.goto(f"/assemblies/{guid}")
    origin = page.get_by_test_id("sync-origin")
    expect(origin).to_have_text(f"Synced from {source} · Windows/e2e-synced.ps1 · commit {commit[:12]}")
    page.goto(f"/assemblies/{created.json()['assembly_guid']}")
    expect(page.get_by_test_id("editor-title")).to_have_text("not synced")
    expect(page.get_by_test_id("sync-origin")).to_have_count(0)
