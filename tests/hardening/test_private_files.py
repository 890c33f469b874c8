"""Everything a real engine and its backup write is owner-only (issue 11, item 7)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.engine_process import EngineProcess


def loose_entries(root: Path) -> list[str]:
    """Every folder not 0700 and every file not 0600 (or stricter) under ``root``."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077:
                found.append(f"{path.relative_to(root)} {oct(mode)}")
    if stat.S_IMODE(root.stat().st_mode) & 0o077:
        found.append(f". {oct(stat.S_IMODE(root.stat().st_mode))}")
    return found


def test_home_and_backup_are_owner_only_after_a_write_and_a_backup(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)  # as a careless `mkdir` under umask 022 leaves it
    engine = EngineProcess(home, staging, flush_interval=0.2).start()
    try:
        headers = engine.login()
        with engine.client() as http:
            created = http.post(
                "/api/assemblies",
                headers=headers,
                json={
                    "display_name": "Private",
                    "assembly_kind": "script",
                    "assembly_type": "bash",
                    "payload": {
                        "script": "echo private\n",
                        "files": [{"file_name": "notes.txt", "mime_type": "text/plain", "data": "bm90ZXM="}],
                    },
                },
            )
            assert created.status_code == 201, created.text
        backup = tmp_path / "backup"
        result = subprocess.run(
            [sys.executable, "-m", "assembly_engine.cli.main", "backup", str(backup)],
            env=engine.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        payloads = home / "Assemblies" / "Payloads"
        assert any(payloads.iterdir())
        assert (home / "Logs" / "engine.log").exists() and (home / "Logs" / "audit.log.head").exists()
        assert loose_entries(home) == []
        assert (backup / "engine.db").exists()
        assert loose_entries(backup) == []
    finally:
        engine.stop()
    assert loose_entries(home) == []
