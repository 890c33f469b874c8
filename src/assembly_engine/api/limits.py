"""The gate every request body passes before anything reads it.

In this order, before one byte of the body is read:

1. **Authentication.** A body sent to ``/api/...`` by a caller without a live session (or
   the local CLI's token) is refused with 401; only the sign-in route takes anonymous
   bodies. A stranger's 30 MiB upload therefore costs a header lookup, not a parse.
2. **Size.** Routes that carry assembly content (create, update, import, batch import) accept up to
   ``ENGINE_IMPORT_MAX_BYTES``; every other route up to ``ENGINE_REQUEST_MAX_BYTES``
   (1 MiB). A declared ``Content-Length`` over the limit is refused at once; a body that
   grows past it while being read is refused then (413).
3. **Values.** Once read, a body holding more than ``MAX_JSON_VALUES`` JSON values is refused with
   413 before any model validates it (json_values.py).
4. **Memory.** At most ``LARGE_BODIES_AT_ONCE`` bodies larger than the small limit are
   read and handled at the same time, and at most one per user; the others wait (without
   being read) for a turn, so six signed-in 30 MiB imports cannot each hold their copies
   in memory together, nor one user take every turn.
5. **Time.** Every part of a body must arrive within ``BODY_IDLE_SECONDS``, and the body
   as a whole at ``BODY_MIN_RATE`` bytes a second or faster after ``BODY_GRACE_SECONDS``;
   otherwise 408 and the connection is closed. A stalled upload so gives its turn back
   instead of holding it for ever.
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
from assembly_engine.api.json_values import too_many_values, too_many_values_message
from assembly_engine.services.container import EngineServices

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANONYMOUS_BODY_PATHS = frozenset({"/api/auth/login"})
LARGE_BODIES_AT_ONCE = 2
BODY_IDLE_SECONDS = 10.0
BODY_GRACE_SECONDS = 10.0
BODY_MIN_RATE = 16 * 1024
# The routes whose bodies carry assembly content (payload text and attachments).
_CONTENT_ROUTES = (
    ("POST", re.compile(r"^/api/assemblies/?$")),
    ("POST", re.compile(r"^/api/assemblies/import/?$")),
    ("POST", re.compile(r"^/api/assemblies/import/batch/?$")),
    ("PUT", re.compile(r"^/api/assemblies/[^/]+/?$")),
    ("POST", re.compile(r"^/api/assemblies/check/?$")),
)
SIGN_IN_FIRST = "Sign in first (POST /api/auth/login); requests with a body need a session."


def carries_content(method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern in _CONTENT_ROUTES)


async def _answer(send: Send, status: int, error: str, message: str, close: bool = False) -> None:
    body = orjson.dumps({"error": error, "message": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of the body will never be read: the connection cannot go on
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
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


class _Refused(Exception):
    """The caller may not send a body; the message says why (audited)."""


def _authenticated(engine: EngineServices, scope: Scope, headers: dict[str, str]) -> str:
    """Who sends the body (a username, or the CLI); _Refused when nobody may."""
    client = scope.get("client")
    address = client[0] if client else None
    try:
        token, _ = presented_credential(headers, _cookies(headers.get("cookie", "")))
    except MalformedAuthorization as exc:
        raise _Refused(str(exc)) from None
    if token is None:
        audit_unauthenticated(engine, address, scope["method"], scope["path"])
        raise _Refused(SIGN_IN_FIRST)
    # The route's own dependency decides everything else (locality, CSRF, token scopes).
    if engine.is_cli_token(token):
        return "\x00cli"  # no username can hold NUL
    owner = engine.credential_owner(token)
    if owner is not None:
        return owner
    audit_token_refusal(engine, address, scope["method"], scope["path"])
    raise _Refused(UNKNOWN_TOKEN)


class _TooSlow(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, small_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.small_max_bytes = small_max_bytes
        self._large_bodies = asyncio.Semaphore(LARGE_BODIES_AT_ONCE)
        # One large body per user at once; an entry lives while its user has one under way.
        self._large_by_user: dict[str, asyncio.Lock] = {}
        self._users_waiting: dict[str, int] = {}

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
        sender = ""
        if engine is not None and path.startswith("/api/") and path not in ANONYMOUS_BODY_PATHS:
            try:
                sender = await run_in_threadpool(_authenticated, engine, scope, headers)
            except _Refused as refusal:
                await _answer(send, 401, "unauthorized", str(refusal))
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
            await self._large(sender, scope, receive, send, limit)
            return
        await self._read_then_handle(scope, receive, send, limit)

    async def _large(self, sender: str, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # The user's own turn first: a user waiting behind their own upload holds no
        # turn of everyone's.
        own = self._large_by_user.setdefault(sender, asyncio.Lock())
        self._users_waiting[sender] = self._users_waiting.get(sender, 0) + 1
        try:
            async with own, self._large_bodies:
                await self._read_then_handle(scope, receive, send, limit)
        finally:
            self._users_waiting[sender] -= 1
            if not self._users_waiting[sender]:  # nobody else holds or awaits this lock
                del self._users_waiting[sender], self._large_by_user[sender]

    async def _next_part(self, receive: Receive, started: float, received: int) -> Message:
        loop = asyncio.get_running_loop()
        by_rate = started + BODY_GRACE_SECONDS + received / BODY_MIN_RATE - loop.time()
        wait = min(BODY_IDLE_SECONDS, by_rate)
        if wait <= 0:
            raise _TooSlow()
        try:
            return await asyncio.wait_for(receive(), wait)
        except TimeoutError:
            raise _TooSlow() from None

    async def _read_then_handle(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # Read the whole body first: an over-limit body is refused before any route runs, so
        # nothing is ever done on a cut-off request. The chunks are handed on as they came
        # (no joined copy here).
        messages: deque[Message] = deque()
        received = 0
        more = True
        started = asyncio.get_running_loop().time()
        while more:
            try:
                message = await self._next_part(receive, started, received)
            except _TooSlow:
                await _answer(
                    send,
                    408,
                    "request_timeout",
                    f"The request body arrived too slowly: each part must come within "
                    f"{BODY_IDLE_SECONDS:g} s, the whole at {BODY_MIN_RATE // 1024} KiB/s or faster.",
                    close=True,
                )
                return
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
        if too_many_values([m["body"] for m in messages if m["body"]]):
            await _answer(send, 413, "too_many_values", too_many_values_message())
            return

        async def replay() -> Message:
            if messages:
                return messages.popleft()
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)
