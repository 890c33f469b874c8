"""Script check results on a cluster: one table of results shared by the nodes, so a node
shows what another node checked without checking it again (real nodes, real PostgreSQL)."""

from __future__ import annotations

import httpx

from tests.checks.engine_checks import checks_of, create, outcomes, unchecked
from tests.cluster.nodes import NodeFactory
from tests.support import wait_until


def test_a_node_shows_what_another_node_checked(node: NodeFactory) -> None:
    a = node("a")
    on_a = a.login()
    guid = create(a, on_a, "checked on A", "powershell", "function Get-Broken {\n")
    on_a_checks = wait_until(lambda: checks_of(a, on_a, f"/api/assemblies/{guid}"), "A's check")
    assert on_a_checks["has_errors"] is True

    b = node("b", ENGINE_CHECK_SWEEP_SECONDS="1")
    on_b = b.login()
    assert checks_of(b, on_b, f"/api/assemblies/{guid}") == on_a_checks  # stored by A
    wait_until(lambda: unchecked(b, on_b) == 0, "B's list counts")
    errors = b.http.get("/api/assemblies?category=stored-checks&checks=errors", headers=on_b).json()
    assert [item["assembly_guid"] for item in errors["items"]] == [guid]
    counted = outcomes(b, on_b)
    assert counted.get("checked", 0) == 0 and counted.get("stored", 0) >= 1, counted

    # What A writes while B runs reaches B's list too (B's sweep: stored, or checked).
    later = create(a, on_a, "later on A", "bash", "#!/bin/bash\necho fine\n")
    wait_until(lambda: checks_of(a, on_a, f"/api/assemblies/{later}"), "A's check of the later one")
    wait_until(
        lambda: httpx.get(f"{b.url}/api/assemblies/{later}", headers=on_b, timeout=30).status_code == 200,
        "B to serve the later one",
    )
    wait_until(lambda: unchecked(b, on_b) == 0, "B's list counts of the later one")
