"""A direct path for the busiest requests, ``GET`` and ``POST /api/assemblies``.

Clients poll the list; with its answers kept as bytes (routes/assemblies.py), routing the
request through FastAPI (matching ~30 routes, the exception and exit-stack middleware, the
dependency solver) costs more than the answer itself, and for a create it was most of the
event loop's share of a write (write_lane.py). This middleware hands exactly those
requests (method and path) to their own functions and turns a refusal into the same JSON
error the app's exception handlers give. The routes stay registered for the OpenAPI
document, and every other request goes through the app unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Any], Any]  # as Starlette keeps them: sync or async


class FastLane:
    def __init__(
        self, app: ASGIApp, endpoints: Mapping[tuple[str, str], Endpoint], handlers: Mapping[Any, Handler]
    ) -> None:
        self.app = app
        self.endpoints = dict(endpoints)  # (method, path) -> endpoint
        self.handlers = handlers

    def _handler(self, exc: Exception) -> Handler | None:
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)
