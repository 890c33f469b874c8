"""Serves the built web UI at ``/``, with index.html for client-side routes (web/dist, or
the installed package's copy: bundle.py).

The build's hashed files under ``/assets`` never change under their name: they are sent
with ``Cache-Control: public, max-age=31536000, immutable``, and as the ``.br`` or ``.gz``
file the build made next to them when the browser accepts it (``Vary: Accept-Encoding``).
``index.html`` is sent with ``no-cache`` so a new build is picked up at once.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match

from assembly_engine.api.errors import error_response
from assembly_engine.api.params import malformed_guid
from assembly_engine.bundle import web_dist

WEB_DIST = web_dist()  # the installed package's build, or web/dist in a checkout

MISSING_UI = """<!doctype html><meta charset="utf-8"><title>Assembly Engine</title>
<p>The web UI has not been built. Run <code>make run</code> (it builds <code>web/</code>),
or use the REST API under <code>/api</code> (described by
<a href="/openapi.json">/openapi.json</a>).</p>"""


IMMUTABLE = "public, max-age=31536000, immutable"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first


def accepted_encodings(header: str | None) -> set[str]:
    """Content codings an Accept-Encoding header allows (``q=0`` means refused)."""
    accepted: set[str] = set()
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        quality = params.strip().lower()
        if not coding or quality.replace(" ", "") in {"q=0", "q=0.0", "q=0.00", "q=0.000"}:
            continue
        accepted.add(coding)
    return accepted


def asset_response(assets: Path, name: str, accept_encoding: str | None) -> Response:
    """A file of the build's assets folder: precompressed when the browser accepts it."""
    candidate = (assets / name).resolve()
    if (
        not name
        or candidate.parent != assets.resolve()
        or not candidate.is_file()
        or candidate.suffix in {".br", ".gz"}
    ):
        return error_response(404, "not_found", "There is no such file in the web UI's build.")
    media_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type in {"application/javascript", "image/svg+xml"}:
        media_type += "; charset=utf-8"
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    accepted = accepted_encodings(accept_encoding)
    for coding, suffix in ENCODINGS:
        compressed = candidate.with_name(candidate.name + suffix)
        if (coding in accepted or "*" in accepted) and compressed.is_file():
            return FileResponse(
                compressed, media_type=media_type, headers={**headers, "Content-Encoding": coding}
            )
    return FileResponse(candidate, media_type=media_type, headers=headers)


def install_web_ui(app: FastAPI, dist: Path = WEB_DIST) -> None:
    index = dist / "index.html"
    assets = dist / "assets"

    @app.get("/assets/{name}", include_in_schema=False)
    def asset(name: str, request: Request) -> Response:
        return asset_response(assets, name, request.headers.get("accept-encoding"))

    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")

    def unknown_api(path: str, request: Request) -> Response:
        if ".." in path.split("/"):
            return error_response(
                400, "invalid_request", "A path segment of '..' is not allowed; ids are 32 lowercase hex."
            )
        # Reached for a path no route serves, a real path with the wrong method (405), or
        # one that a route would serve if its assembly id were well formed (400).
        real_routes = [r for r in app.router.routes if r not in catch_alls]
        allowed = [
            method
            for method in methods
            if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in real_routes)
        ]
        if allowed:
            return error_response(
                405,
                "method_not_allowed",
                f"This method is not allowed here; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        refusal = malformed_guid(real_routes, request.scope)
        if refusal is not None:
            return error_response(refusal.status, refusal.error, refusal.message)
        return error_response(404, "not_found", "There is nothing at this address.")

    # OPTIONS and HEAD too, so their 405 lists every method of the path, not one route's.
    app.add_api_route(
        "/api/{path:any_path}", unknown_api, methods=[*methods, "OPTIONS", "HEAD"], include_in_schema=False
    )
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
