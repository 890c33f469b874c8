"""``POST /api/assemblies`` without FastAPI's routing: the busiest write (CI jobs, sync,
bulk edits), reached through api/fast_lane.py as the list is.

It does what FastAPI does for the registered route, step for step and with the same
functions, so every refusal is the same answer: the body read as JSON only under a JSON
``Content-Type`` (400 for malformed JSON, before authentication, as FastAPI does), then
``authenticate`` (sessions, API tokens and their scopes, CSRF), then the ``NewAssembly``
model (errors located under ``body`` for the app's handler: 415, 400 or 422), then the
service, then the service's ``AssemblyView`` serialised with unset fields left out. What
it saves is the routing, the dependency solver and a second thread hop for the answer's
validation.
"""

from __future__ import annotations

import email.message
import json
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from assembly_engine.api.deps import authenticate
from assembly_engine.services.answers.records import AssemblyView
from assembly_engine.services.assemblies.inputs import NewAssembly
from assembly_engine.services.caller import Caller
from assembly_engine.services.container import EngineServices

# Validated as FastAPI validates a body (a TypeAdapter, from_attributes).
_BODY = TypeAdapter(NewAssembly)
NOT_READ = object()
_Model = TypeVar("_Model")


def is_json(content_type: str | None) -> bool:
    # FastAPI's own rule (strict content type): no header, or anything not JSON, leaves
    # the body as bytes, which the model then refuses (415 in errors.py).
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return NOT_READ
    if not is_json(request.headers.get("content-type")):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from None
    except Exception:  # noqa: BLE001 - not UTF-8, nested too deeply: FastAPI's 400
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from None


def validated_body(adapter: TypeAdapter[_Model], body: object) -> _Model:
    """The body read by :func:`json_body` as the route's model, refused as FastAPI refuses
    a body it validates (422 with the same errors), so a fast lane answers like its route."""
    if body is NOT_READ:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        return adapter.validate_python(body, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def _create(engine: EngineServices, caller: Caller, new: NewAssembly) -> bytes:
    stored: AssemblyView = engine.assemblies.editing.create(caller, new)
    return stored.__pydantic_serializer__.to_json(stored, by_alias=True, exclude_unset=True)


async def create_assembly(request: Request) -> Response:
    engine: EngineServices = request.app.state.services
    body = await json_body(request)
    caller = (await authenticate(request, engine)).caller
    new = validated_body(_BODY, body)
    answer = await run_in_threadpool(_create, engine, caller, new)
    return Response(answer, status_code=201, media_type="application/json")
