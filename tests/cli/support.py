"""The CLI as the tests run it (fixtures in conftest.py): a real subprocess on a home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import ADMIN_PASSWORD, REPO_ROOT

STAGING_SOURCE = REPO_ROOT / "Data" / "Engine" / "Assemblies"


@dataclass
class Cli:
    """Runs ``python -m assembly_engine.cli.main --home H --staging-root S …`` as a subprocess."""

    home: Path
    staging: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_")}
        env["ENGINE_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        env["COLUMNS"] = "200"
        return env

    def run(
        self, *args: str | Path, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            sys.executable,
            "-m",
            "assembly_engine.cli.main",
            "--home",
            str(self.home),
            "--staging-root",
            str(self.staging),
            *map(str, args),
        ]
        return subprocess.run(
            argv,
            env=self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.home.parent,
        )

    def ok(self, *args: str | Path, input: str | None = None, code: int = 0) -> str:
        result = self.run(*args, input=input)
        assert result.returncode == code, (
            f"{args}: exit {result.returncode}, expected {code}\n"
            f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}"
        )
        return result.stdout

    def json(self, *args: str | Path, input: str | None = None, code: int = 0) -> Any:
        return json.loads(self.ok(*args, "--json", input=input, code=code))
