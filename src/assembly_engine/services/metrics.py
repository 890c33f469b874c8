"""The engine's Prometheus metrics (``GET /metrics``, Docs/deploying.md "Monitoring").

One registry per engine (not prometheus-client's global one), so two engines in one
process — the tests run many — never mix their counts. Events are counted as they happen
(requests, flushes, journal group commits, through storage/contract/events.py); states (queue depth,
oldest dirty change, assemblies, cluster feed) are read from the engine at scrape time.
Labels are bounded: a route's template, never its path; a domain; a method; a status —
never an id or a user name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from assembly_engine.domain.types import Domain
from assembly_engine.services.auth import policy
from assembly_engine.services.caller import Caller

if TYPE_CHECKING:
    from assembly_engine.services.container import EngineServices

log = logging.getLogger("assembly_engine.metrics")

PREFIX = "assembly_engine"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_REQUEST_SERIES = 1024  # (method, route, status) kept for observe_request; past it, looked up each time
# Requests are mostly answered from memory in milliseconds; flushes write SQLite files.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _age_seconds(since: str | None, now: datetime) -> float:
    if not since:
        return 0.0
    try:
        return max(0.0, (now - datetime.fromisoformat(since.replace("Z", "+00:00"))).total_seconds())
    except ValueError:
        return 0.0


class _EngineState(Collector):
    """Gauges read from the engine on every scrape."""

    def __init__(self, services: EngineServices) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services
        cache = services.storage.cache
        status = cache.queue_status()
        depth = GaugeMetricFamily(
            f"{PREFIX}_queue_depth", "Changes queued, not yet in their database", labels=["domain"]
        )
        oldest = GaugeMetricFamily(
            f"{PREFIX}_queue_oldest_dirty_age_seconds",
            "Age of the oldest queued change (0 when none is queued)",
            labels=["domain"],
        )
        failing = GaugeMetricFamily(
            f"{PREFIX}_flush_consecutive_failures",
            "Flushes of the domain that failed in a row (0 after a good flush)",
            labels=["domain"],
        )
        now = datetime.now().astimezone()
        for domain_queue in status.domains:
            name = domain_queue.domain.value
            depth.add_metric([name], len(domain_queue.changes))
            oldest.add_metric([name], _age_seconds(domain_queue.oldest_dirty_since, now))
            failing.add_metric([name], cache.flusher.state[domain_queue.domain].failures)
        yield depth
        yield oldest
        yield failing
        assemblies = GaugeMetricFamily(f"{PREFIX}_assemblies", "Assemblies in the library", labels=["domain"])
        for name, count in cache.counts().items():
            assemblies.add_metric([str(name)], count)
        yield assemblies
        yield GaugeMetricFamily(
            f"{PREFIX}_cache_warm", "1 once every payload is loaded into memory", value=int(cache.warm)
        )
        official = services.official.counts().signatures
        signatures = GaugeMetricFamily(
            f"{PREFIX}_official_signatures",
            "Official assemblies by signature status (verified, modified, unsigned)",
            labels=["status"],
        )
        for signature, count in sorted(official["counts"].items()):
            signatures.add_metric([signature], count)
        yield signatures
        library = GaugeMetricFamily(
            f"{PREFIX}_official_library_state",
            "1 for the official library's signature state (ok, warning, refused, off)",
            labels=["state"],
        )
        for state in ("ok", "warning", "refused", "off"):
            library.add_metric([state], int(official["state"] == state))
        yield library
        checks = CounterMetricFamily(
            f"{PREFIX}_script_checks",
            "Script checks by language and outcome (stored: a stored result made the check unneeded)",
            labels=["language", "outcome"],
        )
        for (language, outcome), count in sorted(services.checks.runner.outcomes().items()):
            checks.add_metric([language, outcome], count)
        yield checks
        # Cluster mode only (storage/postgresql/backend.py); read by name so the services
        # never import the PostgreSQL backend.
        node = getattr(services.storage.backend, "node", None)
        if node is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_cluster_feed_connected",
                "1 while this node listens to the cluster's change feed",
                value=int(node.feed.connected.is_set()),
            )
            try:
                lag = max(0, node.queue.last_seq() - node.feed.applied_seq)
            except Exception as exc:  # noqa: BLE001 - PostgreSQL away: leave the gauge out
                log.warning("cluster feed lag unavailable: %s", exc)
            else:
                yield GaugeMetricFamily(
                    f"{PREFIX}_cluster_feed_lag_changes",
                    "Changes committed by the cluster that this node has not applied yet",
                    value=lag,
                )


class EngineMetrics:
    def __init__(self, services: EngineServices) -> None:
        self._services = services
        self._request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.flush_seconds = Histogram(
            f"{PREFIX}_flush_duration_seconds",
            "Time a flush of one domain's queued changes took",
            ["domain"],
            buckets=FLUSH_BUCKETS,
            registry=self.registry,
        )
        self.flush_failures = Counter(
            f"{PREFIX}_flush_failures", "Flushes of a domain that failed", ["domain"], registry=self.registry
        )
        self.group_commits = Counter(
            f"{PREFIX}_journal_group_commits",
            "Group commits of the write journal (cluster: the shared write queue)",
            registry=self.registry,
        )
        self.journal_entries = Counter(
            f"{PREFIX}_journal_entries",
            "Changes made durable by journal group commits",
            registry=self.registry,
        )
        for domain in Domain:  # every series exists from the start, so rate() sees the first one
            self.flush_failures.labels(domain.value)
            self.flush_seconds.labels(domain.value)
        self.registry.register(_EngineState(services))
        storage = services.storage
        storage.cache.flusher.events.on_flush(self._flushed)
        journal_events = getattr(storage.journal, "events", None)
        if journal_events is not None:
            journal_events.on_group_commit(self._committed)

    def _flushed(self, domain: Domain, seconds: float | None, failed: bool) -> None:
        if seconds is not None:
            self.flush_seconds.labels(domain.value).observe(seconds)
        if failed:
            self.flush_failures.labels(domain.value).inc()

    def _committed(self, entries: int) -> None:
        self.group_commits.inc()
        self.journal_entries.inc(entries)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        # The series of one (method, route, status) are looked up once: labels() takes a
        # lock and checks its values, a share of a list request worth keeping.
        series = self._request_series.get((method, route, status))
        if series is None:
            known = method if method in METHODS else "OTHER"
            series = (self.requests.labels(known, route, str(status)), self.latency.labels(known, route))
            if len(self._request_series) < MAX_REQUEST_SERIES:  # routes are templates: few
                self._request_series[(method, route, status)] = series
        series[0].inc()
        series[1].observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text format, for the loopback listener (which asks no credentials)."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def read(self, caller: Caller) -> tuple[bytes, str]:
        """The text format for ``caller``: admins (and, with API tokens, ``metrics:read``)."""
        self._services.auditor.require(policy.may_read_metrics(caller.actor), caller, "metrics.read")
        return self.exposition()
