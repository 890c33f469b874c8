"""Sign-in, sign-out and who am I (Docs/assemblies.md §7, §8)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response
from pydantic import Field

from assembly_engine.api.deps import (
    CSRF_COOKIE,
    NOT_SIGNED_IN,
    SESSION_COOKIE,
    Auth,
    AuthOrAnonymous,
    RequestAuth,
    Services,
    SignedIn,
    client_address,
)
from assembly_engine.api.errors import ApiError, error_responses
from assembly_engine.services.answers.accounts import (
    LoggedIn,
    OwnSessionList,
    SessionsEnded,
    SessionState,
    SignedOut,
    UserRef,
    Who,
)
from assembly_engine.services.auth.accounts import SignedIn as SignedInUser
from assembly_engine.services.auth.policy import writable_domains
from assembly_engine.services.auth.sign_in import sign_in
from assembly_engine.services.container import EngineServices
from assembly_engine.services.request_bodies import StrictModel

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginBody(StrictModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@router.post("/login", response_model=LoggedIn, responses=error_responses(400, 401, 403, 415, 422, 429, 503))
async def login(
    body: Annotated[LoginBody, Body()], request: Request, response: Response, engine: Services
) -> LoggedIn:
    # Awaited: a sign-in waiting for its turn holds no worker thread (services/auth/sign_in.py).
    signed_in = await sign_in(
        engine.accounts, engine.sign_in_lanes, body.username, body.password, client_address(request)
    )
    max_age = set_session_cookies(request, response, engine, signed_in)
    return LoggedIn.built(
        user=UserRef.of(signed_in.user.username, signed_in.user.role),
        token=signed_in.token,
        csrf_token=signed_in.csrf_token,
        expires_in=max_age,
    )


def set_session_cookies(
    request: Request, response: Response, engine: EngineServices, signed_in: SignedInUser
) -> int:
    """The session and CSRF cookies of a new sign-in; returns their lifetime in seconds."""
    max_age = int(engine.settings.session_ttl_seconds)
    secure = request.url.scheme == "https"
    # The UI's script reads the CSRF cookie to echo it in a header; never the session's.
    for name, value, script_reads in (
        (SESSION_COOKIE, signed_in.token, False),
        (CSRF_COOKIE, signed_in.csrf_token, True),
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=not script_reads,
            samesite="strict",
            secure=secure,
            path="/",
        )
    return max_age


@router.post("/logout", response_model=SignedOut, responses=error_responses(401, 403))
def logout(auth: SignedIn, response: Response, engine: Services) -> SignedOut:
    engine.accounts.logout(auth.caller, auth.token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return SignedOut.built(signed_out=True)


def _who(auth: RequestAuth, engine: EngineServices) -> dict[str, Any]:
    """The fields of /me, also /session's when signed in (``sso`` and ``csrf_token`` only
    when they apply)."""
    actor = auth.caller.actor
    assert actor is not None
    account = engine.accounts.users.get(actor.username)
    result: dict[str, Any] = {
        "user": UserRef.of(actor.username, actor.role),
        "dev_mode": engine.accounts.dev_mode_state(auth.caller, auth.session),
        # What the caller may write now (role, this session's Dev Mode, a token's scopes):
        # the web UI offers New, Edit, Delete and Clone from this, the engine still checks.
        "writable_domains": list(writable_domains(actor, auth.caller.scopes)),
        "must_change_password": account is not None and account.must_change_password,
    }
    if engine.sso is not None:
        result["sso"] = engine.accounts.users.sso_marker_of(actor.username) is not None
    if auth.token and auth.caller.scopes is None:
        result["csrf_token"] = engine.sessions.csrf_token_for(auth.token)
    return result


@router.get("/me", response_model=Who, response_model_exclude_unset=True, responses=error_responses(401))
def me(auth: Auth, engine: Services) -> Who:
    """Who the session, or the API token (with the read scope), stands for."""
    if auth.caller.actor is None or (auth.session is None and auth.caller.scopes is None):
        raise ApiError(401, "unauthorized", NOT_SIGNED_IN)
    return Who.built(**_who(auth, engine))


@router.get("/sessions", response_model=OwnSessionList, responses=error_responses(401, 403))
def own_sessions(auth: SignedIn, engine: Services) -> OwnSessionList:
    """The caller's live sign-in sessions, the current one marked."""
    return engine.accounts.own_sessions.list(auth.caller, auth.session)


@router.post("/end-other-sessions", response_model=SessionsEnded, responses=error_responses(401, 403))
def end_other_sessions(auth: SignedIn, engine: Services) -> SessionsEnded:
    """Sign out everywhere else: every session of the caller but this one ends."""
    return engine.accounts.own_sessions.end_others(auth.caller, auth.session)


SessionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


@router.delete(
    "/sessions/{session_id}", response_model=SessionsEnded, responses=error_responses(401, 403, 404)
)
def end_session(session_id: SessionId, auth: SignedIn, engine: Services) -> SessionsEnded:
    """End one of the caller's own sessions (by the id the list shows)."""
    return engine.accounts.own_sessions.end(auth.caller, auth.session, session_id)


@router.get(
    "/session", response_model=SessionState, response_model_exclude_unset=True, responses=error_responses(401)
)
def session(auth: AuthOrAnonymous, engine: Services) -> SessionState:
    """Like /me, but "not signed in" is an answer (200), not an error: the web UI asks
    this on every page load. A session that stopped working says why (``ended``)."""
    if auth.session is None or auth.caller.actor is None:
        return SessionState.built(signed_in=False, ended=engine.sessions.end_reason(auth.token))
    return SessionState.built(signed_in=True, **_who(auth, engine))
