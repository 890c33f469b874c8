"""Search inside assemblies on a cluster: PostgreSQL full text, shared by the nodes, so
every node finds what any node wrote (real nodes on a real PostgreSQL)."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.cluster.nodes import NodeFactory
from tests.engine_process import EngineProcess
from tests.support import wait_until

DOWNLOAD = '# fetch the agent\n$dest = "$env:TEMP\\agent.msi"\nInvoke-WebRequest -Uri $url -OutFile $dest\n'
REGISTRY = "@echo off\nreg add HKLM\\Software\\Foo\\Run /v Agent /d agent.exe /f\n"


def create(engine: EngineProcess, headers: dict[str, str], name: str, script: str) -> None:
    response = engine.http.post(
        "/api/assemblies",
        headers=headers,
        json={
            "display_name": name,
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "payload": {"script": script},
        },
    )
    assert response.status_code == 201, response.text


def search(engine: EngineProcess, headers: dict[str, str], q: str) -> dict[str, Any]:
    response = engine.http.get("/api/assemblies", headers=headers, params={"q": q})
    assert response.status_code == 200, response.text
    return dict(response.json())


def names(answer: dict[str, Any]) -> list[str]:
    return [item["display_name"] for item in answer["items"]]


def test_every_node_finds_what_any_node_wrote(node: NodeFactory, cluster_url: str) -> None:
    a, b = node("a", flush_interval=3600), node("b", flush_interval=3600)
    on_a, on_b = a.login(), b.login()
    create(engine=a, headers=on_a, name="Install agent", script=DOWNLOAD)
    found = search(a, on_a, "Invoke-WebRequest")  # on the writing node, before any flush
    assert names(found) == ["Install agent"] and found["queue"]["depth"] >= 1
    assert found["items"][0]["match"] == {"line": 3, "text": "Invoke-WebRequest -Uri $url -OutFile $dest"}
    seen = wait_until(
        lambda: (r := search(b, on_b, "invoke-webreq"))["total"] == 1 and r, "node B to find A's script"
    )
    assert seen["items"][0]["match"]["line"] == 3

    create(engine=b, headers=on_b, name="Autostart entry", script=REGISTRY)
    wait_until(lambda: names(search(a, on_a, "HKLM:\\Software\\Foo")) == ["Autostart entry"], "A to find B's")
    with psycopg.connect(cluster_url) as conn:
        held = conn.execute("SELECT count(*) FROM search_bodies WHERE terms @@ to_tsquery('simple', 'hklm')")
        assert held.fetchone() == (1,)
    for q in ['"', "NEAR(a b)", "a & b | !c", "x:* & (", "日本語 🙂", "\\"]:
        assert a.http.get("/api/assemblies", headers=on_a, params={"q": q}).status_code == 200, q
