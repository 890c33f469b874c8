"""The CLI as the tests run it (fixtures in conftest.py): a real subprocess on a home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.engine_process import EngineProcess
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


def make_library(root: Path) -> Path:
    """A plain library folder: scripts with a BOM and CRLF, a shebang file, a playbook, an
    attachment, a sidecar, and files that must be skipped."""
    files: dict[str, bytes] = {
        "Windows/Maintenance/clear-temp.ps1": b"\xef\xbb\xbfRemove-Item $env:TEMP\\* -Recurse\r\n",
        "Windows/Maintenance/clear-temp.ps1.assembly.json": b'{\n  "summary": "Empties TEMP",\n'
        b'  "tags": ["windows"]\n}\n',
        "Linux/run-backup": b"#!/bin/bash\necho backup\n",
        "Linux/report.py": b"print('report')\n",
        "Linux/report.py.files/data.csv": b"a,b\n1,2\n",
        "Ansible/site.yml": b"- hosts: all\n  tasks:\n    - ping:\n",
        "Windows/tool.cmd": b"@echo off\r\necho tool\r\n",
        # skipped, each with a reason
        "Taskfile.yaml": b"version: '3'\ntasks: {}\n",
        "docker-compose.yml": b"services:\n  web:\n    image: nginx\n",
        ".github/workflows/ci.yml": b"on: push\njobs: {}\n",
        "README.md": b"# my library\n",
        "notes/ignored.ps1": b"Write-Host ignored\n",
        ".assemblyignore": b"notes/\n",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


LIBRARY_ITEMS = {
    "Windows/Maintenance/clear-temp.ps1",
    "Linux/run-backup",
    "Linux/report.py",
    "Ansible/site.yml",
    "Windows/tool.cmd",
}


def by_path(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["path"]: item for item in plan["items"]}


def user_assemblies(engine: EngineProcess, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"domain": "user", "limit": 1000, "offset": len(items)}
        answer = engine.http.get("/api/assemblies", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            return items
