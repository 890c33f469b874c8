"""How a CLI finds the engine running on its home: the runtime lock and ``cli.json``.

A running engine holds the runtime lock and publishes its loopback URL and a token in
``<home>/cli.json`` (owner-only, replaced atomically); the CLI probes the lock and, when it
is taken, reads that file.
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from assembly_engine.storage.files.durable_files import replace_file
from assembly_engine.storage.files.runtime_lock import EngineLocked, RuntimeLock

CLI_ACCESS_FILE = "cli.json"


def engine_running(runtime_root: Path) -> str | None:
    """Why ``runtime_root`` is taken (a sentence naming the engine holding it), or None."""
    probe = RuntimeLock(runtime_root)
    try:
        probe.acquire()
    except EngineLocked as exc:
        return str(exc)
    probe.release()
    return None


def access_path(home: Path) -> Path:
    return home / CLI_ACCESS_FILE


def publish_access(home: Path, url: str, token: str) -> Path:
    """Write ``<home>/cli.json`` (owner-only) so the CLI can reach this running engine."""
    path = access_path(home)
    data = json.dumps({"url": url, "token": token, "pid": os.getpid()})
    replace_file(path, data.encode("utf-8"), 0o600)
    return path


def withdraw_access(home: Path) -> None:
    with suppress(FileNotFoundError):
        access_path(home).unlink()


def read_access(home: Path) -> dict[str, Any]:
    """What the running engine published; OSError or ValueError when it cannot be read."""
    return dict(json.loads(access_path(home).read_text(encoding="utf-8")))
