from __future__ import annotations

from fastapi import APIRouter, Request

from assembly_engine.services.answers.maintenance import Health
from assembly_engine.services.container import EngineServices

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=Health)
def health(request: Request) -> Health:
    """Liveness and readiness: cached assemblies per domain and the queue depth."""
    services: EngineServices = request.app.state.services
    answer = services.health()
    services.background.ready_answered()  # the engine said it is ready: the rest may start
    return answer
