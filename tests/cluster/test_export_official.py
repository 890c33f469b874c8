"""``assemblies export-official``: cluster mode's way back to a staging copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.cluster.nodes import NodeFactory, enable_dev_mode, get, new_script
from tests.engine_process import EngineProcess
from tests.support import wait_until


def test_dev_mode_changes_of_official_reach_a_new_staging_copy(node: NodeFactory, tmp_path: Path) -> None:
    a = node("a")
    session = a.login()
    enable_dev_mode(a, session, "vendor fix")
    made = httpx.post(
        f"{a.url}/api/assemblies",
        json=new_script("vendor fix", domain="official"),
        headers=session,
        timeout=30,
    )
    assert made.status_code == 201, made.text
    guid = made.json()["assembly_guid"]

    # Over HTTP it is refused: the folder is on the engine's machine, so only its CLI names one.
    refused = httpx.post(
        f"{a.url}/api/admin/export-official",
        headers=session,
        json={"destination": str(tmp_path / "x")},
        timeout=30,
    )
    assert refused.status_code == 403, refused.text

    copy = tmp_path / "staging-copy"
    done = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "export-official", str(copy), "--json"],
        env=a.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["assemblies"] == 1
    again = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "export-official", str(copy)],
        env=a.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode != 0 and "not empty" in again.stderr

    # An embedded engine whose staging root is the copy serves the assembly as official.
    embedded = EngineProcess(tmp_path / "embedded", copy).start()
    try:
        served = get(embedded, f"/api/assemblies/{guid}", embedded.login())
        assert served.status_code == 200, served.text
        assert served.json()["source"] == "official"
        assert "echo vendor fix" in served.json()["payload"]["script"]
    finally:
        embedded.stop()


def test_an_official_sync_through_one_node_is_served_by_the_others(node: NodeFactory, tmp_path: Path) -> None:
    a, b = node("a"), node("b")
    session = a.login()
    on_b = b.login()
    enable_dev_mode(a, session, "new vendor drop")
    made = httpx.post(
        f"{a.url}/api/assemblies", json=new_script("shipped", domain="official"), headers=session, timeout=30
    )
    guid = made.json()["assembly_guid"]
    copy = tmp_path / "drop"
    exported = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "export-official", str(copy)],
        env=a.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert httpx.delete(f"{a.url}/api/assemblies/{guid}", headers=session, timeout=30).status_code == 202
    wait_until(lambda: get(b, f"/api/assemblies/{guid}", on_b).status_code == 404, "B to see the delete")
    # The vendor drop (the exported copy) becomes the staging copy, and is synced through A.
    for item in copy.iterdir():
        shutil.move(str(item), a.staging_root / item.name)
    synced = httpx.post(f"{a.url}/api/assemblies/official/sync", headers=session, timeout=60)
    assert synced.status_code == 200, synced.text
    wait_until(
        lambda: get(b, f"/api/assemblies/{guid}", on_b).status_code == 200, "B to serve the synced copy"
    )
