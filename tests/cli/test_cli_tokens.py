"""``assemblies tokens create|list|revoke`` as a real subprocess against a running engine."""

from __future__ import annotations

import httpx

from tests.cli.support import Cli
from tests.engine_process import EngineProcess


def test_tokens_create_list_and_revoke_over_http(cli: Cli, running: EngineProcess) -> None:
    made = cli.json(
        "tokens",
        "create",
        "ci sync",
        "--owner",
        "admin",
        "--scope",
        "assemblies:read",
        "--days",
        "3",
        "--json",
    )
    assert (
        made["owner"] == "admin"
        and made["scopes"] == ["assemblies:read"]
        and made["token"].startswith("aet_")
    )
    auth = {"Authorization": f"Bearer {made['token']}"}
    assert httpx.get(f"{running.url}/api/assemblies", headers=auth, timeout=30).status_code == 200

    listed = cli.json("tokens", "list", "--json")
    assert [t["id"] for t in listed] == [made["id"]] and "token" not in listed[0]
    assert made["id"] in cli.ok("tokens", "list")

    assert f"revoked {made['id']}" in cli.ok("tokens", "revoke", made["id"])
    assert httpx.get(f"{running.url}/api/assemblies", headers=auth, timeout=30).status_code == 401
    unknown = cli.run("tokens", "revoke", "tok_unknown")
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr
    refused = cli.run("tokens", "create", "x", "--owner", "nobody", "--scope", "metrics:read")
    assert refused.returncode == 1 and "nobody" in refused.stderr
