"""GET /metrics (Prometheus text), the loopback metrics listener, request ids and JSON logs.

Real parts: the ASGI app in-process on real SQLite files under a temp home; the forced
flush failure is another process holding user_created.db's write lock; the loopback
listener is scraped over real HTTP.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from assembly_engine.config import Settings
from tests.api.support import (
    ADMIN,
    ADMIN_DEV,
    ANONYMOUS,
    OPERATOR,
    ApiEngine,
    create_body,
    settings_on,
    start_engine,
)
from tests.support import temp_settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
Types = dict[str, str]

LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEngine]:
    settings = temp_settings(tmp_path_factory.mktemp("metrics"), lock_retry_seconds=0.3, log_format="json")
    yield from start_engine(settings)


def scrape_text(engine: ApiEngine, caller: str = ADMIN) -> str:
    response = engine.request(caller, "GET", "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def parse(text: str) -> tuple[Samples, Types]:
    samples: Samples = {}
    types: Types = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, types


def scrape(engine: ApiEngine) -> tuple[Samples, Types]:
    return parse(scrape_text(engine))


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_request_counts_and_latency_move_by_route_template(engine: ApiEngine) -> None:
    created = engine.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"))
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    before, types = scrape(engine)
    assert engine.request(OPERATOR, "GET", "/api/health").status_code == 200
    assert engine.request(OPERATOR, "GET", f"/api/assemblies/{guid}").status_code == 200
    assert engine.request(OPERATOR, "GET", "/api/assemblies").status_code == 200  # the fast lane
    assert engine.request(OPERATOR, "GET", f"/api/nothing/{guid}").status_code == 404
    after, types = scrape(engine)

    requests = "assembly_engine_http_requests_total"
    assert types["assembly_engine_http_requests"] == "counter"
    assert types["assembly_engine_http_request_duration_seconds"] == "histogram"
    for route, status in (
        ("/api/health", "200"),
        ("/api/assemblies/{guid}", "200"),
        ("/api/assemblies", "200"),
        ("/api/{path}", "404"),  # the catch-all that answers unknown API paths
    ):
        labels = {"method": "GET", "route": route, "status": status}
        assert value(after, requests, **labels) == value(before, requests, **labels) + 1, route
    latency = "assembly_engine_http_request_duration_seconds_count"
    assert value(after, latency, method="GET", route="/api/health") >= 1
    assert (
        value(after, "assembly_engine_http_request_duration_seconds_sum", method="GET", route="/api/health")
        > 0
    )
    # Bounded labels: no id, no user name in any label value.
    text = scrape_text(engine)
    assert guid not in text
    assert "operator-olga" not in text and 'admin"' not in text.replace('route="/api/admin', "")


def test_queue_depth_matches_health_and_commits_count(engine: ApiEngine) -> None:
    before, _ = scrape(engine)
    for _ in range(2):
        created = engine.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"))
        assert created.status_code == 201, created.text
    after, types = scrape(engine)
    health = engine.request(OPERATOR, "GET", "/api/health").json()

    assert types["assembly_engine_queue_depth"] == "gauge"
    depths = {
        d: value(after, "assembly_engine_queue_depth", domain=d) for d in ("official", "community", "user")
    }
    assert sum(depths.values()) == health["queue_depth"] >= 2
    assert value(after, "assembly_engine_queue_oldest_dirty_age_seconds", domain="user") >= 0
    for domain, count in health["assemblies"].items():
        assert value(after, "assembly_engine_assemblies", domain=domain) == count
    official = health["official_signatures"]
    for status, count in official["counts"].items():
        assert value(after, "assembly_engine_official_signatures", status=status) == count
    assert value(after, "assembly_engine_official_library_state", state=official["state"]) == 1
    assert (
        sum(
            value(after, "assembly_engine_official_library_state", state=s)
            for s in ("ok", "warning", "refused", "off")
        )
        == 1
    )
    assert types["assembly_engine_journal_group_commits"] == "counter"
    commits = "assembly_engine_journal_group_commits_total"
    assert value(after, commits) >= value(before, commits) + 1
    entries = "assembly_engine_journal_entries_total"
    assert value(after, entries) == value(before, entries) + 2

    flushed = engine.request(ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write")
    assert flushed.status_code == 200, flushed.text
    done, _ = scrape(engine)
    assert value(done, "assembly_engine_queue_depth", domain="user") == 0
    assert value(done, "assembly_engine_queue_oldest_dirty_age_seconds", domain="user") == 0
    count = "assembly_engine_flush_duration_seconds_count"
    assert value(done, count, domain="user") == value(after, count, domain="user") + 1


def test_the_engine_state_describes_the_families_it_collects(engine: ApiEngine) -> None:
    # The registry takes the names from describe() when the collector is registered at
    # start-up; collect() then would read every record before the engine is ready.
    state = engine.client.app.state.metrics.state  # type: ignore[attr-defined]
    assert {m.name for m in state.describe()} == {m.name for m in state.collect()}


def test_a_forced_flush_failure_counts(engine: ApiEngine) -> None:
    assert engine.request(ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write").status_code == 200
    created = engine.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"))
    assert created.status_code == 201, created.text
    before, types = scrape(engine)
    assert types["assembly_engine_flush_failures"] == "counter"
    database = engine.settings.runtime_root / "user_created.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = engine.request(ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write")
        assert refused.status_code == 503, refused.text
        during, _ = scrape(engine)
    finally:
        holder.communicate("commit\n", timeout=10)
    failures = "assembly_engine_flush_failures_total"
    assert value(during, failures, domain="user") == value(before, failures, domain="user") + 1
    assert value(during, failures, domain="official") == value(before, failures, domain="official")
    assert value(during, "assembly_engine_flush_consecutive_failures", domain="user") >= 1
    assert value(during, "assembly_engine_queue_depth", domain="user") >= 1

    assert engine.request(ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write").status_code == 200
    after, _ = scrape(engine)
    assert value(after, "assembly_engine_flush_consecutive_failures", domain="user") == 0
    assert value(after, failures, domain="user") == value(during, failures, domain="user")


@pytest.mark.parametrize(
    ("caller", "status", "error"), [(OPERATOR, 403, "forbidden"), (ANONYMOUS, 401, "unauthorized")]
)
def test_only_admins_read_metrics(engine: ApiEngine, caller: str, status: int, error: str) -> None:
    response = engine.request(caller, "GET", "/metrics")
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["message"]
    assert "assembly_engine_" not in response.text


def test_request_ids_are_kept_when_sane_and_reach_json_logs(engine: ApiEngine) -> None:
    kept = engine.request(OPERATOR, "GET", "/api/health", headers={"X-Request-ID": "trace-42.abc:7"})
    assert kept.headers["x-request-id"] == "trace-42.abc:7"
    for bad in ("has spaces", "x" * 129, 'quote"d'):
        replaced = engine.request(OPERATOR, "GET", "/api/health", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), bad
    refused = engine.request(ANONYMOUS, "GET", "/metrics")
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])  # refusals carry one too

    created = engine.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"))
    assert created.status_code == 201
    flushed = engine.request(
        ADMIN_DEV, "POST", "/api/assemblies/dev-mode/write", headers={"X-Request-ID": "flush-req-1"}
    )
    assert flushed.status_code == 200, flushed.text
    lines = (engine.settings.logs_dir / "engine.log").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries
    for entry in entries:
        assert set(entry) >= {"time", "level", "logger", "message", "request_id"}
    flush_lines = [e for e in entries if e["request_id"] == "flush-req-1"]
    assert any(
        e["message"].startswith("flushed ") and e["logger"] == "assembly_engine.cache" for e in flush_lines
    )
    assert any(e["message"].startswith("engine ready") and e["request_id"] is None for e in entries)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_loopback_listener_serves_metrics_without_sign_in(tmp_path: Path) -> None:
    port = free_port()
    settings = temp_settings(tmp_path, metrics_listen=f"127.0.0.1:{port}")
    for running in start_engine(settings):
        answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert answer.status_code == 200
        samples, types = parse(answer.text)
        assert types["assembly_engine_queue_depth"] == "gauge"
        assert (
            value(
                samples,
                "assembly_engine_http_requests_total",
                method="POST",
                route="/api/auth/login",
                status="200",
            )
            >= 1
        )
        assert running.request(OPERATOR, "GET", "/metrics").status_code == 403  # the main port still asks
    with pytest.raises(httpx.TransportError):  # closed with the engine
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


@pytest.mark.parametrize(
    "listen", ["0.0.0.0:9464", "192.0.2.1:9464", "127.0.0.1", "127.0.0.1:0", "localhost:99999", "x:1"]
)
def test_metrics_listener_must_be_loopback(listen: str) -> None:
    with pytest.raises(ValueError, match="ENGINE_METRICS_LISTEN"):
        Settings.from_env({"ENGINE_METRICS_LISTEN": listen})
    assert Settings.from_env({"ENGINE_METRICS_LISTEN": "[::1]:9464"}).metrics_listen == "[::1]:9464"


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="ENGINE_LOG_FORMAT"):
        Settings.from_env({"ENGINE_LOG_FORMAT": "xml"})


def test_a_cluster_node_reports_its_feed_and_shared_queue_commits(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with settings_on("postgresql", request, tmp_path_factory.mktemp("metrics-node")) as settings:
        for node in start_engine(settings):
            connected = node.services.storage.backend.node.feed.connected  # type: ignore[attr-defined]
            assert connected.wait(30), "the node's change feed did not connect"
            assert value(scrape(node)[0], "assembly_engine_cluster_feed_connected") == 1
            before, types = scrape(node)
            assert types["assembly_engine_cluster_feed_lag_changes"] == "gauge"
            state = node.client.app.state.metrics.state  # type: ignore[attr-defined]
            assert {m.name for m in state.describe()} == {m.name for m in state.collect()}
            created = node.request(OPERATOR, "POST", "/api/assemblies", json=create_body("user"))
            assert created.status_code == 201, created.text
            after, _ = scrape(node)
            commits = "assembly_engine_journal_group_commits_total"
            assert value(after, commits) >= value(before, commits) + 1  # the shared write queue's
            assert value(after, "assembly_engine_cluster_feed_lag_changes") >= 0
            health = node.request(OPERATOR, "GET", "/api/health").json()
            depths = sum(
                value(after, "assembly_engine_queue_depth", domain=d)
                for d in ("official", "community", "user")
            )
            assert depths == health["queue_depth"]
