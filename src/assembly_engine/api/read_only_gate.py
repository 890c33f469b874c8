"""While the engine runs read-only (started on a full disk), every request that may write
is refused here, before any route runs: 503 storage_error with Retry-After, and nothing
changed. GET and HEAD pass (reads), as OPTIONS does (it writes nothing)."""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_AFTER_SECONDS = 60  # a restart with free space is needed: no point asking sooner


class ReadOnlyGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        services = getattr(scope["app"].state, "services", None)
        read_only = None if services is None else services.storage.read_only
        if read_only is None:
            await self.app(scope, receive, send)
            return
        body = orjson.dumps({"error": "storage_error", "message": str(read_only.refusal())})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
