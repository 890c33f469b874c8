"""Nodes and PostgreSQL failing under a write load: nothing acknowledged is ever lost."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.cluster.nodes import NodeFactory, get, make_nodes, new_script
from tests.engine_process import EngineProcess, stop_all
from tests.postgresql_server import PostgresServer
from tests.support import wait_until


class WriteLoad:
    """Creates through the given nodes from one thread each, until stopped; keeps what
    was acknowledged (201) and every other status seen."""

    def __init__(self, nodes: list[EngineProcess]) -> None:
        self.nodes = nodes
        self.acknowledged: list[str] = []
        self.refusals: list[httpx.Response] = []
        self.failures: list[str] = []  # transport errors: the node died or the answer was cut
        self._stop = threading.Event()
        self._counter = itertools.count()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in nodes]

    def _run(self, engine: EngineProcess) -> None:
        headers = engine.login()
        with httpx.Client(base_url=engine.url, headers=headers, timeout=30) as http:
            while not self._stop.is_set():
                token = f"load {next(self._counter)}"
                try:
                    answer = http.post("/api/assemblies", json=new_script(token))
                except httpx.HTTPError as exc:
                    self.failures.append(f"{engine.url}: {exc}")
                    if engine.proc is not None and engine.proc.poll() is not None:
                        return  # that node is gone
                    continue
                if answer.status_code == 201:
                    self.acknowledged.append(answer.json()["assembly_guid"])
                else:
                    self.refusals.append(answer)

    def __enter__(self) -> WriteLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def all_served(engine: EngineProcess, guids: list[str]) -> bool:
    try:
        headers = engine.login()
    except httpx.HTTPStatusError as refused:
        # A node whose pool has not yet seen PostgreSQL back answers 503 (with Retry-After)
        # until its next connection works; ask again.
        if refused.response.status_code == 503:
            return False
        raise
    served: set[str] = set()
    for offset in itertools.count(0, 1000):
        answer = get(engine, f"/api/assemblies?domain=user&limit=1000&offset={offset}", headers)
        if answer.status_code == 503:
            return False
        page = answer.json()
        served |= {item["assembly_guid"] for item in page["items"]}
        if offset + 1000 >= page["total"]:
            return set(guids) <= served
    raise AssertionError("unreachable")


def verify(engine: EngineProcess) -> None:
    """``assemblies verify`` and ``audit verify`` through the running node are clean."""
    for command in (["verify"], ["audit", "verify"]):
        done = subprocess.run(
            [sys.executable, "-m", "assembly_engine.cli.main", *command],
            env=engine.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"


def test_kill_9_of_a_node_under_load_loses_nothing_acknowledged(node: NodeFactory) -> None:
    a, b = node("a"), node("b")
    with WriteLoad([a, b]) as load:
        wait_until(lambda: len(load.acknowledged) >= 40, "some acknowledged writes")
        a.kill()
        wait_until(lambda: len(load.acknowledged) >= 80, "more writes through B")
    acknowledged = list(load.acknowledged)
    assert not [r.text for r in load.refusals], "B kept accepting writes"
    wait_until(lambda: all_served(b, acknowledged), "B to serve every acknowledged write", timeout=60)
    a.start(timeout=60)
    wait_until(lambda: all_served(a, acknowledged), "A, restarted, to serve them too", timeout=60)
    verify(b)


@contextmanager
def own_server() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own, so stopping it disturbs no other test."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_postgresql_restarted_under_load_answers_503_then_recovers(tmp_path: Path) -> None:
    with own_server() as server:
        _, url = server.create_database()
        factory, started = make_nodes(url, tmp_path)
        try:
            # Flushes only every 3 s: acknowledged changes are still queued when PostgreSQL
            # stops (at 0.5 s a flush just before the stop could leave nothing to look at).
            a, b = factory("a", flush_interval=3.0), factory("b", flush_interval=3.0)
            on_b = b.login()
            made = httpx.post(
                f"{a.url}/api/tokens",
                headers=on_b,
                json={"name": "runner", "scopes": ["assemblies:read"], "expires_in_days": 1},
                timeout=30,
            )
            assert made.status_code == 201, made.text
            runner = {"Authorization": f"Bearer {made.json()['token']}"}
            with WriteLoad([a, b]) as load:
                wait_until(lambda: len(load.acknowledged) >= 30, "writes before the restart")
                server.halt("immediate")
                wait_until(lambda: len(load.refusals) >= 4, "writes refused while PostgreSQL is down")
                # Reads go on from the cache meanwhile.
                listed = get(b, "/api/assemblies?domain=user&limit=5", on_b)
                assert listed.status_code == 200, listed.text
                # Tokens are not cached on a node: a token is refused until PostgreSQL is back,
                # as unavailable (503), never as an unknown token (401).
                by_token = get(b, "/api/assemblies?limit=1", runner)
                assert by_token.status_code == 503, by_token.text
                # Flushes fail meanwhile, as a whole: no change is set aside as unwritable.
                wait_until(
                    lambda: get(b, "/api/assemblies/queue", on_b).json()["domains"]["user"]["last_error"],
                    "a flush to fail",
                )
                queued = get(b, "/api/assemblies/queue", on_b).json()["domains"]["user"]["items"]
                assert queued and not [item for item in queued if item["flush_error"]]
                server.resume()
                before = len(load.acknowledged)
                wait_until(
                    lambda: len(load.acknowledged) >= before + 30, "writes after the restart", timeout=90
                )
            refused = load.refusals
            assert {r.status_code for r in refused} == {503}, [r.text for r in refused[:3]]
            assert all(r.headers.get("Retry-After") for r in refused)
            assert "nothing was changed" in refused[0].json()["message"]
            acknowledged = list(load.acknowledged)
            for engine in (a, b):
                wait_until(
                    lambda e=engine: all_served(e, acknowledged),
                    "every node to serve every write",
                    timeout=60,
                )
            again = wait_until(
                lambda: (r := get(b, "/api/assemblies?limit=1", runner)).status_code != 503 and r,
                "node B to answer the token again",
            )
            assert again.status_code == 200, again.text
            # The flush worker lived through the outage: everything is written again.
            on_a = a.login()
            wait_until(
                lambda: get(a, "/api/assemblies/queue", on_a).json()["depth"] == 0, "the queue to drain"
            )
            verify(a)
        finally:
            stop_all(started)
