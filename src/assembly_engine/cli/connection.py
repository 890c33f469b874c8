"""How the CLI reaches an engine: the running one, or one it starts in-process.

When an engine already runs on the home (its lock is held), the CLI talks to it over
loopback HTTP with the token that engine published in ``<home>/cli.json`` (owner-only).
Otherwise the CLI starts the same application in-process on an ephemeral loopback port —
official sync, journal replay and all — and stops it afterwards, which flushes the queue.
Either way every command goes through the same REST API and services; the CLI never
touches the databases itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assembly_engine.cli.loopback_http import LoopbackHttp, ReachError
from assembly_engine.config import Settings
from assembly_engine.storage.files.cli_access import CLI_ACCESS_FILE, CliAccess, engine_running, read_access


class CliError(Exception):
    """A failure to show the user as one sentence (exit code 1, or ``exit_code``)."""

    def __init__(self, message: str, exit_code: int = 1, body: Any = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.body = body


class EngineClient:
    def __init__(self, http: LoopbackHttp, mode: str) -> None:
        self.http = http
        self.mode = mode  # "running engine" | "in-process engine"

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
        json_bytes: bytes | None = None,
    ) -> Any:
        try:
            response = self.http.request(
                method, path, json_body=json_body, params=params, json_bytes=json_bytes
            )
        except ReachError as exc:
            raise CliError(f"Could not reach the engine ({exc}).") from None
        except ValueError as exc:  # NaN or Infinity: JSON has neither
            raise CliError(f"The request cannot be sent as JSON: {exc}.") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code not in ok:
            message = body.get("message") if isinstance(body, dict) else response.text[:300]
            raise CliError(f"{message} (HTTP {response.status_code})", body=body)
        return body


def running_engine_client(settings: Settings) -> EngineClient | None:
    """A client of the engine running on this home, or None when none runs."""
    access = _running_engine(settings)
    if access is None:
        return None
    headers = {"Authorization": f"Bearer {access.token}"}
    return EngineClient(LoopbackHttp(access.url, headers, timeout=600), "running engine")


def _running_engine(settings: Settings) -> CliAccess | None:
    try:
        # The lock and cli.json are read directly: importing the engine's services would
        # add seconds to every command's start.
        if engine_running(settings.runtime_root) is None:
            return None
        return read_access(settings.home)
    except (OSError, ValueError):
        raise CliError(
            f"An engine is running on {settings.home} but {settings.home / CLI_ACCESS_FILE} "
            "cannot be read; "
            "run the CLI as the user that runs the engine."
        ) from None


@contextmanager
def engine_client(settings: Settings) -> Iterator[EngineClient]:
    running = running_engine_client(settings)
    if running is not None:
        with running.http:
            yield running
        return
    with _in_process_engine(settings) as client:
        yield client


@contextmanager
def _in_process_engine(settings: Settings) -> Iterator[EngineClient]:
    import uvicorn

    from assembly_engine.api.app import create_app
    from assembly_engine.logging_setup import configure_engine_logging
    from assembly_engine.storage.files.private_files import make_home_private

    make_home_private(settings.home)
    configure_engine_logging(settings, console=False)
    app = create_app(settings, console_log=False)
    # proxy_headers off: the client address is decided in one place (api/client_origin.py).
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="critical", lifespan="on", proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, name="cli-engine", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            error = getattr(app.state, "startup_error", None)
            raise CliError(f"The engine could not start: {error or 'see engine.log'}")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    token = app.state.services.cli_token
    try:
        with LoopbackHttp(
            f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}, timeout=600
        ) as http:
            yield EngineClient(http, "in-process engine")
    finally:
        server.should_exit = True
        thread.join()
