"""Stored check results through real engine processes: a restart checks nothing it checked
before (counted by the engine's own metrics), and a revision's result is shown again from
the store; on a cluster, a node shows what another node checked without checking it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.checks.engine_checks import checks_of, create, outcomes, unchecked
from tests.engine_process import EngineProcess
from tests.support import wait_until

BROKEN_PS = "function Get-Broken {\n    Write-Output 'never closed'\n"
SCRIPTS = {
    "broken powershell": ("powershell", BROKEN_PS),
    "bash": ("bash", "#!/bin/bash\necho $1\n"),
    "batch": ("batch", "@echo off\r\ngoto done\r\n:done\r\n"),
}


@pytest.mark.timeout(300)
def test_a_restart_checks_nothing_again(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(tmp_path / "home", staging).start()
    try:
        headers = engine.login()
        guids = {name: create(engine, headers, name, *script) for name, script in SCRIPTS.items()}
        broken = guids["broken powershell"]
        fixed = httpx.put(
            f"{engine.url}/api/assemblies/{broken}",
            json={"payload": {"script": "Write-Output 'fixed'\n"}},
            headers=headers,
            timeout=30,
        )
        assert fixed.status_code == 200, fixed.text
        first = {
            guid: wait_until(lambda g=guid: checks_of(engine, headers, f"/api/assemblies/{g}"), "a check")
            for guid in guids.values()
        }
        revision_1 = wait_until(
            lambda: checks_of(engine, headers, f"/api/assemblies/{broken}/revisions/1"), "revision 1's check"
        )
        assert revision_1["has_errors"] is True and first[broken]["has_errors"] is False
        assert outcomes(engine, headers).get("checked", 0) >= 4
    finally:
        engine.stop()

    again = EngineProcess(tmp_path / "home", staging).start()
    try:
        headers = again.login()
        # The start's sweep finds every result stored: the list has its counts...
        wait_until(lambda: unchecked(again, headers) == 0, "the list's counts after the restart", timeout=60)
        # ...the details and the old revision show the same results...
        for guid, before in first.items():
            assert checks_of(again, headers, f"/api/assemblies/{guid}") == before
        assert checks_of(again, headers, f"/api/assemblies/{broken}/revisions/1") == revision_1
        # ...and no checker ran for any of it.
        counted = outcomes(again, headers)
        assert counted.get("checked", 0) == 0 and counted.get("stored", 0) >= 4, counted
    finally:
        again.stop()
