"""Helpers of the cluster tests: nodes (real ``assemblies serve`` processes) on one URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.engine_process import EngineProcess

NodeFactory = Callable[..., EngineProcess]


def new_script(token: str, domain: str = "user") -> dict[str, Any]:
    return {
        "display_name": f"cluster {token}",
        "assembly_kind": "script",
        "assembly_type": "bash",
        "domain": domain,
        "summary": token,
        "payload": {"script": f"echo {token}\n"},
    }


def make_nodes(url: str, root: Path) -> tuple[NodeFactory, list[EngineProcess]]:
    staging = root / "staging"
    staging.mkdir(exist_ok=True)
    started: list[EngineProcess] = []

    def node(name: str, *, flush_interval: float = 0.5, **env: str) -> EngineProcess:
        engine = EngineProcess(
            root / name,
            staging,
            flush_interval=flush_interval,
            extra_env={"ENGINE_DATABASE_URL": url, "ENGINE_LOCK_RETRY_SECONDS": "2", **env},
        )
        started.append(engine)
        return engine.start(timeout=60)

    return node, started


def get(engine: EngineProcess, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{engine.url}{path}", headers=headers, timeout=30)
