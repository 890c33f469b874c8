"""A real engine (``assemblies serve``) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
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
        command: Sequence[str] = (sys.executable, "-m", "assembly_engine.cli.main", "serve"),
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
        self._http: httpx.Client | None = None
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
        # One client for the whole wait: a new one per probe costs ~40 ms of CPU (its TLS
        # context), taken from the engine that is booting beside it on a 2-core machine.
        with httpx.Client(timeout=1) as probe:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"engine exited with {self.proc.returncode}: {self.output()}")
                try:
                    if probe.get(f"{self.url}/api/health").status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        self.kill()  # a test that fails here has no engine to stop: none may outlive it
        raise RuntimeError(f"engine did not become ready in {timeout:g} s: {self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._close_http()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Send ``sig`` and wait for the exit status; an engine still running after
        ``timeout`` seconds is killed (its status is then -SIGKILL, which fails a test that
        expects a clean exit)."""
        self.signal(sig)
        return self.wait(timeout)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` unless the engine has exited already."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 60.0) -> int:
        """The exit status; an engine still running after ``timeout`` seconds is killed."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode
        finally:
            self._close_http()

    @property
    def http(self) -> httpx.Client:
        """A client kept until the engine stops, for polls: ``httpx.get`` builds a new
        client (and TLS context, ~40 ms of CPU) on every call."""
        if self._http is None:
            self._http = httpx.Client(base_url=self.url, timeout=30)
        return self._http

    def _close_http(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": username, "password": password}, timeout=30
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['token']}"}


def stop_all(engines: Iterable[EngineProcess]) -> None:
    """Stop every engine still running, side by side: all are signalled before any is
    awaited, so their shutdowns (a last flush each) overlap."""
    running = [e for e in engines if e.proc is not None and e.proc.poll() is None]
    for engine in running:
        engine.signal()
    for engine in running:
        engine.wait()
