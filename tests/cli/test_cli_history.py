"""``assemblies history / diff / restore / undelete / history prune``, as real subprocesses
against a running engine (over HTTP) and in-process (no engine running)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.support import Cli
from tests.engine_process import EngineProcess


def make_assembly(engine: EngineProcess, headers: dict[str, str]) -> str:
    """Revision 1 "alpha", revision 2 renamed with a new script."""
    with engine.client() as http:
        created = http.post(
            "/api/assemblies",
            headers=headers,
            json={
                "display_name": "Alpha",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": "echo one\necho two\n"},
            },
        )
        assert created.status_code == 201, created.text
        guid: str = created.json()["assembly_guid"]
        updated = http.put(
            f"/api/assemblies/{guid}",
            headers=headers,
            json={"display_name": "Beta", "payload": {"script": "echo one\necho 2\n"}},
        )
        assert updated.status_code == 200, updated.text
    return guid


@pytest.fixture
def engine_and_guid(running: EngineProcess) -> Iterator[tuple[EngineProcess, dict[str, str], str]]:
    headers = running.login()
    yield running, headers, make_assembly(running, headers)


def test_history_lists_revisions_as_a_table_and_as_json(
    cli: Cli,
    engine_and_guid: tuple[EngineProcess, dict[str, str], str],
) -> None:
    _, _, guid = engine_and_guid
    body = cli.json("history", guid)
    assert [(i["revision"], i["action"]) for i in body["items"]] == [(2, "update"), (1, "create")]
    table = cli.ok("history", guid)
    assert "2 revision(s), current" in table
    assert "display_name, payload" in table and "create" in table
    assert cli.json("history", "show", guid) == body  # the explicit form
    failed = cli.run("history", "f" * 32)
    assert failed.returncode == 1 and "No assembly with id" in failed.stderr
    bad = cli.run("history", "not-a-guid")
    assert bad.returncode == 1 and "is not an assembly id" in bad.stderr


def test_diff_shows_changed_fields_and_a_unified_diff(
    cli: Cli,
    engine_and_guid: tuple[EngineProcess, dict[str, str], str],
) -> None:
    _, _, guid = engine_and_guid
    out = cli.ok("diff", guid, "1")  # against the current revision
    assert 'display_name: "Alpha" -> "Beta"' in out
    assert f"--- {guid} revision 1" in out and f"+++ {guid} revision 2" in out
    assert "-echo two" in out and "+echo 2" in out and " echo one" in out
    data = cli.json("diff", guid, "2", "1")
    assert data["fields"] == {"display_name": {"a": "Beta", "b": "Alpha"}}
    assert "+echo two" in data["diff"]
    assert "are the same" in cli.ok("diff", guid, "2", "2")
    missing = cli.run("diff", guid, "7")
    assert missing.returncode == 1 and "has no revision 7" in missing.stderr
    usage = cli.run("diff", guid, "zero")
    assert usage.returncode == 2


def test_restore_and_undelete(
    cli: Cli,
    engine_and_guid: tuple[EngineProcess, dict[str, str], str],
) -> None:
    engine, headers, guid = engine_and_guid
    stale = cli.run("restore", guid, "1", "--expected-revision", "1")
    assert stale.returncode == 1 and "current revision is 2" in stale.stderr
    out = cli.ok("restore", guid, "1")
    assert "restored revision 1 of 'Alpha' as revision 3" in out
    with engine.client() as http:
        detail: dict[str, Any] = http.get(f"/api/assemblies/{guid}", headers=headers).json()
        assert detail["payload"]["script"] == "echo one\necho two\n" and detail["revision"] == 3
        assert http.delete(f"/api/assemblies/{guid}", headers=headers).status_code == 202
    assert cli.json("history", guid)["deleted"] is True
    record = cli.json("undelete", guid)
    assert record["revision"] == 4 and record["display_name"] == "Alpha"
    again = cli.run("undelete", guid)
    assert again.returncode == 1 and "is not deleted" in again.stderr


def test_history_prune_in_process(cli: Cli) -> None:
    engine = EngineProcess(cli.home, cli.staging).start()
    try:
        headers = engine.login()
        guid = make_assembly(engine, headers)
    finally:
        engine.stop()  # flushes: both revisions are in the database
    result = cli.json("history", "prune", "--keep", "1")
    assert result["revisions_removed"] >= 1 and result["keep"] == 1
    assert len(result["payloads_removed"]) >= 1
    assert [i["revision"] for i in cli.json("history", guid)["items"]] == [2]
    human = cli.ok("history", "prune", "--keep", "1", "--trash-days", "0")
    assert "removed 0 revision(s)" in human and "trash_days=forever" in human
    bad = cli.run("history", "prune", "--keep", "-1")
    assert bad.returncode == 2


def test_diff_of_huge_revisions_is_bounded(cli: Cli, running: EngineProcess) -> None:
    """Issue 23 #15: revisions of 1.4 MB whose lines repeat (difflib's quadratic case: over
    100 s here before) are compared in seconds, as one replaced block past the exact limit."""
    import random

    headers = running.login()
    rng = random.Random(3)

    def text() -> str:
        return "".join(f"Write-Host {rng.randint(0, 300)}\n" for _ in range(100_000))

    with running.client() as http:
        created = http.post(
            "/api/assemblies",
            headers=headers,
            json={
                "display_name": "Huge",
                "assembly_kind": "script",
                "assembly_type": "powershell",
                "payload": {"script": "# head\n" + text()},
            },
        )
        assert created.status_code == 201, created.text
        guid = created.json()["assembly_guid"]
        updated = http.put(
            f"/api/assemblies/{guid}", headers=headers, json={"payload": {"script": "# head\n" + text()}}
        )
        assert updated.status_code == 200, updated.text
    started = time.monotonic()
    result = cli.run("diff", guid, "1", "2", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    diff = json.loads(result.stdout)["diff"]
    assert diff.startswith(
        f"--- {guid} revision 1\n+++ {guid} revision 2\n@@ -1,100001 +1,100001 @@\n # head\n"
    )
    assert diff.count("\n-") == 100_000 and diff.count("\n+") == 100_000 + 1  # +++ header
