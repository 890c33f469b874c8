"""JSON responses rendered with orjson (fast, and handles non-ASCII without escaping)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class JsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class RawAnswer(Response):
    """An answer whose header lines are given ready (lower-case names, Latin-1 bytes), for
    the list's kept pages: ``Response.__init__`` works them out again on each request.
    Sent as any ``Response`` is."""

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
        self.status_code = status_code
        self.raw_headers = headers
        self.body = body
        self.background = None
