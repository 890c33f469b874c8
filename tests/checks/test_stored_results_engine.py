"""Stored check results through real engine processes: a restart checks nothing it checked
before (counted by the engine's own metrics), and a revision's result is shown again from
the store; on a cluster, a node shows what another node checked without checking it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine_process import EngineProcess
from tests.support import wait_until

BROKEN_PS = "function Get-Broken {\n    Write-Output 'never closed'\n"
SCRIPTS = {
    "broken powershell": ("powershell", BROKEN_PS),
    "bash": ("bash", "#!/bin/bash\necho $1\n"),
    "batch": ("batch", "@echo off\r\ngoto done\r\n:done\r\n"),
}
SERIES = re.compile(r'^assembly_engine_script_checks_total\{language="(\w+)",outcome="(\w+)"\} (\S+)$', re.M)


def outcomes(engine: EngineProcess, headers: dict[str, str]) -> dict[str, float]:
    """Checks since the engine started, by outcome (summed over languages)."""
    text = engine.http.get("/metrics", headers=headers).text
    found: dict[str, float] = {}
    for _, outcome, value in SERIES.findall(text):
        found[outcome] = found.get(outcome, 0.0) + float(value)
    return found


def create(engine: EngineProcess, headers: dict[str, str], name: str, language: str, script: str) -> str:
    body = {
        "domain": "user",
        "display_name": name,
        "category": "stored-checks",
        "assembly_kind": "script",
        "assembly_type": language,
        "payload": {"script": script},
    }
    created = httpx.post(f"{engine.url}/api/assemblies", json=body, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    return str(created.json()["assembly_guid"])


def checks_of(engine: EngineProcess, headers: dict[str, str], path: str) -> dict[str, Any] | None:
    answer = engine.http.get(path, headers=headers).json()["checks"]
    return answer if answer["status"] == "checked" else None


def unchecked(engine: EngineProcess, headers: dict[str, str]) -> int:
    page = engine.http.get("/api/assemblies?category=stored-checks&checks=unchecked", headers=headers)
    return int(page.json()["total"])


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
