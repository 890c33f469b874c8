"""The list baseline: a bare Starlette app that answers with pre-serialised bytes.

Run as ``python bench/baseline_app.py --port P --config routes.json``. The config maps a
request target (path plus query string, exactly as the engine is asked) to a body file
captured from a real engine response and that response's ETag. The app does no work but
look the bytes up, so what it measures is the HTTP stack (uvicorn + Starlette, with the
same uvicorn settings as ``assemblies serve``) and nothing else. A matching If-None-Match
gets a bare 304, like the engine's unchanged-list answer.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build_app(config: dict[str, dict[str, dict[str, str]]]) -> Starlette:
    bodies: dict[str, tuple[bytes, str]] = {
        target: (Path(spec["body_file"]).read_bytes(), spec["etag"])
        for target, spec in config["routes"].items()
    }

    async def answer(request: Request) -> Response:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        found = bodies.get(target)
        if found is None:
            return Response(b"{}", media_type="application/json")  # also the readiness probe
        body, etag = found
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(
            body, media_type="application/json", headers={"ETag": etag, "Cache-Control": "no-cache"}
        )

    return Starlette(routes=[Route("/{path:path}", answer)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    config = json.loads(args.config.read_text(encoding="utf-8"))
    # The same uvicorn settings as `assemblies serve` (see assembly_engine.cli.main.serve).
    uvicorn.run(build_app(config), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
