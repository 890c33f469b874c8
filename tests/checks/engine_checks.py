"""Reading an engine's script checks over HTTP: shared by the engine and cluster tests."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.engine_process import EngineProcess

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
