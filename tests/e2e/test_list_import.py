"""Import from the list: files (a plain script, a legacy JSON document, a Tactical RMM
manifest with its scripts) are checked by the engine's dry run first, each with its
result, and imported in one batch only when asked."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import OPERATOR, Engine, sign_in

pytestmark = pytest.mark.e2e


def test_import_files_with_a_tactical_rmm_manifest_after_a_dry_run(
    page: Page, engine: Engine, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    manifest = [
        {
            "guid": str(uuid.uuid4()),
            "filename": f"Clear_Cache_{tag}.ps1",
            "submittedBy": "e2e",
            "name": f"Clear cache {tag}",
            "description": "Clears the cache.",
            "shell": "powershell",
            "category": "TRMM (Win):Maintenance",
            "supported_platforms": ["windows"],
            "default_timeout": "90",
        },
        {
            "guid": str(uuid.uuid4()),
            "filename": f"Missing_{tag}.ps1",
            "submittedBy": "e2e",
            "name": f"Missing script {tag}",
            "description": "Its script is not chosen.",
            "shell": "powershell",
            "category": "TRMM (Win):Other",
        },
    ]
    files = {
        f"manifest_{tag}.json": json.dumps(manifest).encode(),
        f"Clear_Cache_{tag}.ps1": b"Write-Output 'cleared'\r\n",
        f"plain_{tag}.sh": b"#!/bin/bash\necho plain\n",
        f"broken_{tag}.json": b'{"this is": "not an assembly"}',
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))

    sign_in(page, OPERATOR)
    page.get_by_test_id("list-import").click()
    dialog = page.get_by_test_id("import-dialog")
    dialog.get_by_test_id("import-files").set_input_files(paths)
    expect(dialog.get_by_test_id("import-summary")).to_have_text("2 can be imported, 2 cannot.")
    rows = dialog.get_by_test_id("import-row")
    expect(rows.filter(has_text=f"Clear cache {tag}")).to_have_attribute("data-status", "valid")
    expect(rows.filter(has_text=f"Missing_{tag}.ps1")).to_have_attribute("data-status", "failed")
    expect(rows.filter(has_text=f"broken_{tag}.json")).to_have_attribute("data-status", "failed")
    with engine.api(OPERATOR) as api:
        assert api.get("/api/assemblies", params={"q": tag}).json()["total"] == 0  # a dry run

    dialog.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Imported 2 assemblies")
    with engine.api(OPERATOR) as api:
        items = api.get("/api/assemblies", params={"q": tag}).json()["items"]
        assert len(items) == 2, items
        trmm = next(i for i in items if i["display_name"] == f"Clear cache {tag}")
        exported = api.get(f"/api/assemblies/{trmm['assembly_guid']}/export").json()
    assert exported["tactical_rmm"]["filename"] == f"Clear_Cache_{tag}.ps1"
