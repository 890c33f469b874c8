"""A real engine on a home that already holds assemblies: it answers at once, builds its
records in the background, and says so in /api/health."""

from __future__ import annotations

from pathlib import Path

from assembly_engine.domain.types import Domain
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.engine_process import EngineProcess
from tests.support import make_record, wait_until

COUNT = 300


def test_a_booted_engine_serves_its_library_and_reports_when_warm(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    runtime = tmp_path / "home" / "Assemblies"
    payloads = PayloadStore(runtime / "Payloads")
    records = [make_record(payloads, Domain.USER, f"Preloaded {i:03d}") for i in range(COUNT)]
    db = DomainDatabase(Domain.USER, runtime / "user_created.db", ConnectionOptions())
    db.validate()
    db.write([r.to_row() for r in records], [])
    db.close()

    engine = EngineProcess(tmp_path / "home", staging, flush_interval=3600).start()
    try:
        headers = engine.login()
        with engine.client() as http:
            health = http.get("/api/health").json()
            assert health["assemblies"]["user"] == COUNT and isinstance(health["cache_warm"], bool)
            one = http.get(f"/api/assemblies/{records[7].assembly_guid}", headers=headers)
            assert one.status_code == 200 and one.json()["display_name"] == "Preloaded 007"
            wait_until(lambda: http.get("/api/health").json()["cache_warm"], "the cache to build its records")
            listed = http.get("/api/assemblies?limit=5&sort=display_name", headers=headers).json()
            assert listed["total"] == COUNT
            assert [i["display_name"] for i in listed["items"]] == [f"Preloaded {i:03d}" for i in range(5)]
            assert all(i["integrity"] == "ok" and not i["is_dirty"] for i in listed["items"])
    finally:
        assert engine.stop() == 0
