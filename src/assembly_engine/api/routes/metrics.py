"""``GET /metrics``: the Prometheus text format (services/metrics.py), for admins."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from assembly_engine.api.deps import CurrentCaller
from assembly_engine.api.errors import error_responses

router = APIRouter(tags=["monitoring"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **error_responses(401, 403)},
)
def metrics(caller: CurrentCaller, request: Request) -> Response:
    """Requests, write queue, flushes, journal commits, assemblies (Docs/deploying.md)."""
    body, content_type = request.app.state.metrics.read(caller)
    return Response(body, media_type=content_type)
