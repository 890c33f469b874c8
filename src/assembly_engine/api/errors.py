"""One error shape for every refusal: ``{"error": code, "message": sentence}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from assembly_engine.api.responses import JsonResponse
from assembly_engine.services.errors import EngineError
from assembly_engine.services.request_bodies import NotJsonValue

# The one table of refusals: each error code and its HTTP status (Docs/assemblies.md §7,
# "Error codes"). Service and storage errors carry a code (storage/contract/errors.py,
# services/errors.py); a refusal that starts as an HTTP status (FastAPI's own 404, 405, …)
# gets the first code listed for it.
ERROR_STATUS: dict[str, int] = {
    "invalid_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "dev_mode_required": 403,
    "insufficient_scope": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "plan_changed": 409,
    "integrity_error": 409,
    "payload_too_large": 413,
    "invalid_document": 422,
    "check_failed": 422,
    "not_an_assembly": 422,
    "too_many_requests": 429,
    "database_busy": 503,
    "storage_error": 503,
    "storage_unavailable": 503,
    "sso_refused": 401,  # the sign-in provider or its ID token refuses (Docs/tokens-and-sso.md)
    "sso_unavailable": 503,  # the sign-in provider is down, slow or answers nonsense
}
_CODE_FOR_STATUS: dict[int, str] = {}
for _code, _status in ERROR_STATUS.items():
    _CODE_FOR_STATUS.setdefault(_status, _code)


class ErrorBody(BaseModel):
    error: str
    message: str


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the refusals a route can answer."""
    return {status: {"model": ErrorBody} for status in statuses}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    return JsonResponse({"error": error, "message": message}, status_code=status, headers=headers)


def _describe_validation(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        message = str(err.get("msg", "invalid value"))
        cause = (err.get("ctx") or {}).get("error")
        if err.get("type") == "value_error" and cause is not None:
            # Our own checks (services/assemblies/inputs.py) already name the field.
            message = str(cause)
            if location == "body" or message.startswith(location.rsplit(".", 1)[-1]):
                parts.append(message)
                continue
        parts.append(f"{location}: {message}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "The request is not valid — " + "; ".join(parts) + more + "."


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JsonResponse:
        return error_response(exc.status, exc.error, exc.message, exc.headers)

    @app.exception_handler(EngineError)
    async def _service_error(_: Request, exc: EngineError) -> JsonResponse:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        elif exc.code == "storage_error":
            headers["Retry-After"] = "30"
        response = error_response(ERROR_STATUS.get(exc.code, 400), exc.code, exc.message, headers)
        extra = getattr(exc, "extra", None)  # a refusal's details (check_failed: the diagnostics)
        if extra:
            response = JsonResponse(
                {"error": exc.code, "message": exc.message, **extra},
                status_code=response.status_code,
                headers=headers,
            )
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JsonResponse:
        errors = list(exc.errors())
        content_type = request.headers.get("content-type", "")
        body_error = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
        if body_error and request.method in {"POST", "PUT", "PATCH"} and "json" not in content_type:
            return error_response(
                415, "invalid_request", "Send the request body as JSON with Content-Type: application/json."
            )
        if any(isinstance((e.get("ctx") or {}).get("error"), NotJsonValue) for e in errors):
            return error_response(400, "invalid_request", _describe_validation(errors))
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(
                400, "invalid_request", "The request body is not valid JSON; send a JSON object."
            )
        return error_response(422, "invalid_document", _describe_validation(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JsonResponse:
        code = _CODE_FOR_STATUS.get(exc.status_code, "invalid_request")
        message = exc.detail if isinstance(exc.detail, str) else "The request was refused."
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message = (
                "The request body could not be read as JSON: it is malformed, nested too "
                "deeply, or not UTF-8. Send a JSON object."
            )
        if exc.status_code == 405:
            message = "This method is not allowed at this address."
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JsonResponse:
        import logging

        logging.getLogger("assembly_engine.api").exception("unexpected error: %s", exc)
        return error_response(
            500, "internal_error", "The engine hit an unexpected error; it is logged in engine.log."
        )
