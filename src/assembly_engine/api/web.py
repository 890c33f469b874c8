"""Serves the built web UI (web/dist) at ``/``, with index.html for client-side routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles

from ..config import REPOSITORY_ROOT
from .errors import error_response

WEB_DIST = REPOSITORY_ROOT / "web" / "dist"

MISSING_UI = """<!doctype html><meta charset="utf-8"><title>Assembly Engine</title>
<p>The web UI has not been built. Run <code>make run</code> (it builds <code>web/</code>),
or use the REST API under <code>/api</code> (<a href="/docs">API docs</a>).</p>"""


def install_web_ui(app: FastAPI, dist: Path = WEB_DIST) -> None:
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def unknown_api(path: str, request: Request) -> Response:
        if ".." in path.split("/"):
            return error_response(400, "invalid_request",
                                  "A path segment of '..' is not allowed; ids are 32 lowercase hex.")
        # Reached for a path no route serves, or a real path with the wrong method (405).
        real_routes = [r for r in app.router.routes if r not in catch_alls]
        allowed = [
            method for method in methods
            if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in real_routes)
        ]
        if allowed:
            return error_response(405, "method_not_allowed",
                                  f"This method is not allowed here; use {', '.join(allowed)}.",
                                  headers={"Allow": ", ".join(allowed)})
        return error_response(404, "not_found", "There is nothing at this address.")

    app.add_api_route("/api/{path:path}", unknown_api, methods=list(methods), include_in_schema=False)
    catch_alls = [app.router.routes[-1]]

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> Response:
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.parent == dist.resolve():
            return FileResponse(candidate)  # favicon and other top-level files
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return Response(MISSING_UI, media_type="text/html", status_code=200)

    catch_alls.append(app.router.routes[-1])
