"""Orphan payload folders are swept in the background (issue 23, O1): a real engine process
removes folders nothing refers to once they are older than the grace period, and keeps
younger ones (they may belong to a change being made) and every referenced one."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import httpx

from assembly_engine.services.orphan_sweep import GRACE_SECONDS
from tests.engine_process import EngineProcess
from tests.support import wait_until


def test_orphans_older_than_the_grace_period_are_swept_in_the_background(tmp_path: Path) -> None:
    engine = EngineProcess(
        tmp_path / "home", tmp_path / "staging", extra_env={"ENGINE_ORPHAN_SWEEP_SECONDS": "1"}
    ).start()
    try:
        headers = engine.login()
        created = httpx.post(
            f"{engine.url}/api/assemblies",
            headers=headers,
            json={
                "display_name": "kept",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": "echo kept\n"},
            },
            timeout=30,
        )
        assert created.status_code == 201, created.text
        guid, payload_guid = created.json()["assembly_guid"], created.json()["payload_guid"]
        [folder] = [p for p in (tmp_path / "home").rglob(payload_guid) if p.is_dir()]
        # What a kill between writing a folder and recording its change leaves behind.
        old_orphan = folder.parent / uuid.uuid4().hex
        young_orphan = folder.parent / uuid.uuid4().hex
        shutil.copytree(folder, old_orphan)
        shutil.copytree(folder, young_orphan)
        long_ago = time.time() - GRACE_SECONDS - 60
        os.utime(old_orphan, (long_ago, long_ago))

        wait_until(lambda: not old_orphan.exists(), "the background sweep to remove the old orphan")
        time.sleep(1.5)  # one more sweep: the young orphan and the referenced folder stay
        assert young_orphan.is_dir() and folder.is_dir()
        detail = httpx.get(f"{engine.url}/api/assemblies/{guid}", headers=headers, timeout=30)
        assert detail.status_code == 200 and detail.json()["payload"]["script"] == "echo kept\n"
        report = httpx.get(f"{engine.url}/api/admin/verify", headers=headers, timeout=60).json()
        assert report["orphans"] == [] and report["recent_unreferenced"] == [young_orphan.name]
    finally:
        engine.stop()
