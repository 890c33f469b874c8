"""``POST /api/sync/plan`` without FastAPI's routing, reached through api/fast_lane.py, so a
plan answered before for the very same body (an unchanged library planned again) is given
back without parsing and checking every item (services/assemblies/plan_cache.py).

A body whose sha256 names a kept plan was parsed and validated when that plan was made, so
the answer is the one the route would give: the caller is authenticated and checked for
the domain as always, and the kept plan holds only while its domain is unchanged. Every
other body goes the route's way, step for step as write_lane.py does (the body read as JSON
only under a JSON ``Content-Type``, 400 before authentication, then ``authenticate``, the
``SyncRequest`` model with errors under ``body``, the service), so refusals are the same.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from assembly_engine.api.deps import authenticate
from assembly_engine.api.routes.sync import SyncRequest, source_of
from assembly_engine.api.write_lane import is_json, json_body, validated_body
from assembly_engine.services.assemblies.library_sync import LibrarySync
from assembly_engine.services.assemblies.plan_cache import body_key
from assembly_engine.services.caller import Caller
from assembly_engine.services.container import EngineServices

_BODY = TypeAdapter(SyncRequest)


def _planned(sync: LibrarySync, caller: Caller, body: object, key: str) -> bytes:
    return sync.plan_answer(caller, source_of(validated_body(_BODY, body)), key)


async def plan_sync(request: Request) -> Response:
    engine: EngineServices = request.app.state.services
    sync = engine.assemblies.library_sync
    raw = await request.body()
    key = body_key(raw)
    caller: Caller | None = None
    if raw and is_json(request.headers.get("content-type")) and key in sync.plans:
        # This very body was parsed and validated when the kept plan was made: no 400 or
        # 422 can come before the caller's check.
        caller = (await authenticate(request, engine)).caller
        kept = await run_in_threadpool(sync.cached_plan, caller, key)
        if kept is not None:
            return Response(kept, media_type="application/json")
    body = await json_body(request)  # 400 for malformed JSON, before authentication
    if caller is None:
        caller = (await authenticate(request, engine)).caller
    answer = await run_in_threadpool(_planned, sync, caller, body, key)
    return Response(answer, media_type="application/json")
