"""Official upgrades on a real engine (Docs/official-library.md, "Upgrades"): ship v1, edit
assemblies here, ship v2 changing some and dropping one; nothing local is lost, the vendor's
versions wait in history, and an admin in Dev Mode takes or keeps each one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.engine_process import EngineProcess
from tests.support import ADMIN_PASSWORD
from tests.upgrade_support import (
    Release,
    detail,
    dev_mode,
    edit_script,
    install,
    ship_v1,
    ship_v2,
    upstream_states,
)

NAMES = ["A", "B", "C", "D", "E"]
LOCAL = {"A": "Write-Host 'A edited here'\n", "E": "Write-Host 'E edited here'\n"}
VENDOR = {"A": "Write-Host 'A v2'\n", "B": "Write-Host 'B v2'\n", "E": "Write-Host 'E v2'\n"}


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[tuple[EngineProcess, Release, dict[str, str]]]:
    """An engine that ran v1 with A and E edited in Dev Mode, restarted on v2 (A, B, E
    changed by the vendor, C dropped); yields it with v2 and an admin's Dev Mode headers."""
    v1 = ship_v1(tmp_path / "vendor-v1", NAMES)
    v2 = ship_v2(v1, tmp_path / "vendor-v2", VENDOR, ["C"])
    home, staging = tmp_path / "home", tmp_path / "staging"
    install(v1, staging)
    engine = EngineProcess(home, staging).start()
    try:
        headers = engine.login()
        dev_mode(engine.http, headers)
        for name, text in LOCAL.items():
            edit_script(engine.http, headers, v1.guid(name), text)
        written = engine.http.post("/api/assemblies/dev-mode/write", json={}, headers=headers)
        assert written.status_code == 200, written.text
        assert engine.stop() == 0
        install(v2, staging)
        engine = EngineProcess(home, staging).start()
        headers = engine.login()
        dev_mode(engine.http, headers)
        yield engine, v2, headers
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            engine.kill()


def _audit(engine: EngineProcess, action: str) -> list[dict[str, Any]]:
    lines = (engine.home / "Logs" / "audit.log").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("action") == action]


def test_an_upgrade_keeps_local_edits_follows_the_vendor_elsewhere_and_keeps_dropped_ones(
    upgraded: tuple[EngineProcess, Release, dict[str, str]],
) -> None:
    engine, v2, headers = upgraded
    http = engine.http
    assert upstream_states(http, headers) == {
        "A": "update_available",
        "B": "current",
        "C": "removed_upstream",
        "D": "current",
        "E": "update_available",
    }
    a = detail(http, headers, v2.guid("A"))
    assert a["payload"]["script"] == LOCAL["A"]  # the local text stays current
    assert "upstream" not in a["metadata"]  # the engine's bookkeeping is shown as `upstream` only
    vendor_revision = a["upstream"]["revision"]
    history = http.get(f"/api/assemblies/{v2.guid('A')}/revisions", headers=headers).json()["items"]
    by_number = {item["revision"]: item for item in history}
    assert by_number[vendor_revision]["action"] == "upstream"
    vendor = http.get(f"/api/assemblies/{v2.guid('A')}/revisions/{vendor_revision}", headers=headers)
    assert vendor.json()["payload"]["script"] == VENDOR["A"]
    base = http.get(
        f"/api/assemblies/{v2.guid('A')}/revisions/{a['upstream']['base_revision']}", headers=headers
    )
    assert base.json()["payload"]["script"] == "Write-Host 'hi'\n"  # the three-way diff's vendor base
    assert detail(http, headers, v2.guid("B"))["payload"]["script"] == VENDOR["B"]  # followed silently
    assert detail(http, headers, v2.guid("C"))["payload"]["script"] == "Write-Host 'hi'\n"  # kept
    health = http.get("/api/health").json()
    assert health["official_upstream"] == {"update_available": 2, "removed_upstream": 1}
    status = subprocess.run(
        [sys.executable, "-m", "assembly_engine.cli.main", "status", "--json"],
        env=engine.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["official_upstream"] == health["official_upstream"]

    attention = http.get("/api/assemblies", params={"upstream": "attention"}, headers=headers).json()
    assert sorted(i["display_name"] for i in attention["items"]) == ["A", "C", "E"]
    only = http.get("/api/assemblies", params={"upstream": "removed_upstream"}, headers=headers).json()
    assert [i["display_name"] for i in only["items"]] == ["C"]

    taken = http.post(
        f"/api/assemblies/{v2.guid('A')}/upstream",
        json={"action": "take_upstream", "expected_revision": a["revision"]},
        headers=headers,
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["upstream"]["state"] == "current" and taken.json()["revision"] == a["revision"] + 1
    assert detail(http, headers, v2.guid("A"))["payload"]["script"] == VENDOR["A"]

    kept = http.post(
        f"/api/assemblies/{v2.guid('E')}/upstream", json={"action": "keep_local"}, headers=headers
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["upstream"]["state"] == "current"
    assert detail(http, headers, v2.guid("E"))["payload"]["script"] == LOCAL["E"]
    dropped = http.post(
        f"/api/assemblies/{v2.guid('C')}/upstream", json={"action": "keep_local"}, headers=headers
    )
    assert dropped.status_code == 200, dropped.text

    outcomes = [(e["assembly_guid"], e["outcome"]) for e in _audit(engine, "assembly.upstream")]
    assert outcomes == [(v2.guid(n), "success") for n in ("A", "E", "C")]
    # the same copy synced again asks nothing: every choice holds
    resynced = http.post("/api/assemblies/official/sync", headers=headers)
    assert resynced.status_code == 200 and resynced.json()["matches"], resynced.text
    assert set(upstream_states(http, headers).values()) == {"current"}
    assert detail(http, headers, v2.guid("E"))["payload"]["script"] == LOCAL["E"]
    assert detail(http, headers, v2.guid("A"))["payload"]["script"] == VENDOR["A"]
    # health's counts are kept between changes, and follow each change
    assert http.get("/api/health").json()["official_upstream"] == {
        "update_available": 0,
        "removed_upstream": 0,
    }


def test_every_bad_choice_is_refused_clearly_and_changes_nothing(
    upgraded: tuple[EngineProcess, Release, dict[str, str]],
) -> None:
    engine, v2, headers = upgraded
    http = engine.http
    guid = v2.guid("A")
    before = detail(http, headers, guid)

    def choose(target: str, body: Any, with_headers: dict[str, str] = headers) -> httpx.Response:
        return http.post(f"/api/assemblies/{target}/upstream", json=body, headers=with_headers)

    created = http.post(
        "/api/assemblies",
        json={
            "domain": "user",
            "display_name": "Mine",
            "assembly_kind": "script",
            "assembly_type": "powershell",
            "payload": {"script": "Write-Host 'mine'\n"},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    users = http.post(
        "/api/users",
        json={
            "username": "olga",
            "password": "operator-password-1",
            "role": "operator",
            "current_password": ADMIN_PASSWORD,
        },
        headers=headers,
    )
    assert users.status_code == 201, users.text
    operator = engine.login("olga", "operator-password-1")
    no_dev_mode = engine.login()

    refusals = [
        (choose("0" * 32, {"action": "take_upstream"}), 404, "not_found"),
        (choose(created.json()["assembly_guid"], {"action": "take_upstream"}), 422, "invalid_document"),
        (choose(guid, {"action": "take_it"}), 422, "invalid_document"),
        (choose(guid, {}), 422, "invalid_document"),
        (
            choose(guid, {"action": "keep_local", "expected_revision": before["revision"] - 1}),
            409,
            "conflict",
        ),
        (choose(guid, {"action": "keep_local"}, operator), 403, "forbidden"),
        (choose(guid, {"action": "keep_local"}, no_dev_mode), 403, "dev_mode_required"),
        (choose(v2.guid("D"), {"action": "take_upstream"}), 409, "conflict"),  # nothing upstream
        (choose(v2.guid("C"), {"action": "take_upstream"}), 409, "conflict"),  # removed: nothing to take
    ]
    for answer, status, code in refusals:
        assert (answer.status_code, answer.json()["error"]) == (status, code), answer.text
        assert answer.json()["message"]
    assert "removed upstream" in refusals[-1][0].json()["message"]
    assert "no vendor change waiting" in refusals[-2][0].json()["message"]
    after = detail(http, headers, guid)
    assert (after["revision"], after["upstream"], after["payload"]) == (
        before["revision"],
        before["upstream"],
        before["payload"],
    )
    assert upstream_states(http, headers)["C"] == "removed_upstream"
    denied = [e["outcome"] for e in _audit(engine, "assembly.upstream")]
    assert "success" not in denied and "denied" in denied
