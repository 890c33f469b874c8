"""The gate every request body passes before anything reads it.

In this order, before one byte of the body is read:

1. **Authentication.** A body sent to ``/api/...`` by a caller without a live session (or
   the local CLI's token) is refused with 401; only the sign-in route takes anonymous
   bodies. A stranger's 30 MiB upload therefore costs a header lookup, not a parse.
2. **Size.** Routes that carry assembly content (create, update, import, batch import) accept up to
   ``ENGINE_IMPORT_MAX_BYTES``; every other route up to ``ENGINE_REQUEST_MAX_BYTES``
   (1 MiB). A declared ``Content-Length`` over the limit is refused at once; a body that
   grows past it while being read is refused then (413).
3. **Memory.** At most ``LARGE_BODIES_AT_ONCE`` bodies larger than the small limit are
   read and handled at the same time; the others wait (without being read) for a turn,
   so six signed-in 30 MiB imports cannot each hold their copies in memory together.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from http.cookies import SimpleCookie

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assembly_engine.api.deps import (
    UNKNOWN_TOKEN,
    MalformedAuthorization,
    audit_token_refusal,
    audit_unauthenticated,
    presented_credential,
)
from assembly_engine.services.container import EngineServices

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANONYMOUS_BODY_PATHS = frozenset({"/api/auth/login"})
LARGE_BODIES_AT_ONCE = 2
# The routes whose bodies carry assembly content (payload text and attachments).
_CONTENT_ROUTES = (
    ("POST", re.compile(r"^/api/assemblies/?$")),
    ("POST", re.compile(r"^/api/assemblies/import/?$")),
    ("POST", re.compile(r"^/api/assemblies/import/batch/?$")),
    ("PUT", re.compile(r"^/api/assemblies/[^/]+/?$")),
)
SIGN_IN_FIRST = "Sign in first (POST /api/auth/login); requests with a body need a session."


def carries_content(method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern in _CONTENT_ROUTES)


async def _answer(send: Send, status: int, error: str, message: str) -> None:
    body = orjson.dumps({"error": error, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # noqa: BLE001 - a garbled Cookie header simply carries no session
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _authenticated(engine: EngineServices, scope: Scope, headers: dict[str, str]) -> str | None:
    """None when the caller may send a body; otherwise the refusal's message (audited)."""
    client = scope.get("client")
    address = client[0] if client else None
    try:
        token, _ = presented_credential(headers, _cookies(headers.get("cookie", "")))
    except MalformedAuthorization as exc:
        return str(exc)
    if token is None:
        audit_unauthenticated(engine, address, scope["method"], scope["path"])
        return SIGN_IN_FIRST
    if engine.is_cli_token(token) or engine.credential_is_live(token):
        return None  # the route's own dependency decides everything else (locality, CSRF)
    audit_token_refusal(engine, address, scope["method"], scope["path"])
    return UNKNOWN_TOKEN


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, small_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.small_max_bytes = small_max_bytes
        self._large_bodies = asyncio.Semaphore(LARGE_BODIES_AT_ONCE)

    def _too_large(self, limit: int) -> str:
        setting = "ENGINE_IMPORT_MAX_BYTES" if limit == self.max_bytes else "ENGINE_REQUEST_MAX_BYTES"
        return (
            f"The request body is larger than the limit of {limit} bytes for this route "
            f"({setting}); send a smaller document."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = _headers(scope)
        app = scope.get("app")
        engine: EngineServices | None = getattr(app.state, "services", None) if app is not None else None
        if engine is not None and path.startswith("/api/") and path not in ANONYMOUS_BODY_PATHS:
            refusal = await run_in_threadpool(_authenticated, engine, scope, headers)
            if refusal is not None:
                await _answer(send, 401, "unauthorized", refusal)
                return
        limit = self.max_bytes if carries_content(scope["method"], path) else self.small_max_bytes
        try:
            declared = int(headers.get("content-length", ""))
        except ValueError:
            declared = -1  # unknown (chunked): judged while reading
        if declared > limit:
            await _answer(send, 413, "payload_too_large", self._too_large(limit))
            return
        if limit > self.small_max_bytes and not 0 <= declared <= self.small_max_bytes:
            async with self._large_bodies:
                await self._read_then_handle(scope, receive, send, limit)
            return
        await self._read_then_handle(scope, receive, send, limit)

    async def _read_then_handle(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # Read the whole body first: an over-limit body is refused before any route runs, so
        # nothing is ever done on a cut-off request. The chunks are handed on as they came
        # (no joined copy here).
        messages: deque[Message] = deque()
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            received += len(message.get("body", b""))
            if received > limit:
                await _answer(send, 413, "payload_too_large", self._too_large(limit))
                return
            more = bool(message.get("more_body", False))
            messages.append({"type": "http.request", "body": message.get("body", b""), "more_body": more})
        if not messages:
            messages.append({"type": "http.request", "body": b"", "more_body": False})

        async def replay() -> Message:
            if messages:
                return messages.popleft()
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)
