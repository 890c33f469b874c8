"""Helpers of the hardening tests that run real engines (test_durability.py and
test_history_durability.py): a script body, an admin with Dev Mode on, a started engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.engine_process import EngineProcess
from tests.support import ADMIN_PASSWORD


def new_script(token: str, domain: str = "user") -> dict[str, Any]:
    return {
        "display_name": f"durable {token}",
        "assembly_kind": "script",
        "assembly_type": "bash",
        "domain": domain,
        "summary": token,
        "payload": {"script": f"echo {token}\n"},
    }


def dev_mode_headers(engine: EngineProcess) -> dict[str, str]:
    headers = engine.login()
    switched = httpx.post(
        f"{engine.url}/api/assemblies/dev-mode/switch",
        headers=headers,
        timeout=30,
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "durability"},
    )
    assert switched.status_code == 200, switched.text
    return headers


@contextmanager
def running(engine: EngineProcess) -> Iterator[EngineProcess]:
    engine.start()
    try:
        yield engine
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            engine.stop()
