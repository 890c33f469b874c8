"""Single sign-on routes (Docs/tokens-and-sso.md): the sign-in page's options, the round
trip to the OpenID Connect provider, and the Dev Mode re-authentication.

The browser reaches start and callback by navigation, so their refusals are small HTML
pages a person can read (with the status), not JSON.
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field

from assembly_engine.api.deps import Services, SignedIn, client_address
from assembly_engine.api.errors import ApiError, error_responses
from assembly_engine.api.routes.auth import set_session_cookies
from assembly_engine.services.answers.accounts import ProviderRedirect, SignInOptions, SsoOption
from assembly_engine.services.auth.oidc_pending import PENDING_COOKIE, PENDING_SECONDS
from assembly_engine.services.auth.oidc_provider import ProviderRefused, ProviderUnavailable
from assembly_engine.services.auth.sso import Callback, SignInRefused, SingleSignOn
from assembly_engine.services.container import EngineServices
from assembly_engine.services.errors import EngineError
from assembly_engine.services.request_bodies import REASON_PATTERN, StrictModel

router = APIRouter(prefix="/api/auth", tags=["auth"])
CALLBACK_PATH = "/api/auth/oidc/callback"


class DevModeReauth(StrictModel):
    reason: Annotated[str, Field(min_length=1, max_length=200, pattern=REASON_PATTERN)]


@router.get("/sign-in-options", response_model=SignInOptions)
def sign_in_options(engine: Services) -> SignInOptions:
    """What the sign-in page offers: password sign-in, and the provider if configured."""
    sso = engine.sso
    return SignInOptions.built(
        password_login=engine.settings.password_login,
        sso=None
        if sso is None
        else SsoOption.built(name=sso.config.provider_name, start_url="/api/auth/oidc/start"),
    )


def _redirect_uri(request: Request, sso: SingleSignOn) -> str:
    return sso.config.redirect_url or str(request.base_url).rstrip("/") + CALLBACK_PATH


def _set_pending(request: Request, response: Response, cookie: str) -> None:
    # Lax, not Strict: the provider's redirect back is a cross-site navigation.
    response.set_cookie(
        PENDING_COOKIE,
        cookie,
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/api/auth/oidc",
    )


def error_page(status: int, message: str) -> HTMLResponse:
    title = "Service unavailable" if status == 503 else "Sign-in refused"
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title} — Assembly Engine</title></head><body>"
        f"<h1>{title}</h1><p id=sso-error>{html.escape(message)}</p>"
        '<p><a href="/">Back to the sign-in page</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status)


def _status(exc: EngineError) -> int:
    if isinstance(exc, SignInRefused):
        return exc.status
    if isinstance(exc, ProviderUnavailable):
        return 503
    if isinstance(exc, ProviderRefused):
        return 401
    return 400


def _require_sso(engine: EngineServices) -> SingleSignOn:
    if engine.sso is None:
        raise ApiError(
            404, "not_found", "Single sign-on is not configured on this engine (ENGINE_OIDC_ISSUER)."
        )
    return engine.sso


@router.get("/oidc/start", include_in_schema=False)
async def oidc_start(request: Request, engine: Services) -> Response:
    if engine.sso is None:
        return error_page(404, "Single sign-on is not configured on this engine.")
    try:
        started = await engine.sso.start_sign_in(_redirect_uri(request, engine.sso))
    except EngineError as exc:
        return error_page(_status(exc), exc.message)
    response = RedirectResponse(started.url, status_code=303)
    _set_pending(request, response, started.cookie)
    return response


@router.get("/oidc/callback", include_in_schema=False)
async def oidc_callback(request: Request, engine: Services) -> Response:
    if engine.sso is None:
        return error_page(404, "Single sign-on is not configured on this engine.")
    query = request.query_params
    callback = Callback(
        query.get("state"), query.get("code"), query.get("error"), query.get("error_description")
    )
    try:
        finished = await engine.sso.finish(
            request.cookies.get(PENDING_COOKIE), callback, client_address(request)
        )
    except EngineError as exc:
        response: Response = error_page(_status(exc), exc.message)
    else:
        response = RedirectResponse("/" if finished.signed_in else "/?dev_mode=on", status_code=303)
        if finished.signed_in is not None:
            set_session_cookies(request, response, engine, finished.signed_in)
    # One use: whatever happened, this browser's pending sign-in is over.
    response.delete_cookie(PENDING_COOKIE, path="/api/auth/oidc")
    return response


@router.post(
    "/oidc/dev-mode",
    response_model=ProviderRedirect,
    responses=error_responses(400, 401, 403, 404, 415, 422, 503),
)
async def oidc_dev_mode(
    body: Annotated[DevModeReauth, Body()],
    auth: SignedIn,
    request: Request,
    response: Response,
    engine: Services,
) -> ProviderRedirect:
    """Start the provider re-authentication that switches Dev Mode on for this session;
    the web UI sends the browser to ``url``."""
    sso = _require_sso(engine)
    try:
        started = await sso.start_dev_mode(
            auth.caller, auth.session, body.reason, _redirect_uri(request, sso)
        )
    except SignInRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    except ProviderUnavailable as exc:
        raise ApiError(503, exc.code, exc.message) from None
    _set_pending(request, response, started.cookie)
    return ProviderRedirect.built(url=started.url)
