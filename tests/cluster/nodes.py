"""Helpers of the cluster tests: nodes (real ``assemblies serve`` processes) on one URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.engine_process import EngineProcess
from tests.hardening.support import new_script
from tests.support import ADMIN_PASSWORD

__all__ = ["NodeFactory", "NodePair", "enable_dev_mode", "get", "make_nodes", "new_script"]

NodeFactory = Callable[..., EngineProcess]


@dataclass
class NodePair:
    a: EngineProcess
    b: EngineProcess
    url: str  # of the pair's database


def enable_dev_mode(engine: EngineProcess, session: dict[str, str], reason: str = "cluster test") -> None:
    """Switch Dev Mode on for ``session`` through ``engine``."""
    switched = httpx.post(
        f"{engine.url}/api/assemblies/dev-mode/switch",
        headers=session,
        json={"enabled": True, "password": ADMIN_PASSWORD, "reason": reason},
        timeout=30,
    )
    assert switched.status_code == 200, switched.text


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
    return engine.http.get(path, headers=headers)
