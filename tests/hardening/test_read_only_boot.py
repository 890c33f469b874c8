"""Boot on a full disk (issue 23, D1): the engine starts read-only and serves what it has.

Real parts only: a real ``assemblies serve`` process whose whole home is a size-limited
tmpfs filled to the last byte (root only; skipped elsewhere), real HTTP. Three ways a
home meets the full disk at its next start:

* the engine was killed (-9) with changes still queued in the journal: the databases and
  the journal have WAL content, read through their existing ``-shm``;
* the engine was stopped cleanly: every file is checkpointed, read as immutable;
* the journal's WAL index (``-shm``) is gone: the journal cannot be read on a full disk,
  so health says reads are not complete, and its entries stay for the next start.

Each checks: health says read-only and "disk full", reads (list, detail) serve every
acknowledged change the engine could read, every write (create, update, delete, sign-in)
answers 503 storage_error with Retry-After and a message saying nothing was changed,
the engine stops cleanly, no byte of the home's data changed, and once space is back a
restart writes again and keeps everything acknowledged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from assembly_engine.domain.types import DATABASE_FILES, Domain
from assembly_engine.storage.formats.audit_chain import verify_file, write_head
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.engine_process import EngineProcess
from tests.hardening.full_disk import Filler, mount_tmpfs, umount
from tests.hardening.support import dev_mode_headers, new_script
from tests.support import ADMIN_PASSWORD, make_record, wait_until

# Derived or informational files a start may touch: WAL indexes, the lock's pid line, the
# CLI's address file (withdrawn when an engine stops), logs.
CHANGEABLE = ("-shm", "engine.lock", "cli.json")


@contextmanager
def full_disk_home(tmp_path: Path) -> Iterator[tuple[EngineProcess, Filler]]:
    home = tmp_path / "home"
    if not mount_tmpfs(home):
        pytest.skip("cannot mount a size-limited tmpfs here (needs root and mount)")
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging, flush_interval=3600.0)
    filler = Filler(home)
    try:
        yield engine, filler
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            engine.kill()
        filler.free()
        umount(home)


def data_files(home: Path) -> dict[str, str]:
    """Every file of the home's data (logs and derived files aside) with its SHA-256."""
    found: dict[str, str] = {}
    for folder, _, names in os.walk(home):
        for name in names:
            path = Path(folder) / name
            relative = str(path.relative_to(home))
            if name.startswith("engine.log") or name == "filler.bin" or name.endswith(CHANGEABLE):
                continue
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def assert_unharmed(before: dict[str, str], after: dict[str, str], home: Path) -> None:
    for name, digest in before.items():
        assert after.get(name) == digest, f"{name} changed or vanished during the read-only start"
    for name in after.keys() - before.keys():  # only empty leftovers of a failed open may appear
        assert name.endswith(("-wal", "-journal")) and (home / name).stat().st_size == 0, name


def acknowledged_changes(engine: EngineProcess, headers: dict[str, str]) -> dict[str, str]:
    """Three creates flushed to the database, then two creates and an update left queued
    in the journal. Returns guid -> acknowledged script."""
    acked: dict[str, str] = {}
    with engine.client() as http:
        http.headers.update(headers)
        for n in range(5):
            if n == 3:
                flushed = http.post("/api/assemblies/dev-mode/write", json={})
                assert flushed.status_code == 200, flushed.text
            body = new_script(f"{n}-{uuid.uuid4().hex[:6]}")
            created = http.post("/api/assemblies", json=body)
            assert created.status_code == 201, created.text
            acked[created.json()["assembly_guid"]] = body["payload"]["script"]
        first = next(iter(acked))
        updated = http.put(f"/api/assemblies/{first}", json={"payload": {"script": "echo queued update\n"}})
        assert updated.status_code == 200, updated.text
        acked[first] = "echo queued update\n"
    return acked


def served(engine: EngineProcess, headers: dict[str, str]) -> dict[str, str]:
    """guid -> script of every user assembly the engine serves (list, then each detail)."""
    with engine.client() as http:
        http.headers.update(headers)
        listed = http.get("/api/assemblies", params={"domain": "user", "limit": 1000})
        assert listed.status_code == 200, listed.text
        scripts: dict[str, str] = {}
        for item in listed.json()["items"]:
            detail = http.get(f"/api/assemblies/{item['assembly_guid']}")
            assert detail.status_code == 200, detail.text
            scripts[item["assembly_guid"]] = detail.json()["payload"]["script"]
        return scripts


def assert_writes_refused(engine: EngineProcess, headers: dict[str, str], guid: str) -> None:
    with engine.client() as http:
        attempts = {
            "create": lambda: http.post("/api/assemblies", headers=headers, json=new_script("refused")),
            "update": lambda: http.put(
                f"/api/assemblies/{guid}", headers=headers, json={"summary": "refused"}
            ),
            "delete": lambda: http.delete(f"/api/assemblies/{guid}", headers=headers),
            "flush": lambda: http.post("/api/assemblies/dev-mode/write", headers=headers, json={}),
            "sign-in": lambda: http.post(
                "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            ),
        }
        for what, send in attempts.items():
            answer = send()
            assert answer.status_code == 503, (what, answer.text)
            body = answer.json()
            assert body["error"] == "storage_error", (what, body)
            assert "disk is full" in body["message"] and "nothing was changed" in body["message"], body
            assert "restart" in body["message"], body
            assert int(answer.headers["Retry-After"]) >= 1


def console_says(engine: EngineProcess, words: str) -> str | None:
    """The engine's whole console output once it holds ``words`` (engine.log is on the full disk)."""
    text = engine.log_path.read_text(errors="replace")
    return text if words in text else None


def start_read_only(engine: EngineProcess, filler: Filler) -> dict[str, object]:
    filler.fill_certainly()  # right before the boot: nothing may free a block between
    engine.start(timeout=120)
    health = engine.http.get("/api/health")
    assert health.status_code == 200, health.text
    answer: dict[str, object] = health.json()
    assert answer["status"] == "read_only", answer
    assert "disk full" in str(answer["read_only"]) and "is full" in str(answer["read_only"]), answer
    return answer


def stop_and_recover(
    engine: EngineProcess,
    filler: Filler,
    headers: dict[str, str],
    acked: dict[str, str],
    before: dict[str, str],
) -> None:
    assert engine.stop() == 0, engine.output()
    assert_unharmed(before, data_files(engine.home), engine.home)
    filler.free()
    engine.start(timeout=120)  # space is back: a restart writes again
    health = engine.http.get("/api/health").json()
    assert health["status"] == "ok" and health["read_only"] is None and health["complete"] is True, health
    assert served(engine, headers) == acked
    created = httpx.post(
        f"{engine.url}/api/assemblies", headers=headers, json=new_script("after"), timeout=30
    )
    assert created.status_code == 201, created.text
    flushed = httpx.post(f"{engine.url}/api/assemblies/dev-mode/write", headers=headers, json={}, timeout=30)
    assert flushed.status_code == 200, flushed.text
    assert engine.http.get("/api/health").json()["queue_depth"] == 0
    assert engine.stop() == 0


def put_audit_head_back(home: Path) -> None:
    """The head file one entry behind the log, as a kill between an append and the head's
    rewrite leaves it: a normal start advances it, a read-only start must leave it."""
    audit = home / "Logs" / "audit.log"
    before_last = json.loads(audit.read_bytes().splitlines()[-2])
    write_head(audit, before_last["seq"], before_last["hash"])


@pytest.mark.parametrize("how", ["killed", "stopped", "audit-head-behind"])
def test_boot_on_a_full_disk_serves_reads_read_only(tmp_path: Path, how: str) -> None:
    with full_disk_home(tmp_path) as (engine, filler):
        engine.start(timeout=120)
        headers = dev_mode_headers(engine)
        acked = acknowledged_changes(engine, headers)
        if how == "killed":
            engine.kill()
        else:
            assert engine.stop() == 0
        if how == "audit-head-behind":
            put_audit_head_back(engine.home)
        before = data_files(engine.home)
        health = start_read_only(engine, filler)
        assert health["complete"] is True, health
        assert health["queue_depth"] == (3 if how == "killed" else 0), health
        assert f"{health['queue_depth']} queued change(s)" in str(health["read_only"]), health
        assert served(engine, headers) == acked  # the session from before the start still works
        assert_writes_refused(engine, headers, next(iter(acked)))
        assert served(engine, headers) == acked
        output = wait_until(
            lambda: console_says(engine, "started read-only"), "the read-only start in the log"
        )
        assert "is full" in output and "disk full" in output, output
        stop_and_recover(engine, filler, headers, acked, before)
        audit = verify_file(engine.home / "Logs" / "audit.log")
        assert audit.ok, audit.problem


def test_unreadable_journal_is_reported_and_kept(tmp_path: Path) -> None:
    """A journal whose WAL index is gone usually cannot be read on a full disk: reads lack
    its changes, and health says so; a restart with space serves and writes them.

    The boot may free a page first (tmpfs returns them late), and then SQLite rebuilds the
    index and reads the journal whole: that outcome loses nothing either, and is accepted."""
    with full_disk_home(tmp_path) as (engine, filler):
        engine.start(timeout=120)
        headers = dev_mode_headers(engine)
        acked = acknowledged_changes(engine, headers)
        engine.signal(signal.SIGKILL)
        engine.wait()
        shm = engine.home / "Assemblies" / "journal.db-shm"
        assert shm.exists() and (engine.home / "Assemblies" / "journal.db-wal").stat().st_size > 0
        shm.unlink()
        before = data_files(engine.home)
        health = start_read_only(engine, filler)
        shown = served(engine, headers)
        if health["complete"]:
            assert shown == acked, health  # the index was rebuilt: every change is served
        else:
            assert "journal could not be read" in str(health["read_only"]), health
            assert set(shown) < set(acked)  # the three flushed creates, without the queued changes
            assert len(shown) == 3
        assert_writes_refused(engine, headers, next(iter(shown)))
        stop_and_recover(engine, filler, headers, acked, before)


def stage_large_official(staging: Path, size: int) -> None:
    """A staging official library of one script of ``size`` random (incompressible) bytes."""
    text = base64.b64encode(os.urandom(size * 3 // 4)).decode() + "\n"
    records = [make_record(PayloadStore(staging / "Payloads"), Domain.OFFICIAL, "large vendor script", text)]
    db = DomainDatabase(Domain.OFFICIAL, staging / DATABASE_FILES[Domain.OFFICIAL], ConnectionOptions())
    db.validate()
    db.write([r.to_row() for r in records], [])
    db.close()


def test_start_that_fills_the_disk_goes_read_only(tmp_path: Path) -> None:
    """Room at the start, but not enough for it: the official sync's payload copy meets the
    full disk, and the engine goes on read-only instead of exiting."""
    with full_disk_home(tmp_path) as (engine, filler):
        engine.start(timeout=120)
        headers = dev_mode_headers(engine)
        acked = acknowledged_changes(engine, headers)
        assert engine.stop() == 0
        stage_large_official(engine.staging_root, 3 * 1024 * 1024)
        filler.fill_certainly()
        os.truncate(filler.path, filler.path.stat().st_size - 1536 * 1024)  # 1.5 MiB free
        engine.start(timeout=120)
        health = engine.http.get("/api/health").json()
        assert health["status"] == "read_only" and health["complete"] is True, health
        assert "is full" in str(health["read_only"]), health
        assert health["assemblies"]["official"] == 0, health  # the sync could not finish
        assert served(engine, headers) == acked
        assert_writes_refused(engine, headers, next(iter(acked)))
        console = wait_until(lambda: console_says(engine, "starting read-only"), "the fallback in the log")
        assert "No space left on device" in console or "disk is full" in console, console
        assert engine.stop() == 0
        filler.free()
        engine.start(timeout=120)
        health = engine.http.get("/api/health").json()
        assert health["status"] == "ok" and health["assemblies"]["official"] == 1, health
        assert served(engine, headers) == acked
        assert engine.stop() == 0
