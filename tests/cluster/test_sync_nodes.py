"""Library as code on a cluster: two real nodes on one real PostgreSQL. A plan made on one
node is applied on the other, and a conflict is found whichever node made each change."""

from __future__ import annotations

import base64
from typing import Any

from tests.cluster.nodes import NodePair
from tests.engine_process import EngineProcess
from tests.support import wait_until

SOURCE = "git@example.invalid:ops/library.git"


def request(files: dict[str, bytes], **extra: Any) -> dict[str, Any]:
    items = [{"path": p, "content": base64.b64encode(data).decode("ascii")} for p, data in files.items()]
    return {"source": SOURCE, "domain": "user", "items": items, **extra}


def post(engine: EngineProcess, route: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    answer = engine.http.post(f"/api/sync/{route}", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def actions(plan: dict[str, Any]) -> dict[str, str]:
    return {item["path"]: item["action"] for item in plan["items"]}


def test_plan_on_one_node_apply_on_the_other_and_conflicts_across_nodes(node_pair: NodePair) -> None:
    a, b = node_pair.a, node_pair.b
    on_a, on_b = a.login(), b.login()
    files = {
        "Windows/clear-temp.ps1": b"Remove-Item $env:TEMP\\* -Recurse\r\n",
        "Linux/backup.sh": b"#!/bin/bash\necho backup\n",
        "Linux/report.py": b"print('report')\n",
    }
    plan = post(a, "plan", on_a, request(files))
    assert set(actions(plan).values()) == {"create"}
    # Node B holds to A's plan once it serves the same domain (both nodes see one library).
    wait_until(
        lambda: post(b, "plan", on_b, request(files))["plan_id"] == plan["plan_id"],
        "node B to plan the same as node A",
        timeout=120,
    )
    applied = post(b, "apply", on_b, request(files, plan_id=plan["plan_id"]))
    assert applied["done"] == len(files) and applied["failed"] == 0
    guids = {r["path"]: r["assembly_guid"] for r in applied["results"]}

    # Node A sees what B applied: nothing left to do, nothing duplicated.
    again = wait_until(
        lambda: (p := post(a, "plan", on_a, request(files)))["counts"]["unchanged"] == len(files) and p,
        "node A to see node B's apply",
        timeout=120,
    )
    assert again["counts"]["create"] == 0
    assert post(a, "apply", on_a, request(files))["done"] == 0

    # The engine side changes on B, the file side in the checkout: A finds the conflict.
    guid = guids["Linux/report.py"]
    edited = b.http.put(
        f"/api/assemblies/{guid}", json={"payload": {"script": "print('engine')\n"}}, headers=on_b
    )
    assert edited.status_code == 200, edited.text
    changed = {**files, "Linux/report.py": b"print('file')\n", "Linux/backup.sh": b"#!/bin/bash\necho v2\n"}
    seen = wait_until(
        lambda: (p := post(a, "plan", on_a, request(changed)))["counts"]["conflict"] == 1 and p,
        "node A to see node B's edit",
        timeout=120,
    )
    assert actions(seen) == {
        "Windows/clear-temp.ps1": "unchanged",
        "Linux/backup.sh": "update",
        "Linux/report.py": "conflict",
    }
    conflict = next(i for i in seen["items"] if i["action"] == "conflict")
    assert len(set(conflict["checksums"].values())) == 3 and conflict["base_revision"] == 1

    # A plan made on A is refused on B once the domain moved (here: through A).
    stale = seen["plan_id"]
    moved = a.http.put(
        f"/api/assemblies/{guids['Windows/clear-temp.ps1']}", json={"tags": ["x"]}, headers=on_a
    )
    assert moved.status_code == 200, moved.text
    wait_until(
        lambda: post(b, "plan", on_b, request(changed))["plan_id"] != stale,
        "node B to see node A's edit",
        timeout=120,
    )
    refused = b.http.post("/api/sync/apply", json=request(changed, plan_id=stale), headers=on_b)
    assert refused.status_code == 409 and refused.json()["error"] == "plan_changed", refused.text

    # Applying on B writes the file-only change and leaves the conflict alone.
    done = post(b, "apply", on_b, request(changed))
    assert [r["path"] for r in done["results"]] == ["Linux/backup.sh"] and done["done"] == 1
    report = b.http.get(f"/api/assemblies/{guid}", headers=on_b).json()
    assert report["payload"]["script"] == "print('engine')\n"  # never overwritten


def test_a_plan_kept_on_one_node_shows_what_the_other_node_changed(node_pair: NodePair) -> None:
    """Each node keeps its own plans (services/assemblies/plan_cache.py) and checks them
    against its own cache, which the change feed brings up to date."""
    a, b = node_pair.a, node_pair.b
    on_a, on_b = a.login(), b.login()
    files = {"Kept/one.ps1": b"Write-Host one\r\n", "Kept/two.sh": b"#!/bin/bash\necho two\n"}
    body = {**request(files), "source": "kept-plans-across-nodes"}
    applied = post(a, "apply", on_a, body)
    assert applied["done"] == len(files)
    guids = {r["path"]: r["assembly_guid"] for r in applied["results"]}
    kept = post(a, "plan", on_a, body)
    assert post(a, "plan", on_a, body) == kept and kept["counts"]["unchanged"] == len(files)

    edited = b.http.put(
        f"/api/assemblies/{guids['Kept/one.ps1']}",
        json={"payload": {"script": "Write-Host b\r\n"}},
        headers=on_b,
    )
    assert edited.status_code == 200, edited.text
    seen = wait_until(
        lambda: (p := post(a, "plan", on_a, body))["plan_id"] != kept["plan_id"] and p,
        "node A to see node B's edit despite its kept plan",
        timeout=120,
    )
    one = next(i for i in seen["items"] if i["path"] == "Kept/one.ps1")
    assert one["action"] == "unchanged" and "changed in the engine" in one["reason"]

    deleted = b.http.delete(f"/api/assemblies/{guids['Kept/two.sh']}", headers=on_b)
    assert deleted.status_code == 202, deleted.text
    wait_until(
        lambda: actions(post(a, "plan", on_a, body))["Kept/two.sh"] == "create",
        "node A to see node B's delete",
        timeout=120,
    )
