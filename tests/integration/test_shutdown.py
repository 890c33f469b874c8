"""A real engine stopped with SIGTERM or SIGINT (Ctrl-C) flushes its queue and exits 0."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from tests.engine_process import EngineProcess


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_flushes_the_queue_and_exits_cleanly(tmp_path: Path, sig: int) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(tmp_path / "home", staging, flush_interval=3600).start()
    headers = engine.login()
    with engine.client() as http:
        created = http.post(
            "/api/assemblies",
            headers=headers,
            json={
                "display_name": "queued at shutdown",
                "assembly_kind": "script",
                "assembly_type": "python",
                "payload": {"script": "print('bye')\n"},
            },
        )
        assert created.status_code == 201 and created.json()["is_dirty"] is True
        health = http.get("/api/health").json()
        assert health["queue_depth"] == 1 and health["assemblies"]["user"] == 1
    assert engine.stop(sig) == 0
    runtime = tmp_path / "home" / "Assemblies"
    conn = sqlite3.connect(runtime / "user_created.db")
    rows = conn.execute("SELECT display_name FROM assemblies").fetchall()
    conn.close()
    assert rows == [("queued at shutdown",)]
    journal = sqlite3.connect(runtime / "journal.db")
    assert journal.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0
    journal.close()
    assert not (tmp_path / "home" / "cli.json").exists()
    assert "engine stopped" in engine.output()
