"""``HEAD`` wherever ``GET`` is served (RFC 9110 §9.3.2).

FastAPI registers a route for exactly the methods it names, so a ``HEAD`` of any API
path answered 405 while ``GET`` of it answered 200. This middleware runs a ``HEAD`` as the
``GET`` it stands for and sends the same status and headers (``Content-Length``
included) without the body; a path without ``GET`` still answers 405.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the last (empty) part below ends the answer
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
