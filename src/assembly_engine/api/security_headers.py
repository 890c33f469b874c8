"""Headers every answer carries, and the headers of a file download.

The engine's origin holds the session cookie, so nothing it serves may be sniffed into
something executable, framed by another site, or leak its URLs in a Referer. The policy
is set on every answer (JSON, the UI, errors, even the body-size refusal) by one
middleware, so no route can forget it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The built UI (web/dist) loads only its own scripts; MUI's emotion injects <style>
# elements at run time, hence 'unsafe-inline' for styles (never for scripts).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# An attachment is someone's upload: even opened directly it runs nothing in this origin.
ATTACHMENT_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers without CSP level 2
)


_SET_HERE = frozenset(name for name, _ in SECURITY_HEADERS)
_CSP = (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("latin-1"))


def with_security_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``raw`` with the policy set (a new list): appended when the answer has none of them
    (the usual case, one pass), else replaced in place as ``MutableHeaders`` does."""
    headers = list(raw)
    names = {name for name, _ in headers}
    if names.isdisjoint(_SET_HERE):
        headers.extend(SECURITY_HEADERS)
        if _CSP[0] not in names:  # a download sets its own
            headers.append(_CSP)
        return headers
    mutable = MutableHeaders(raw=headers)
    for name, value in SECURITY_HEADERS:
        mutable[name.decode()] = value.decode()
    if "content-security-policy" not in mutable:
        mutable["content-security-policy"] = CONTENT_SECURITY_POLICY
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(message["headers"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _ascii_fallback(file_name: str) -> str:
    """The name for clients that ignore ``filename*``: accents dropped, the rest ``_``."""
    folded = unicodedata.normalize("NFKD", file_name).encode("ascii", "ignore").decode("ascii")
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in folded)
    # Split off the extension first: stripping first turned "отчёт.txt" (".txt" once
    # folded) into a file named "txt".
    stem, dot, suffix = safe.rpartition(".")
    stem, suffix = stem.strip(" ."), suffix.strip(" .")
    if not dot or not suffix.strip("_"):
        whole = safe.strip(" .")
        return whole[:150] if whole.strip("_ ") else "download"
    if not stem.strip("_ "):  # nothing readable left before the extension
        return f"download.{suffix[:20]}"
    return f"{stem}.{suffix}"[:150]


def attachment_disposition(file_name: str) -> str:
    """``Content-Disposition: attachment`` for any name (RFC 6266 with RFC 5987 ``filename*``).

    A header value must be Latin-1, so a Chinese, Cyrillic or Greek name cannot be put in
    ``filename="…"`` (it made the download a 500). The UTF-8 name goes percent-encoded into
    ``filename*``, which every current browser prefers, with an ASCII ``filename`` beside it.
    """
    return (
        f"attachment; filename=\"{_ascii_fallback(file_name)}\"; filename*=UTF-8''{quote(file_name, safe='')}"
    )


def download_headers(file_name: str) -> dict[str, str]:
    """Headers of a user file served for download: never rendered in the engine's origin."""
    return {
        "Content-Disposition": attachment_disposition(file_name),
        "Content-Security-Policy": ATTACHMENT_POLICY,
    }
