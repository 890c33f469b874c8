"""Request dependencies: the engine's services and the authenticated caller.

A caller authenticates with ``Authorization: Bearer <token>`` (programs) or the HttpOnly
session cookie (the web UI). Cookie-authenticated unsafe requests must also carry the
``X-CSRF-Token`` header (double submit: the value is in the readable ``ae_csrf`` cookie)
and, when the browser sends one, an ``Origin`` matching the engine's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from ..services.audit import Outcome
from ..services.auth.policy import Actor
from ..services.auth.sessions import Session
from ..services.auth.users import Role
from ..services.caller import Caller
from ..services.container import EngineServices
from .errors import ApiError

SESSION_COOKIE = "ae_session"
CSRF_COOKIE = "ae_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def services(request: Request) -> EngineServices:
    return request.app.state.services  # type: ignore[no-any-return]


Services = Annotated[EngineServices, Depends(services)]


@dataclass(frozen=True)
class RequestAuth:
    caller: Caller
    session: Session | None
    token: str | None
    via_cookie: bool


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "unauthorized",
                       "The Authorization header must be 'Bearer <token>' from POST /api/auth/login.")
    return value.strip()


def _is_local(request: Request) -> bool:
    """Loopback, or the engine's own address when it is bound to a specific interface."""
    host = request.client.host if request.client else ""
    server = request.scope.get("server") or ("",)
    return host in {"127.0.0.1", "::1", "localhost", "testclient"} or host == server[0]


def _same_origin(request: Request, origin: str) -> bool:
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == request.headers.get("host", "")


async def authenticate(request: Request, engine: Services) -> RequestAuth:
    token = _bearer(request)
    via_cookie = False
    if token is None:
        token = request.cookies.get(SESSION_COOKIE) or None
        via_cookie = token is not None
    if not via_cookie and engine.is_cli_token(token) and _is_local(request):
        cli = Caller(Actor("cli", Role.ADMIN, True), session="cli", local_cli=True)
        return RequestAuth(cli, None, token, via_cookie=False)
    caller, session = engine.accounts.resolve(token)
    if token is not None and session is None and not via_cookie:
        raise ApiError(401, "unauthorized",
                       "The token is unknown, expired or revoked; sign in again (POST /api/auth/login).")
    if session is not None and via_cookie and request.method not in SAFE_METHODS:
        origin = request.headers.get("origin")
        presented = request.headers.get(CSRF_HEADER)
        if (origin and not _same_origin(request, origin)) or not engine.sessions.check_csrf(token, presented):
            engine.accounts.auditor.record(
                caller, f"csrf {request.method} {request.url.path}", Outcome.DENIED,
                detail="cross-site or token-less cookie request refused",
            )
            raise ApiError(403, "forbidden",
                           "Cross-site request refused: cookie-authenticated changes must come from "
                           f"the engine's own pages with the {CSRF_HEADER} header.")
    return RequestAuth(caller, session, token, via_cookie)


Auth = Annotated[RequestAuth, Depends(authenticate)]


async def current_caller(auth: Auth) -> Caller:
    return auth.caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
