"""A direct path for the busiest request, ``GET /api/assemblies``.

Clients poll the list; with its answers kept as bytes (routes/assemblies.py), routing the
request through FastAPI (matching ~30 routes, the exception and exit-stack middleware, the
dependency solver) costs more than the answer itself. This middleware hands exactly that
request to the route's own function and turns a refusal into the same JSON error the
app's exception handlers give. The route stays registered for the OpenAPI document, and
every other request goes through the app unchanged.
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
    def __init__(self, app: ASGIApp, path: str, endpoint: Endpoint, handlers: Mapping[Any, Handler]) -> None:
        self.app = app
        self.path = path
        self.endpoint = endpoint
        self.handlers = handlers

    def _handler(self, exc: Exception) -> Handler | None:
        for cls in type(exc).__mro__:
            handler = self.handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = handler(request, exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)
