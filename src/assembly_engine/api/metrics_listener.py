"""``ENGINE_METRICS_LISTEN``: /metrics on a loopback-only port of its own, without sign-in.

For a Prometheus (or an agent) on the same machine that should not hold an admin's
session. config.py refuses any address that is not loopback. prometheus-client's own
small HTTP server runs it on a daemon thread; the engine's lifespan closes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from assembly_engine.config import metrics_listen_address
from assembly_engine.services.metrics import EngineMetrics

log = logging.getLogger("assembly_engine.api")


@dataclass
class MetricsListener:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_listener(metrics: EngineMetrics, listen: str) -> MetricsListener | None:
    if not listen:
        return None
    host, port = metrics_listen_address(listen)
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    log.info("metrics listener on http://%s:%d/metrics", host, port)
    return MetricsListener(server, thread)
