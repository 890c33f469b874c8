"""A full disk at boot names its cause (issue 23, D1), and the audit verify never answers
500 on a full disk (D2).

A real full disk, as tests/hardening/test_disk_trouble.py makes one: an 8 MiB tmpfs
mounted on the engine's home and filled to the last byte (root only; skipped elsewhere).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assembly_engine.storage.formats.audit_chain import FIELDS
from tests.hardening.test_disk_trouble import full_disk_engine, prepare


def test_boot_on_a_full_disk_says_the_disk_is_full(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        prepare(engine)
        engine.stop()
        filler.fill()
        with pytest.raises(Exception) as failed:
            engine.start()
        engine.client = None
        message = str(failed.value)
        assert "disk" in message and "is full" in message, message
        assert str(engine.settings.home) in message
        assert "Free some space" in message
        filler.free()
        engine.start()  # with space again the engine boots, with what it had
        assert engine.http.get("/api/health").status_code == 200
        listed = engine.http.get("/api/assemblies", headers=engine.headers()).json()
        assert {item["assembly_guid"] for item in listed["items"]} >= set(engine.live())


def test_audit_verify_on_a_full_disk_is_503_not_500(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        prepare(engine)
        log = engine.services.audit.store
        audit_path = engine.settings.logs_dir / "audit.log"
        last = json.loads(audit_path.read_bytes().splitlines()[-1])
        fields = {k: last[k] for k in FIELDS if k not in ("seq", "prev_hash", "hash")}
        # Leave room in the log's last page for one more entry, then fill the disk: the
        # entry is appended, but its head file (a new file) finds no room.
        while (4096 - audit_path.stat().st_size % 4096) < 1500:
            log.append(fields)
        filler.fill()
        with pytest.raises(OSError):
            log.append(fields)
        answer = engine.http.get("/api/admin/audit/verify", headers=engine.headers())
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["error"] == "storage_error" and "No space left on device" in body["message"], body
        filler.free()
        answer = engine.http.get("/api/admin/audit/verify", headers=engine.headers())
        assert answer.status_code == 200 and answer.json()["ok"] is True, answer.text
