"""The CLI's HTTP to the engine on loopback: keep-alive HTTP/1.1 connections through the
standard library's ``http.client``, one per concurrent request (export asks from threads).

The engine is always on 127.0.0.1 over plain HTTP, so the CLI needs no TLS, proxies, HTTP/2
or redirects; importing httpx for that was two thirds of every command's start-up (0.17 s
of CPU of 0.25 s for ``sync plan --help``).
"""

from __future__ import annotations

import http.client
import json
import select
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson


class ReachError(Exception):
    """The engine could not be reached, or the exchange broke off."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        # orjson parses in C (a 10,000-item plan's answer in a third of the time); what it
        # refuses (an integer beyond 64 bits) the standard library reads.
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            return json.loads(self.content)


class LoopbackHttp:
    def __init__(self, base_url: str, headers: dict[str, str], timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the engine's URL must be http://host:port, not {base_url!r}")
        self._host, self._port = parts.hostname, parts.port or 80
        self._headers = dict(headers)
        self._timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def __enter__(self) -> LoopbackHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        json_bytes: bytes | None = None,
    ) -> Answer:
        """One exchange. A body is sent as compact UTF-8 JSON; NaN or Infinity in it is a
        ValueError (JSON has neither), as with httpx. ``json_bytes``: a body already
        encoded (by a caller that knows it holds no NaN, see ``compact_json``)."""
        headers = dict(self._headers)
        body = json_bytes
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        if body is not None:
            headers["Content-Type"] = "application/json"
        target = f"{path}?{urlencode(params)}" if params else path
        connection = self._take()
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise ReachError(str(exc) or type(exc).__name__) from None
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        return Answer(response.status, content)

    def _take(self) -> http.client.HTTPConnection:
        """An idle connection the engine has not closed meanwhile (a closed one's socket reads
        as ready: EOF), else a new one; a request is never sent into a closing socket."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            if connection.sock is not None and not select.select([connection.sock], [], [], 0)[0]:
                return connection
            connection.close()


def compact_json(value: Any) -> bytes:
    """``value`` as compact JSON, by orjson (in C: a 10,000-item plan request in a fifth of
    the standard library's time), or the standard library for what orjson refuses (an
    integer beyond 64 bits). orjson writes NaN as null: only for values that hold none."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
