"""The OpenAPI document is an honest contract: schemathesis runs every check against a real
engine (``assemblies serve`` on a free loopback port, a temporary home), signed in as admin
with Dev Mode on, and finds nothing.

``--checks all`` includes the ones the in-process fuzzing (test_fuzz.py) leaves out:
schema-valid requests must be accepted, schema-violating ones refused, unsupported methods
answered 405 with an ``Allow`` that matches the document, and the stateful links followed.
Generation is seeded, so a run is reproducible. ``POST /api/auth/logout`` and ``DELETE
/api/auth/sessions/{session_id}`` are left out: they would end the session the run uses
(test_sessions.py and test_account.py cover them). schemathesis.toml says
where, and why, a 422 answers schema-valid data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.engine_process import ADMIN_PASSWORD, EngineProcess

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 10  # per operation and phase: the whole run stays within a few minutes


@pytest.mark.timeout(900)
def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(tmp_path / "home", staging).start()
    try:
        headers = engine.login()
        switched = httpx.post(
            f"{engine.url}/api/assemblies/dev-mode/switch",
            headers=headers,
            timeout=30,
            json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "contract run"},
        )
        assert switched.status_code == 200, switched.text
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(CONFIG),
                "run",
                f"{engine.url}/openapi.json",
                "--checks",
                "all",
                "--header",
                f"Authorization: {headers['Authorization']}",
                "--exclude-path",
                "/api/auth/logout",
                "--exclude-path",
                "/api/auth/sessions/{session_id}",
                "--seed",
                "1",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "1",
                # A batch of 10,000 documents writes 10,000 audit entries.
                "--request-timeout",
                "300",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=840,
            check=False,
        )
        assert run.returncode == 0, run.stdout[-25_000:] + run.stderr[-5_000:]
    finally:
        engine.stop()
