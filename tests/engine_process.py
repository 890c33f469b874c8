"""A real engine (``assemblies serve``) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support import ADMIN_PASSWORD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EngineProcess:
    def __init__(
        self,
        home: Path,
        staging_root: Path,
        *,
        flush_interval: float = 60.0,
        extra_env: dict[str, str] | None = None,
        command: Sequence[str] = (sys.executable, "-m", "assembly_engine.cli", "serve"),
    ) -> None:
        self.home = home
        self.command = list(command)  # the harness's own test swaps in a stand-in server
        self.staging_root = staging_root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ENGINE_HOME": str(home),
            "ENGINE_STAGING_ROOT": str(staging_root),
            "ENGINE_PORT": str(self.port),
            "ENGINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ENGINE_FLUSH_INTERVAL": str(flush_interval),
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home.parent / f"engine-{self.port}.out"

    def start(self, timeout: float = 30.0) -> EngineProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine exited with {self.proc.returncode}: {self.output()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()  # a test that fails here has no engine to stop: none may outlive it
        raise RuntimeError(f"engine did not become ready in {timeout:g} s: {self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send ``sig`` and wait for the exit status; an engine still running after
        ``timeout`` seconds is killed (its status is then -SIGKILL, which fails a test that
        expects a clean exit)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}
