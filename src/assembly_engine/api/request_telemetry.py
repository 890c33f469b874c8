"""Outermost middleware: a request id for every answer and the request metrics.

``X-Request-ID``: a sane incoming one (a proxy's, a client's) is kept so one id follows
the request through every hop; anything else is replaced by a fresh one. The id is put in
a context variable for the log formatter (``ENGINE_LOG_FORMAT=json``) and sent back on
every answer, refusals included. Metrics are labelled by the route's template
(``/api/assemblies/{guid}``), never by the path, so ids never become label values.
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assembly_engine.logging_setup import REQUEST_ID

HEADER = "x-request-id"
_HEADER_RAW = HEADER.encode()
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
UNMATCHED = "unmatched"  # no route: 404s and scanners share one label


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _HEADER_RAW:
            candidate = bytes(value).decode("latin-1")
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestTelemetry:
    def __init__(self, app: ASGIApp, *, direct_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        # Paths answered by a middleware before routing (fast_lane.py): their own template.
        self.direct_paths = direct_paths

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        template = getattr(route, "path_format", None)  # "{guid}", not "{guid:guid}"
        if isinstance(template, str):
            return template
        path = scope.get("path", "")
        return path if path in self.direct_paths else UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before it starts one

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message["headers"])
                if any(name == _HEADER_RAW for name, _ in headers):
                    MutableHeaders(raw=headers)[HEADER] = request_id
                else:  # the usual case: appended, as MutableHeaders would
                    headers.append((_HEADER_RAW, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            metrics = getattr(scope["app"].state, "metrics", None) if "app" in scope else None
            if metrics is not None:
                metrics.observe_request(
                    scope["method"], self._route(scope), status, time.perf_counter() - started
                )
