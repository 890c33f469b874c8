"""`make run` honours ENGINE_HOST/ENGINE_PORT unless HOST/PORT are given to make."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def serve_line(*args: str, **env: str) -> str:
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", *args],
        cwd=REPOSITORY,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "assemblies serve" in line]
    assert len(lines) == 1, result.stdout
    return lines[0]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_engine_port_from_the_environment_is_not_overridden() -> None:
    line = serve_line(ENGINE_PORT="9000", ENGINE_HOST="127.0.0.2")
    assert "--port" not in line and "--host" not in line, line  # serve reads ENGINE_PORT itself


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_host_and_port_given_to_make_win() -> None:
    line = serve_line("HOST=0.0.0.0", "PORT=9100", ENGINE_PORT="9000")
    assert "--host 0.0.0.0" in line and "--port 9100" in line, line
