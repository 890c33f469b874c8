"""An engine killed (SIGKILL) inside an upgrade sync restarts with every local edit and a
consistent official library (Docs/official-library.md, "Upgrades").

The kill comes from the engine's own failpoint (``official-sync``: inside the transaction
that rebuilds the runtime official rows, just before its commit), so it hits the one moment
an outside ``kill -9`` would hit only by luck.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.engine_process import EngineProcess
from tests.hardening.support import running
from tests.upgrade_support import detail, dev_mode, edit_script, install, ship_v1, ship_v2, upstream_states

EDITED = "Write-Host 'A edited here'\n"
QUEUED = "Write-Host 'D edited, still in the journal'\n"


def test_a_kill_inside_the_upgrade_sync_loses_no_local_edit(tmp_path: Path) -> None:
    v1 = ship_v1(tmp_path / "vendor-v1", ["A", "B", "C", "D"])
    v2 = ship_v2(v1, tmp_path / "vendor-v2", {"A": "Write-Host 'A v2'\n", "B": "Write-Host 'B v2'\n"}, ["C"])
    home, staging = tmp_path / "home", tmp_path / "staging"
    install(v1, staging)
    with running(EngineProcess(home, staging)) as engine:
        headers = engine.login()
        dev_mode(engine.http, headers)
        edit_script(engine.http, headers, v1.guid("A"), EDITED)
        written = engine.http.post("/api/assemblies/dev-mode/write", json={}, headers=headers)
        assert written.status_code == 200, written.text
        edit_script(engine.http, headers, v1.guid("D"), QUEUED)  # acknowledged, only in the journal
        engine.kill()

    install(v2, staging)  # the product upgrade, then a start that dies inside the sync
    runtime_official = home / "Assemblies" / "official.db"
    crashing = EngineProcess(
        home, staging, extra_env={"ENGINE_FAILPOINT": f"official-sync:{runtime_official}"}
    )
    home.mkdir(parents=True, exist_ok=True)
    died = subprocess.run(crashing.command, env=crashing.env, capture_output=True, timeout=120)
    assert died.returncode == -9, died.stdout.decode() + died.stderr.decode()

    with running(EngineProcess(home, staging)) as engine:
        headers = engine.login()
        http = engine.http
        assert detail(http, headers, v1.guid("A"))["payload"]["script"] == EDITED
        assert detail(http, headers, v1.guid("D"))["payload"]["script"] == QUEUED
        assert detail(http, headers, v1.guid("B"))["payload"]["script"] == "Write-Host 'B v2'\n"
        assert upstream_states(http, headers) == {
            "A": "update_available",
            "B": "current",
            "C": "removed_upstream",
            "D": "current",
        }
        vendor = detail(http, headers, v1.guid("A"))["upstream"]["revision"]
        kept = http.get(f"/api/assemblies/{v1.guid('A')}/revisions/{vendor}", headers=headers)
        assert kept.json()["payload"]["script"] == "Write-Host 'A v2'\n"
        dev_mode(http, headers)
        resynced = http.post("/api/assemblies/official/sync", headers=headers)
        assert resynced.status_code == 200 and resynced.json()["matches"], resynced.text
        assert resynced.json()["update_available"] == 1 and resynced.json()["removed_upstream"] == 1
    verified = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "--home", str(home), "verify"],
        env={**crashing.env, "ENGINE_FAILPOINT": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
