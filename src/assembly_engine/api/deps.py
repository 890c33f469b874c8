"""Request dependencies: the engine's services and the authenticated caller.

A caller authenticates with ``Authorization: Bearer <token>`` (programs) or the HttpOnly
session cookie (the web UI). Cookie-authenticated unsafe requests must also carry the
``X-CSRF-Token`` header (double submit: the value is in the readable ``ae_csrf`` cookie)
and, when the browser sends one, an ``Origin`` matching the engine's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from assembly_engine.api.errors import ApiError
from assembly_engine.api.token_scopes import required_scope
from assembly_engine.domain.types import Role
from assembly_engine.services.auth.policy import Actor
from assembly_engine.services.auth.sessions import Session
from assembly_engine.services.caller import Caller
from assembly_engine.services.container import EngineServices

SESSION_COOKIE = "ae_session"
CSRF_COOKIE = "ae_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def services(request: Request) -> EngineServices:
    found: EngineServices = request.app.state.services
    return found


Services = Annotated[EngineServices, Depends(services)]


@dataclass(frozen=True)
class RequestAuth:
    caller: Caller
    session: Session | None
    token: str | None
    via_cookie: bool


BAD_AUTHORIZATION = (
    "The Authorization header must be 'Bearer <token>' with a token from POST /api/auth/login "
    "or POST /api/tokens."
)
UNKNOWN_TOKEN = "The token is unknown, expired or revoked; sign in again (POST /api/auth/login)."


class MalformedAuthorization(ValueError):
    pass


def presented_credential(headers: Mapping[str, str], cookies: Mapping[str, str]) -> tuple[str | None, bool]:
    """(token, came from the cookie): the Bearer header wins over the session cookie.
    Shared by the body gate (limits.py) and ``authenticate`` so both judge the same thing."""
    header = headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise MalformedAuthorization(BAD_AUTHORIZATION)
        return value.strip(), False
    token = cookies.get(SESSION_COOKIE) or None
    return token, token is not None


def client_address(request: Request) -> str | None:
    """The client's address, as ClientOrigin (client_origin.py) settled it."""
    return request.client.host if request.client else None


def _is_local(request: Request) -> bool:
    """Loopback, or the engine's own address when it is bound to a specific interface."""
    host = client_address(request) or ""
    server = request.scope.get("server") or ("",)
    return host in {"127.0.0.1", "::1", "localhost", "testclient"} or host == server[0]


def audit_unauthenticated(engine: EngineServices, address: str | None, method: str, path: str) -> None:
    engine.accounts.refused_unauthenticated(address, method, path)


def audit_token_refusal(engine: EngineServices, address: str | None, method: str, path: str) -> None:
    engine.accounts.refused_token(address, method, path)


def _same_origin(request: Request, origin: str) -> bool:
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == request.headers.get("host", "")


async def authenticate(request: Request, engine: Services) -> RequestAuth:
    address = client_address(request)
    try:
        token, via_cookie = presented_credential(request.headers, request.cookies)
    except MalformedAuthorization as exc:
        raise ApiError(401, "unauthorized", str(exc)) from None
    if not via_cookie and engine.is_cli_token(token) and _is_local(request):
        cli = Caller(Actor("cli", Role.ADMIN, True), session="cli", local_cli=True, address=address)
        return RequestAuth(cli, None, token, via_cookie=False)
    if not via_cookie and engine.tokens.looks_like_token(token):
        # An API token: its owner, limited to its scopes; never a cookie, so no CSRF check.
        assert token is not None
        scope = required_scope(request.method, request.url.path)
        action = f"{request.method} {request.url.path}"
        use = engine.tokens.authenticate(token, scope=scope, address=address, action=action)
        return RequestAuth(use.caller, None, token, via_cookie=False)
    caller, session = engine.accounts.resolve(token, address)
    if token is not None and session is None and not via_cookie:
        audit_token_refusal(engine, address, request.method, request.url.path)
        raise ApiError(401, "unauthorized", UNKNOWN_TOKEN)
    if session is not None and via_cookie and request.method not in SAFE_METHODS:
        origin = request.headers.get("origin")
        presented = request.headers.get(CSRF_HEADER)
        if (origin and not _same_origin(request, origin)) or not engine.sessions.check_csrf(token, presented):
            engine.accounts.refused_cross_site(caller, request.method, request.url.path)
            raise ApiError(
                403,
                "forbidden",
                "Cross-site request refused: cookie-authenticated changes must come from "
                f"the engine's own pages with the {CSRF_HEADER} header.",
            )
    return RequestAuth(caller, session, token, via_cookie)


Auth = Annotated[RequestAuth, Depends(authenticate)]


async def authenticate_or_anonymous(request: Request, engine: Services) -> RequestAuth:
    """As :func:`authenticate`, but a Bearer token that stopped working makes the caller
    anonymous instead of 401 (``GET /api/auth/session`` answers 200 either way, §7)."""
    try:
        return await authenticate(request, engine)
    except ApiError as exc:
        if exc.status != 401:
            raise
    try:
        token, via_cookie = presented_credential(request.headers, request.cookies)
    except MalformedAuthorization:
        token, via_cookie = None, False
    return RequestAuth(Caller(None, address=client_address(request)), None, token, via_cookie)


AuthOrAnonymous = Annotated[RequestAuth, Depends(authenticate_or_anonymous)]

NOT_SIGNED_IN = "Sign in first (POST /api/auth/login)."


async def signed_in(auth: Auth) -> RequestAuth:
    """A signed-in session (not anonymous, not the local CLI's token)."""
    if auth.session is None or auth.caller.actor is None:
        raise ApiError(401, "unauthorized", NOT_SIGNED_IN)
    return auth


SignedIn = Annotated[RequestAuth, Depends(signed_in)]


async def current_caller(auth: Auth) -> Caller:
    return auth.caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]
