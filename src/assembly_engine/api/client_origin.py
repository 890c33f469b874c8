"""Who the client is and whether it came over HTTPS: decided here, once per request.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the connection comes
from an address in ``ENGINE_TRUSTED_PROXIES`` (default: none). Otherwise anyone could
choose their own address, and with it escape the login throttle or the audit's count of
anonymous refusals. uvicorn's own proxy-header handling is switched off (cli/main.py), so this
middleware is the single place the rewrite can happen; everything after it (the throttle,
the audit, the local-CLI check, the Secure cookie flag) reads ``scope["client"]`` and
``scope["scheme"]``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``"10.0.0.1, 10.1.0.0/16"`` -> networks; a clear ValueError names a bad entry."""
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(
                f"{text!r} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class ClientOrigin:
    def __init__(self, app: ASGIApp, trusted_proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted_proxies

    def _is_trusted(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and self.trusted:
            client = scope.get("client")
            if client and self._is_trusted(client[0]):
                self._apply_forwarded(scope)
        await self.app(scope, receive, send)

    def _apply_forwarded(self, scope: Scope) -> None:
        headers = dict(scope.get("headers") or [])
        forwarded_for = headers.get(b"x-forwarded-for")
        if forwarded_for:
            # Walk from the nearest hop outwards; the first address that is not one of our
            # proxies is the client (earlier entries were written by the client itself).
            hops = [hop.strip() for hop in forwarded_for.decode("latin-1").split(",")]
            for hop in reversed(hops):
                if _address(hop) is None:
                    break  # garbage: keep the last trustworthy answer (the proxy itself)
                scope["client"] = (hop, 0)
                if not self._is_trusted(hop):
                    break
        proto = headers.get(b"x-forwarded-proto")
        if proto:
            value = proto.decode("latin-1").split(",")[0].strip().lower()
            if value in {"http", "https"}:
                scope["scheme"] = value if scope["type"] == "http" else {"http": "ws", "https": "wss"}[value]
