"""``create_app(settings)``: the ASGI application and its lifespan.

Startup (Docs/assemblies.md §5.1): lock the runtime root, run official sync, open and validate the
databases, hydrate the cache (replaying the journal) and start the flush worker.
Shutdown (SIGINT/SIGTERM via uvicorn): flush the queue, close everything, release the lock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assembly_engine.api import sync_plan_lane, write_lane
from assembly_engine.api.client_origin import ClientOrigin, parse_trusted_proxies
from assembly_engine.api.errors import install_error_handlers
from assembly_engine.api.fast_lane import FastLane
from assembly_engine.api.head_requests import HeadAsGet
from assembly_engine.api.limits import BodySizeLimit
from assembly_engine.api.metrics_listener import start_metrics_listener
from assembly_engine.api.read_only_gate import ReadOnlyGate
from assembly_engine.api.request_telemetry import RequestTelemetry
from assembly_engine.api.responses import JsonResponse
from assembly_engine.api.routes import (
    admin,
    assemblies,
    auth,
    bulk,
    checks,
    dev_mode,
    favourites,
    health,
    metrics,
    oidc,
    sync,
    tokens,
    users,
)
from assembly_engine.api.security_headers import SecurityHeaders
from assembly_engine.api.web import install_web_ui
from assembly_engine.config import Settings
from assembly_engine.logging_setup import configure_engine_logging
from assembly_engine.services.container import EngineServices
from assembly_engine.services.metrics import EngineMetrics
from assembly_engine.storage.files.private_files import make_home_private

log = logging.getLogger("assembly_engine.api")


def create_app(
    settings: Settings | None = None, *, console_log: bool = True, publish_cli_access: bool = False
) -> FastAPI:
    settings = settings or Settings.from_env()
    trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)  # a bad entry fails here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        make_home_private(settings.home)  # before the first file of the home is written
        configure_engine_logging(settings, console=console_log)
        try:
            services = EngineServices.open(settings)
        except Exception as exc:
            app.state.startup_error = exc  # read by the CLI's in-process engine
            log.error("engine failed to start: %s", exc)
            raise
        app.state.services = services
        app.state.metrics = EngineMetrics(services)
        try:
            listener = start_metrics_listener(app.state.metrics, settings.metrics_listen)
        except OSError as exc:  # its port is taken: refuse to start rather than run unwatched
            services.close()
            app.state.startup_error = exc
            log.error("engine failed to start: metrics listener on %s: %s", settings.metrics_listen, exc)
            raise
        if publish_cli_access:
            host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host
            try:
                services.publish_cli_access(f"http://{host}:{settings.port}")
            except OSError as exc:
                if services.storage.read_only is None:
                    raise
                # read-only on a full disk: serve without it (the CLI then says no engine runs)
                log.error("could not write cli.json (%s): the CLI cannot reach this read-only engine", exc)
        log.info("engine ready on home %s", settings.home.resolve())
        try:
            yield
        finally:
            if listener is not None:
                listener.close()
            log.info("engine stopping: flushing the write queue")
            services.close()
            log.info("engine stopped")

    app = FastAPI(
        title="Assembly Engine",
        version="0.1.0",
        lifespan=lifespan,
        default_response_class=JsonResponse,
        # /docs and /redoc would load unpinned scripts from a public CDN into the origin
        # that holds the session cookie; the OpenAPI document itself stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks looked up the global providers (and environment
        # variables) on every request; the engine reports through its Prometheus metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    app.add_middleware(
        FastLane,
        endpoints={
            ("GET", "/api/assemblies"): assemblies.list_assemblies,
            ("POST", "/api/assemblies"): write_lane.create_assembly,
            ("POST", "/api/sync/plan"): sync_plan_lane.plan_sync,
        },
        handlers=app.exception_handlers,
    )
    app.add_middleware(ReadOnlyGate)  # a read-only start (full disk) refuses every write here
    # Starlette runs the last added outermost: SecurityHeaders wraps every answer (refusals
    # included), ClientOrigin then settles the client's address, and BodySizeLimit
    # authenticates and bounds a body before anything reads it.
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.import_max_bytes, small_max_bytes=settings.request_max_bytes
    )
    app.add_middleware(ClientOrigin, trusted_proxies=trusted_proxies)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)  # every inner layer sees the GET a HEAD stands for
    app.add_middleware(
        RequestTelemetry, direct_paths=frozenset({"/api/assemblies", "/api/sync/plan"})
    )  # outermost
    # The assembly routes early: the list is by far the busiest route. Dev Mode's
    # /api/assemblies/dev-mode must come before the assemblies' /{guid}.
    for module in (
        dev_mode,
        checks,
        bulk,
        assemblies,
        health,
        auth,
        oidc,
        users,
        tokens,
        favourites,
        admin,
        metrics,
        sync,
    ):
        app.include_router(module.router)
    install_web_ui(app)  # last: its catch-all route must not shadow the API
    return app
