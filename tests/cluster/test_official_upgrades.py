"""An official upgrade synced through one cluster node is seen, with the right upstream
states, by another, and an admin's choice on either node reaches both
(Docs/official-library.md, "Upgrades")."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.nodes import NodeFactory
from tests.support import wait_until
from tests.upgrade_support import detail, dev_mode, edit_script, install, ship_v1, ship_v2, upstream_states

EDITED = "Write-Host 'A edited on node a'\n"


def test_an_upgrade_through_one_node_shows_the_same_states_on_the_other(
    node: NodeFactory, tmp_path: Path
) -> None:
    v1 = ship_v1(tmp_path / "vendor-v1", ["A", "B", "C", "D"])
    v2 = ship_v2(v1, tmp_path / "vendor-v2", {"A": "Write-Host 'A v2'\n", "B": "Write-Host 'B v2'\n"}, ["C"])
    install(v1, tmp_path / "staging")  # the nodes' shared staging folder
    a, b = node("a"), node("b")
    on_a, on_b = a.login(), b.login()
    dev_mode(a.http, on_a)
    edit_script(a.http, on_a, v1.guid("A"), EDITED)
    wait_until(
        lambda: detail(b.http, on_b, v1.guid("A"))["payload"]["script"] == EDITED, "node b to see the edit"
    )

    install(v2, tmp_path / "staging")  # the product upgrade, synced through node a
    synced = a.http.post("/api/assemblies/official/sync", headers=on_a)
    assert synced.status_code == 200, synced.text
    expected = {"A": "update_available", "B": "current", "C": "removed_upstream", "D": "current"}
    seen: list[dict[str, str]] = []

    def b_shows_the_states() -> bool:
        seen.append(upstream_states(b.http, on_b))
        return seen[-1] == expected

    try:
        wait_until(b_shows_the_states, "node b to see the upgrade's states")
    except AssertionError as exc:  # say what b showed (it failed once under load)
        shown = seen[-1] if seen else None
        raise AssertionError(f"{exc}; b showed {shown}, a {upstream_states(a.http, on_a)}") from None
    assert detail(b.http, on_b, v1.guid("A"))["payload"]["script"] == EDITED
    assert detail(b.http, on_b, v1.guid("B"))["payload"]["script"] == "Write-Host 'B v2'\n"
    assert b.http.get("/api/health").json()["official_upstream"] == {
        "update_available": 1,
        "removed_upstream": 1,
    }

    dev_mode(b.http, on_b)
    taken = b.http.post(
        f"/api/assemblies/{v1.guid('A')}/upstream", json={"action": "take_upstream"}, headers=on_b
    )
    assert taken.status_code == 200, taken.text
    wait_until(
        lambda: detail(a.http, on_a, v1.guid("A"))["upstream"]["state"] == "current",
        "node a to see the choice",
    )
    assert detail(a.http, on_a, v1.guid("A"))["payload"]["script"] == "Write-Host 'A v2'\n"
