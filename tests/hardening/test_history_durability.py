"""Version history is as durable as everything else: real ``assemblies serve`` processes,
killed with SIGKILL before or inside the flush that writes the revisions, lose none of them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.engine_process import EngineProcess
from tests.hardening.support import dev_mode_headers, new_script, running


def history(engine: EngineProcess, headers: dict[str, str], guid: str) -> list[tuple[int, str]]:
    answer = httpx.get(f"{engine.url}/api/assemblies/{guid}/revisions", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return [(i["revision"], i["action"]) for i in answer.json()["items"]]


def script_at(engine: EngineProcess, headers: dict[str, str], guid: str, revision: int) -> str:
    answer = httpx.get(
        f"{engine.url}/api/assemblies/{guid}/revisions/{revision}", headers=headers, timeout=30
    )
    assert answer.status_code == 200, answer.text
    script = answer.json()["payload"]["script"]
    assert isinstance(script, str)
    return script


def stored_revisions(database: Path, guid: str) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(
            conn.execute(
                "SELECT revision, action FROM revisions WHERE assembly_guid = ? ORDER BY revision DESC",
                (guid,),
            )
        )
    finally:
        conn.close()


EXPECTED = [(4, "update"), (3, "restore"), (2, "update"), (1, "create")]
SCRIPTS = {1: "echo first\n", 2: "echo second\n", 3: "echo first\n", 4: "echo fourth\n"}


def make_history(engine: EngineProcess, headers: dict[str, str], *, flush_first: bool) -> str:
    """create, update, (flush), restore revision 1, update: four revisions."""
    with engine.client() as http:
        body = new_script("history")
        body["payload"] = {"script": SCRIPTS[1]}
        guid: str = http.post("/api/assemblies", json=body, headers=headers).json()["assembly_guid"]
        assert (
            http.put(
                f"/api/assemblies/{guid}", json={"payload": {"script": SCRIPTS[2]}}, headers=headers
            ).status_code
            == 200
        )
        if flush_first:
            flushed = http.post("/api/assemblies/dev-mode/write", json={}, headers=headers)
            assert flushed.status_code == 200, flushed.text
        restored = http.post(
            f"/api/assemblies/{guid}/revisions/1/restore", headers=headers, json={"expected_revision": 2}
        )
        assert restored.status_code == 200, restored.text
        assert (
            http.put(
                f"/api/assemblies/{guid}", json={"payload": {"script": SCRIPTS[4]}}, headers=headers
            ).status_code
            == 200
        )
    return guid


def check_history(engine: EngineProcess, headers: dict[str, str], guid: str) -> None:
    assert history(engine, headers, guid) == EXPECTED
    for revision, script in SCRIPTS.items():
        assert script_at(engine, headers, guid, revision) == script


def test_a_kill_between_a_restore_and_its_flush_loses_no_revision(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging, extra_env={"ENGINE_DEV_MODE_TTL_SECONDS": "86400"}).start()
    headers = dev_mode_headers(engine)
    guid = make_history(engine, headers, flush_first=True)
    check_history(engine, headers, guid)
    engine.kill()  # revisions 3 and 4 are only in the journal
    database = home / "Assemblies" / "user_created.db"
    assert stored_revisions(database, guid) == EXPECTED[2:]

    with running(EngineProcess(home, staging)) as again:
        headers = again.login()
        check_history(again, headers, guid)  # replayed from the journal
    # the graceful stop flushed: every revision is in the database now
    assert stored_revisions(database, guid) == EXPECTED
    with running(EngineProcess(home, staging)) as third:
        check_history(third, third.login(), guid)


def test_a_kill_inside_the_flush_commit_keeps_rows_and_revisions_together(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    database = home / "Assemblies" / "user_created.db"
    crashing = EngineProcess(
        home,
        staging,
        extra_env={"ENGINE_DEV_MODE_TTL_SECONDS": "86400", "ENGINE_FAILPOINT": f"before-commit:{database}"},
    )
    crashing.start()
    headers = dev_mode_headers(crashing)
    guid = make_history(crashing, headers, flush_first=False)
    try:  # the flush kills the engine inside the commit of rows and revisions
        httpx.post(f"{crashing.url}/api/assemblies/dev-mode/write", json={}, headers=headers, timeout=30)
    except httpx.HTTPError:
        pass
    assert crashing.proc is not None and crashing.proc.wait(timeout=30) == -9
    assert stored_revisions(database, guid) == []  # neither rows nor revisions committed

    with running(EngineProcess(home, staging)) as again:
        check_history(again, again.login(), guid)
    assert stored_revisions(database, guid) == EXPECTED


def test_a_delete_killed_before_its_flush_stays_undeletable(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging).start()
    headers = engine.login()
    with engine.client() as http:
        guid = http.post("/api/assemblies", json=new_script("trash"), headers=headers).json()["assembly_guid"]
        assert http.delete(f"/api/assemblies/{guid}", headers=headers).status_code == 202
    engine.kill()

    with running(EngineProcess(home, staging)) as again:
        headers = again.login()
        with again.client() as http:
            listed: dict[str, Any] = http.get("/api/assemblies/deleted", headers=headers).json()
            assert [(i["assembly_guid"], i["deleted_by"]) for i in listed["items"]] == [(guid, "admin")]
            back = http.post(f"/api/assemblies/{guid}/undelete", headers=headers)
            assert back.status_code == 200, back.text
            assert back.json()["revision"] == 2
        assert history(again, headers, guid) == [(2, "undelete"), (1, "create")]
