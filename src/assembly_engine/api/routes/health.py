from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from assembly_engine.api.answers import Health

router = APIRouter(tags=["health"])


@router.get("/api/health", response_model=Health)
def health(request: Request) -> dict[str, Any]:
    """Liveness and readiness: cached assemblies per domain and the queue depth."""
    return request.app.state.services.health()
