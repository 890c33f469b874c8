"""A command imports only what it runs (cli/common.py's LazyGroup): ``sync plan`` reads a
library folder without loading the engine's document models, web framework, signing keys or
httpx (the CLI talks to the engine through http.client), which were most of its start-up.
Checked by the modules a fresh interpreter has loaded, not by time (the machine is shared)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "pydantic",
    "fastapi",
    "starlette",
    "cryptography",
    "uvicorn",
    "httpx",
    "rich",
    "pathspec",
    "yaml",
    "assembly_engine.api",
)

PROBE = """
import json, sys
from assembly_engine.cli.main import main
from assembly_engine.cli.library_files import read_folder
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=300, check=True
    )
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return set(modules)


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}


def test_sync_plan_loads_no_engine_models_framework_or_keys() -> None:
    modules = loaded_after("sync", "plan", "--help")
    assert "assembly_engine.cli.sync" in modules
    assert heavy(modules) == set()
    assert "assembly_engine.services.assemblies.formats" not in modules
    assert "assembly_engine.cli.official" not in modules


def test_every_command_is_still_listed_and_loaded_by_help() -> None:
    modules = loaded_after("--help")
    for name in ("sync", "importing", "official", "check", "history", "users", "tokens"):
        assert f"assembly_engine.cli.{name}" in modules, name
