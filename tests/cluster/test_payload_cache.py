"""A node's cache of verified payloads, through real nodes: while PostgreSQL is down, the
detail of an assembly whose payload the node wrote or read before answers 200 with its
payload; one it never read answers 503, and so does every detail on a node whose cache
is turned off (ENGINE_PAYLOAD_CACHE_MB=0)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cluster.nodes import get, make_nodes, new_script
from tests.engine_process import EngineProcess
from tests.postgresql_server import PostgresServer
from tests.support import wait_until


def create(engine: EngineProcess, headers: dict[str, str], token: str) -> str:
    created = httpx.post(f"{engine.url}/api/assemblies", headers=headers, json=new_script(token), timeout=30)
    assert created.status_code == 201, created.text
    return str(created.json()["assembly_guid"])


def listed(engine: EngineProcess, headers: dict[str, str], guids: set[str]) -> bool:
    page = get(engine, "/api/assemblies?domain=user&limit=100", headers).json()
    return guids <= {item["assembly_guid"] for item in page["items"]}


def test_details_a_node_served_before_answer_while_postgresql_is_down(tmp_path: Path) -> None:
    with PostgresServer(durable=False) as server:  # its own: halting it disturbs no other test
        _, url = server.create_database()
        factory, started = make_nodes(url, tmp_path)
        try:
            a, b = factory("a"), factory("b", ENGINE_PAYLOAD_CACHE_MB="0")
            on_a, on_b = a.login(), b.login()
            written_here = create(a, on_a, "written on a")
            read_here = create(b, on_b, "read on a")
            never_read = create(b, on_b, "never read on a")
            # The feed brings b's records to a; a list reads no payload.
            wait_until(lambda: listed(a, on_a, {read_here, never_read}), "a to list b's assemblies")
            assert get(a, f"/api/assemblies/{read_here}", on_a).status_code == 200
            server.halt("immediate")
            for guid, token in ((written_here, "written on a"), (read_here, "read on a")):
                detail = get(a, f"/api/assemblies/{guid}", on_a)
                assert detail.status_code == 200, detail.text
                assert detail.json()["payload"]["script"] == f"echo {token}\n"
            refused = get(a, f"/api/assemblies/{never_read}", on_a)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"] == "storage_unavailable" and refused.headers.get("Retry-After")
            uncached = get(b, f"/api/assemblies/{read_here}", on_b)  # b wrote it, but keeps nothing
            assert uncached.status_code == 503, uncached.text
        finally:
            for engine in started:
                if engine.proc is not None and engine.proc.poll() is None:
                    engine.stop()
