"""``assemblies serve`` with the list's fast lane (api/fast_lane.py) taken out, so
bench_list can measure what the fast lane earns: ``GET /api/assemblies`` then goes through
FastAPI's routing like every other request."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from assembly_engine.api import app as app_module
from assembly_engine.cli.main import main as cli


class _NoFastLane:
    def __init__(self, app: ASGIApp, **_: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


if __name__ == "__main__":
    app_module.FastLane = _NoFastLane  # type: ignore[misc,assignment]
    cli.main(["serve"])
