"""Serves the built web UI (web/dist) at ``/``, with index.html for client-side routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, Response
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

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str, request: Request) -> Response:
        if path.startswith("api/") or path == "api":
            return error_response(404, "not_found", "There is nothing at this address.")
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.parent == dist.resolve():
            return FileResponse(candidate)  # favicon and other top-level files
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return Response(MISSING_UI, media_type="text/html", status_code=200)
