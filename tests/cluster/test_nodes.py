"""What several nodes on one PostgreSQL promise their users: one library, read anywhere."""

from __future__ import annotations

import threading

import httpx
import psycopg

from tests.cluster.nodes import NodeFactory, NodePair, enable_dev_mode, get, new_script
from tests.engine_process import EngineProcess
from tests.support import wait_until


def user_total(engine: EngineProcess, headers: dict[str, str]) -> int:
    total: int = get(engine, "/api/assemblies?domain=user", headers).json()["total"]
    return total


def test_a_change_through_one_node_is_served_by_the_other(node_pair: NodePair) -> None:
    a, b = node_pair.a, node_pair.b
    on_a, on_b = a.login(), b.login()
    before = user_total(a, on_a)  # what earlier tests of the module left
    created = httpx.post(f"{a.url}/api/assemblies", json=new_script("propagated"), headers=on_a, timeout=30)
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    seen = wait_until(
        lambda: (r := get(b, f"/api/assemblies/{guid}", on_b)).status_code == 200 and r,
        "node B to serve the new assembly",
    )
    assert seen.json()["summary"] == "propagated"
    assert "echo propagated" in seen.json()["payload"]["script"]
    updated = httpx.put(
        f"{b.url}/api/assemblies/{guid}",
        json={"summary": "changed on B", "expected_revision": 1},
        headers=on_b,
        timeout=30,
    )
    assert updated.status_code == 200, updated.text
    wait_until(
        lambda: get(a, f"/api/assemblies/{guid}", on_a).json()["summary"] == "changed on B",
        "node A to serve B's update",
    )
    # Both nodes list the same library, and agree on what is still queued.
    wait_until(
        lambda: (
            get(a, "/api/assemblies/queue", on_a).json()["depth"] == 0
            and get(b, "/api/assemblies/queue", on_b).json()["depth"] == 0
        ),
        "the flush to be seen by both nodes",
    )
    assert user_total(a, on_a) == before + 1
    assert user_total(b, on_b) == before + 1


def race(guid: str, revision: int, *sides: tuple[EngineProcess, dict[str, str], str]) -> list[int]:
    """The same update of ``revision`` sent through every side at the same moment."""
    barrier = threading.Barrier(len(sides))
    statuses: list[int] = []

    def put(engine: EngineProcess, headers: dict[str, str], text: str) -> None:
        barrier.wait()
        answer = httpx.put(
            f"{engine.url}/api/assemblies/{guid}",
            json={"summary": text, "expected_revision": revision},
            headers=headers,
            timeout=30,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=put, args=side) for side in sides]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_the_same_revision_through_two_nodes_is_accepted_once(node_pair: NodePair) -> None:
    a, b = node_pair.a, node_pair.b
    on_a, on_b = a.login(), b.login()
    created = httpx.post(f"{a.url}/api/assemblies", json=new_script("contended"), headers=on_a, timeout=30)
    guid = created.json()["assembly_guid"]
    for round_ in range(5):
        revision = round_ + 1
        wait_until(
            lambda r=revision: get(b, f"/api/assemblies/{guid}", on_b).json().get("revision") == r,
            "B to serve the latest revision",
        )
        assert race(guid, revision, (a, on_a, f"A{round_}"), (b, on_b, f"B{round_}")) == [200, 409]
    assert get(a, f"/api/assemblies/{guid}", on_a).json()["revision"] == 6


def test_dev_mode_enabled_through_one_node_holds_on_the_other_and_expires_on_both(node: NodeFactory) -> None:
    a = node("a", ENGINE_DEV_MODE_TTL_SECONDS="3")
    b = node("b", ENGINE_DEV_MODE_TTL_SECONDS="3")
    session = a.login()  # one session, used through both nodes
    enable_dev_mode(a, session, "cluster test")
    on_b = get(b, "/api/assemblies/dev-mode", session).json()
    assert on_b["enabled"] is True
    official = httpx.post(
        f"{b.url}/api/assemblies", json=new_script("vendor", domain="official"), headers=session, timeout=30
    )
    assert official.status_code == 201, official.text
    for engine in (a, b):
        wait_until(
            lambda e=engine: get(e, "/api/assemblies/dev-mode", session).json()["enabled"] is False,
            "Dev Mode to expire",
            timeout=30,
        )
    refused = httpx.post(
        f"{a.url}/api/assemblies", json=new_script("late", domain="official"), headers=session, timeout=30
    )
    assert refused.status_code == 403


def test_a_notification_connection_cut_off_is_caught_up(node_pair: NodePair) -> None:
    a, b = node_pair.a, node_pair.b
    on_a, on_b = a.login(), b.login()
    with psycopg.connect(node_pair.url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'assembly-engine-feed' AND datname = current_database()"
        )
    guids = [
        httpx.post(f"{a.url}/api/assemblies", json=new_script(f"away {i}"), headers=on_a, timeout=30).json()[
            "assembly_guid"
        ]
        for i in range(10)
    ]
    wait_until(
        lambda: all(get(b, f"/api/assemblies/{g}", on_b).status_code == 200 for g in guids),
        "node B to catch up after its feed reconnected",
    )


def test_updates_without_an_expected_revision_all_succeed_under_contention(node_pair: NodePair) -> None:
    """Issue 23, O2: a change without If-Match is planned again until its deadline, not a
    number of times, so contention through both nodes never makes it a 409."""
    a, b = node_pair.a, node_pair.b
    on_a, on_b = a.login(), b.login()
    created = httpx.post(f"{a.url}/api/assemblies", json=new_script("contended"), headers=on_a, timeout=30)
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    writers, updates = 6, 12  # per node: loopback only, bounded
    barrier = threading.Barrier(2 * writers)
    statuses: list[int] = []

    def write(engine: EngineProcess, headers: dict[str, str], name: str) -> None:
        with httpx.Client(timeout=60) as http:
            barrier.wait()
            for i in range(updates):
                answer = http.put(
                    f"{engine.url}/api/assemblies/{guid}", json={"summary": f"{name}-{i}"}, headers=headers
                )
                statuses.append(answer.status_code)

    threads = [
        threading.Thread(target=write, args=(engine, headers, f"{label}{n}"))
        for n in range(writers)
        for engine, headers, label in ((a, on_a, "A"), (b, on_b, "B"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == len(statuses) == 2 * writers * updates, sorted(set(statuses))
    final = wait_until(
        lambda: (r := get(a, f"/api/assemblies/{guid}", on_a).json())["revision"] == 1 + len(statuses) and r,
        "node A to serve every update",
    )
    assert final["revision"] == 1 + 2 * writers * updates
