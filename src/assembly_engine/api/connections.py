"""The engine's HTTP/1.1 connections: uvicorn's httptools protocol with the limits it lacks.

uvicorn (with httptools) at its defaults reads a request head of any size, with no time
limit, on as many connections as the process has file descriptors. So one 96 MiB header
froze the engine, and 1,100 half-sent requests took every descriptor. This protocol adds
(Docs/assemblies.md §14 lists the values):

* **Size.** The request line is at most ``LINE_MAX_BYTES`` (else 414) and the whole head
  at most ``HEAD_MAX_BYTES`` (else 431), answered as soon as the limit is passed; the
  parser is never fed more than one network read past it.
* **Time.** A request's head must arrive within ``HEAD_TIMEOUT_SECONDS`` of its first
  byte (of the connection's opening for the first request), else 408 and the connection
  is closed. Idle keep-alive connections close after uvicorn's ``timeout_keep_alive``.
* **Count.** At most ``max_connections`` connections are open. A connection over the cap
  closes the longest-idle one that has no request in progress (a half-sent head counts as
  idle), so half-sent requests can never lock new clients out; if every connection is busy
  the newcomer gets 503. The cap stays ``FD_RESERVE`` below the descriptor limit, which
  leaves the databases, the journal and the audit log their descriptors whatever the
  clients do.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger("assembly_engine.api")

LINE_MAX_BYTES = 8 * 1024
HEAD_MAX_BYTES = 64 * 1024
HEAD_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS = 4096
# Descriptors never given to client connections: databases (with their WAL and shared
# memory files), the journal, the audit log and its head, log files, payload files being
# read or written by the worker threads, the listening socket.
FD_RESERVE = 256
MIN_CONNECTIONS = 16


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = MAX_CONNECTIONS
    line_max_bytes: int = LINE_MAX_BYTES
    head_max_bytes: int = HEAD_MAX_BYTES
    head_timeout: float = HEAD_TIMEOUT_SECONDS


def raise_fd_limit() -> int:
    """Raise the soft descriptor limit to the hard one (allowed without privileges);
    returns the soft limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20) if soft != resource.RLIM_INFINITY else 1 << 20
    if soft == resource.RLIM_INFINITY or soft >= hard:
        return hard if soft == resource.RLIM_INFINITY else soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:  # e.g. a container that forbids it: keep the soft one
        log.warning("could not raise the file descriptor limit from %d to %d: %s", soft, hard, exc)
        return soft
    return hard


def connection_cap(fd_limit: int) -> int:
    return max(MIN_CONNECTIONS, min(MAX_CONNECTIONS, fd_limit - FD_RESERVE))


def _answer(status: int, error: str, message: str) -> bytes:
    body = orjson.dumps({"error": error, "message": message})
    head = (
        b"content-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
    )
    return STATUS_LINE[status] + head + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the size, time and count limits (module doc)."""

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers_done = False
        self._head_bytes = 0
        self._url_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        # When the head in progress began (None between requests). One timer per connection
        # looks at it, re-armed only when it fires: a timer set and cancelled for every
        # keep-alive request was a share of each list request.
        self._head_began: float | None = None
        self._idle_since = 0.0
        self._refused = False

    # -- count ---------------------------------------------------------------------------
    # uvicorn narrows asyncio's BaseTransport to Transport here and ignores the override
    # error itself; this signature is uvicorn's, so the same error is ignored.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_since = self._head_began = self.loop.time()
        self._arm_head_timer()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def _idle(self) -> bool:
        return not self._refused and (self.cycle is None or self.cycle.response_complete)

    def _make_room(self) -> None:
        idle = [
            c for c in self.connections if isinstance(c, GuardedHttpProtocol) and c is not self and c._idle()
        ]
        if idle:
            oldest = min(idle, key=lambda c: c._idle_since)
            oldest._close_quietly()
            return
        log.warning("connection refused: %d connections are busy", len(self.connections) - 1)
        self._refuse(
            503, "too_many_connections", "The engine has too many connections open; try again shortly."
        )

    def _close_quietly(self) -> None:
        self._refused = True
        self._cancel_head_timer()
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    # -- time ----------------------------------------------------------------------------
    def _arm_head_timer(self, seconds: float | None = None) -> None:
        if self._head_timer is None:
            delay = self.limits.head_timeout if seconds is None else seconds
            self._head_timer = self.loop.call_later(delay, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        began = self._head_began
        if began is None or self._headers_done or self.transport.is_closing():
            return  # no head in progress: the next one's first byte arms the timer again
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head behind an answer still being made: its time starts later.
            self._arm_head_timer()
            return
        left = began + self.limits.head_timeout - self.loop.time()
        if left > 0:  # this head began after the timer was set
            self._arm_head_timer(left)
            return
        self._refuse(
            408,
            "request_timeout",
            f"The request's headers did not arrive within {self.limits.head_timeout:g} seconds.",
        )

    # -- size ----------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        if not self._headers_done:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._refused:
                return  # a callback refused the request (below) and answered already
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        if not self._headers_done and not self._refused:
            self._check_head_size()

    def _check_head_size(self) -> bool:
        """Refuse a head over its limits; True when it was refused."""
        if self._url_bytes > self.limits.line_max_bytes:
            self._refuse(
                414,
                "uri_too_long",
                f"The request line is longer than {self.limits.line_max_bytes} bytes; shorten the URL.",
            )
            return True
        if self._head_bytes > self.limits.head_max_bytes:
            self._refuse(
                431,
                "headers_too_large",
                f"The request's headers are larger than {self.limits.head_max_bytes} bytes in all.",
            )
            return True
        return False

    def _refuse(self, status: int, error: str, message: str) -> None:
        self._refused = True
        self._cancel_head_timer()
        if self.cycle is None or self.cycle.response_complete:  # never inside another answer
            self.transport.write(_answer(status, error, message))
        self.transport.close()

    # -- parser callbacks ----------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = 0
        if self._head_began is None:  # the first head's time runs from the connection's opening
            self._head_began = self.loop.time()
        self._arm_head_timer()  # kept if already set: it looks at _head_began when it fires

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self.limits.line_max_bytes:
            return  # refused after this read (data_received); keep no more of it
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        # The head may have ended within the read that passed a limit: measure it exactly.
        self._head_bytes = self._url_bytes + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if self._check_head_size():
            raise _HeadRefused()
        self._headers_done = True
        self._head_began = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._headers_done = False
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        self._idle_since = self.loop.time()
        super().on_response_complete()


class _HeadRefused(Exception):
    """Stops the parser inside a callback; the refusal was answered already."""


def guarded_protocol(limits: ConnectionLimits) -> type[GuardedHttpProtocol]:
    return type("EngineHttpProtocol", (GuardedHttpProtocol,), {"limits": limits})


def engine_protocol() -> type[GuardedHttpProtocol]:
    """The protocol ``assemblies serve`` runs: the descriptor limit raised first, then the
    connection cap derived from it."""
    return guarded_protocol(ConnectionLimits(max_connections=connection_cap(raise_fd_limit())))
