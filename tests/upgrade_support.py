"""A vendor that ships official library releases (v1, then v2), for the upgrade tests of
real engines (embedded, crash and cluster): each release is a staging copy in a folder of
its own, installed over an engine's staging root the way a product upgrade replaces it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.contract.models import AssemblyRecord
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.support import ADMIN_PASSWORD, script_content, stage


@dataclass
class Release:
    root: Path
    records: dict[str, AssemblyRecord]  # by display name

    def guid(self, name: str) -> str:
        return self.records[name].assembly_guid


def ship_v1(root: Path, names: list[str]) -> Release:
    records = stage(root, Domain.OFFICIAL, names)
    return Release(root, {r.display_name: r for r in records})


def ship_v2(v1: Release, root: Path, changed: dict[str, str], dropped: list[str]) -> Release:
    """v1 with the scripts of ``changed`` replaced (name -> new text) and ``dropped`` gone."""
    shutil.copytree(v1.root, root)
    payloads = PayloadStore(root / "Payloads")
    updated = {
        name: v1.records[name].evolve(payload=payloads.write_new(script_content(text)), revision=1)
        for name, text in changed.items()
    }
    db = DomainDatabase(Domain.OFFICIAL, root / DATABASE_FILES[Domain.OFFICIAL], ConnectionOptions())
    try:
        db.validate()
        db.write([r.to_row() for r in updated.values()], [v1.guid(n) for n in dropped])
    finally:
        db.close()
    return Release(root, v1.records | updated)  # a dropped one's guid stays known to the tests


def install(release: Release, staging: Path) -> None:
    """The product upgrade: the engine's staging copy is replaced by ``release``."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(release.root, staging)


def dev_mode(http: httpx.Client, headers: dict[str, str]) -> None:
    switched = http.post(
        "/api/assemblies/dev-mode/switch",
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "official upgrade test"},
        headers=headers,
    )
    assert switched.status_code == 200, switched.text


def edit_script(http: httpx.Client, headers: dict[str, str], guid: str, text: str) -> None:
    changed = http.put(f"/api/assemblies/{guid}", json={"payload": {"script": text}}, headers=headers)
    assert changed.status_code == 200, changed.text


def detail(http: httpx.Client, headers: dict[str, str], guid: str) -> dict[str, Any]:
    answer = http.get(f"/api/assemblies/{guid}", headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def upstream_states(http: httpx.Client, headers: dict[str, str]) -> dict[str, str]:
    listed = http.get("/api/assemblies", params={"domain": "official", "limit": 1000}, headers=headers)
    assert listed.status_code == 200, listed.text
    return {i["display_name"]: i["upstream"]["state"] for i in listed.json()["items"]}


def deprecate_first(staging: Path, note: str) -> tuple[str, str]:
    """The vendor deprecates the first official assembly of a staging copy (by guid) in
    favour of the second, by its metadata (sign the copy afterwards); (old, successor)."""
    with sqlite3.connect(staging / DATABASE_FILES[Domain.OFFICIAL]) as conn:
        (old, metadata_json), (successor, _) = conn.execute(
            "SELECT assembly_guid, metadata_json FROM assemblies ORDER BY assembly_guid LIMIT 2"
        ).fetchall()
        metadata = json.loads(metadata_json or "{}") | {"deprecated": note, "replaced_by": successor}
        conn.execute(
            "UPDATE assemblies SET metadata_json = ? WHERE assembly_guid = ?", (json.dumps(metadata), old)
        )
    conn.close()
    return old, successor
