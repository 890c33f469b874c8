"""The password throttle of a cluster: one set of counters in PostgreSQL for every node."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cluster.nodes import NodeFactory, make_nodes
from tests.engine_process import ADMIN_PASSWORD, EngineProcess, stop_all
from tests.postgresql_server import PostgresServer


def sign_in(engine: EngineProcess, password: str) -> httpx.Response:
    return httpx.post(
        f"{engine.url}/api/auth/login", json={"username": "admin", "password": password}, timeout=30
    )


def test_failures_spread_over_two_nodes_lock_the_pair_out_on_both(node: NodeFactory) -> None:
    a, b = node("a"), node("b")
    guesses = [sign_in(a if i % 2 else b, f"wrong guess {i}") for i in range(5)]
    assert [r.status_code for r in guesses] == [401] * 5, [r.text for r in guesses]
    for engine in (a, b):
        refused = sign_in(engine, ADMIN_PASSWORD)  # even the right password, from this client
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 30


def test_a_sign_in_while_postgresql_is_down_answers_503(tmp_path: Path) -> None:
    with PostgresServer() as server:  # its own: stopping it disturbs no other test
        _, url = server.create_database()
        factory, started = make_nodes(url, tmp_path)
        try:
            a = factory("a")
            server.halt("immediate")
            answer = sign_in(a, ADMIN_PASSWORD)
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "storage_unavailable"
            assert answer.headers.get("Retry-After")
            server.resume()
        finally:
            stop_all(started)
