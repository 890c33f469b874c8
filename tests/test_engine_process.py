"""The engine harness leaves no process behind: not when an engine never becomes ready,
and not when one ignores SIGTERM. Stand-in servers play the engine, so this runs in a
second or two."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.engine_process import EngineProcess

# Answers 200 to every GET on ENGINE_PORT, like the engine's /api/health, and ignores SIGTERM.
STUBBORN_SERVER = """
import os, signal
from http.server import BaseHTTPRequestHandler, HTTPServer
signal.signal(signal.SIGTERM, signal.SIG_IGN)
class Healthy(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
HTTPServer(("127.0.0.1", int(os.environ["ENGINE_PORT"])), Healthy).serve_forever()
"""


def stand_in(tmp_path: Path, source: str) -> EngineProcess:
    staging = tmp_path / "staging"
    staging.mkdir()
    return EngineProcess(tmp_path / "home", staging, command=[sys.executable, "-c", source])


def test_an_engine_that_never_becomes_ready_is_killed(tmp_path: Path) -> None:
    engine = stand_in(tmp_path, "import time; time.sleep(600)")
    with pytest.raises(RuntimeError, match="did not become ready in 0.5 s"):
        engine.start(timeout=0.5)
    assert engine.proc is not None
    assert engine.proc.poll() == -signal.SIGKILL


def test_an_engine_that_ignores_sigterm_is_killed_when_stopped(tmp_path: Path) -> None:
    engine = stand_in(tmp_path, STUBBORN_SERVER).start(timeout=30)
    assert engine.stop(timeout=0.5) == -signal.SIGKILL
    assert engine.proc is not None and engine.proc.poll() == -signal.SIGKILL
