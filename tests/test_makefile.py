"""`make run` honours ENGINE_HOST/ENGINE_PORT unless HOST/PORT are given to make; `make
official-library` signs the library it builds when given a key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def make_official_library(out: Path, *settings: str) -> None:
    # the installed venv counts as up to date: the test builds the library, not the venv
    command = [
        "make",
        "--old-file=.venv/.installed",
        "official-library",
        f"OFFICIAL_LIBRARY={out}",
        *settings,
    ]
    planned = subprocess.run(
        [*command, "--dry-run"], cwd=REPOSITORY, capture_output=True, text=True, timeout=60
    )
    # never a real run that would rebuild the repository's own copy instead of ``out``
    assert f'--out "{out}"' in planned.stdout, planned.stdout + planned.stderr
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def verify_official(root: Path, public_key: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "official", "verify"]
        + ["--root", str(root), "--trust", str(public_key)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_official_library_is_signed_only_when_given_a_key(tmp_path: Path) -> None:
    """The release step (Docs/official-library.md): `make official-library` with
    OFFICIAL_SIGNING_KEY builds a copy that `assemblies official verify` accepts with the
    public key alone; without the key the copy is unsigned and refused."""
    private = tmp_path / "keys" / "release"
    made = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "official", "keygen", str(private)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    public = private.with_name("release.pub")

    signed = tmp_path / "signed"
    make_official_library(signed, f"OFFICIAL_SIGNING_KEY={private}")
    assert (signed / "manifest.json").is_file() and (signed / "manifest.sig").is_file()
    checked = verify_official(signed, public)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    unsigned = tmp_path / "unsigned"
    make_official_library(unsigned)
    assert (unsigned / "official.db").is_file() and not (unsigned / "manifest.sig").exists()
    assert verify_official(unsigned, public).returncode == 1
