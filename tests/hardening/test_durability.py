"""Durability under obstruction: a change that is not durable leaves no trace anywhere.

Each test runs real ``assemblies serve`` processes on real SQLite files and payload
folders, and obstructs them the way a real deployment meets trouble: another process
holding the journal locked, a kill at a chosen moment of the staging mirror or of the
journal/audit sequence (the engine's failpoints, ``ENGINE_FAILPOINT``), an official sync
while Dev Mode writes go on, and a domain database that refuses one row.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from assembly_engine.storage.formats.audit_chain import verify_file
from tests.engine_process import EngineProcess
from tests.hardening.support import dev_mode_headers, new_script, running
from tests.support import wait_until

REPO_STAGING = Path(__file__).resolve().parents[2] / "Data" / "Engine" / "Assemblies"
FAST_LOCKS = {
    "ENGINE_LOCK_RETRY_SECONDS": "1.0",
    "ENGINE_SQLITE_BUSY_TIMEOUT_MS": "100",
    "ENGINE_DEV_MODE_TTL_SECONDS": "86400",
}


def rows_of(database: Path) -> dict[str, tuple[int, str]]:
    """guid -> (revision, payload_guid) as the database file holds them."""
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            g: (r, p)
            for g, r, p in conn.execute("SELECT assembly_guid, revision, payload_guid FROM assemblies")
        }
    finally:
        conn.close()


@contextmanager
def journal_locked(journal: Path) -> Iterator[None]:
    """Hold ``BEGIN EXCLUSIVE`` on the journal from another connection (as another process
    would): the engine's appends wait for it until their retry budget runs out."""
    conn = sqlite3.connect(str(journal), isolation_level=None, timeout=10)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


# -- 1. a failed journal append leaves no trace --------------------------------------------


def test_a_change_refused_because_the_journal_is_locked_leaves_no_trace(tmp_path: Path) -> None:
    """The flush runs every 0.1 s while an update waits on a locked journal: the update is
    refused, and neither the database nor the payload folders show any sign of it."""
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging, flush_interval=0.1, extra_env=FAST_LOCKS)
    runtime = home / "Assemblies"
    with running(engine):
        headers = engine.login()
        with engine.client() as http:
            created = http.post("/api/assemblies", json=new_script("first"), headers=headers)
            assert created.status_code == 201, created.text
            guid = created.json()["assembly_guid"]
            wait_until(
                lambda: rows_of(runtime / "user_created.db").get(guid, (0,))[0] == 1,
                "the create to be flushed",
            )
            first_payload = rows_of(runtime / "user_created.db")[guid][1]
            folders_before = {p.name for p in (runtime / "Payloads").iterdir()}

            with journal_locked(runtime / "journal.db"):
                refused = http.put(
                    f"/api/assemblies/{guid}", headers=headers, json={"payload": {"script": "echo second\n"}}
                )
                time.sleep(0.5)  # several flush rounds while the lock is still held
            assert refused.status_code == 503, refused.text
            assert "not made" in refused.json()["message"]

            assert rows_of(runtime / "user_created.db")[guid] == (1, first_payload)
            assert {p.name for p in (runtime / "Payloads").iterdir()} == folders_before
            detail = http.get(f"/api/assemblies/{guid}", headers=headers)
            assert detail.status_code == 200, detail.text
            assert detail.json()["revision"] == 1
            assert detail.json()["payload"]["script"] == "echo first\n"

            # the journal is free again: the same change now works
            again = http.put(
                f"/api/assemblies/{guid}",
                headers=headers,
                json={"payload": {"script": "echo second\n"}, "expected_revision": 1},
            )
            assert again.status_code == 200, again.text

    with running(EngineProcess(home, staging, extra_env=FAST_LOCKS)) as restarted:
        detail = httpx.get(f"{restarted.url}/api/assemblies/{guid}", headers=restarted.login())
        assert detail.status_code == 200, detail.text
        assert (detail.json()["revision"], detail.json()["payload"]["script"]) == (2, "echo second\n")


def test_creates_refused_under_a_locked_journal_never_reach_the_database(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging, flush_interval=0.1, extra_env=FAST_LOCKS)
    runtime = home / "Assemblies"
    with running(engine):
        headers = engine.login()
        answers: list[httpx.Response] = []

        def create(token: str) -> None:
            with engine.client() as http:
                answers.append(http.post("/api/assemblies", json=new_script(token), headers=headers))

        with journal_locked(runtime / "journal.db"):
            threads = [threading.Thread(target=create, args=(f"refused-{i}",)) for i in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            time.sleep(0.3)
        assert [a.status_code for a in answers] == [503] * 6, [a.text for a in answers]
        time.sleep(0.3)  # flush rounds after the lock is gone
        assert rows_of(runtime / "user_created.db") == {}
        listed = httpx.get(f"{engine.url}/api/assemblies", headers=headers).json()
        assert listed["total"] == 0
        assert [p for p in (runtime / "Payloads").iterdir() if not p.name.startswith(".")] == []


def cli(engine: EngineProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "assembly_engine.cli.main",
        "--home",
        str(engine.home),
        "--staging-root",
        str(engine.staging_root),
        *args,
    ]
    return subprocess.run(command, env=engine.env, capture_output=True, text=True, timeout=180)


# -- 4. one entry a database refuses never blocks its domain --------------------------------

REFUSE_POISON = """CREATE TRIGGER refuse_poison BEFORE INSERT ON assemblies
WHEN NEW.display_name LIKE 'durable poison%'
BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"""


def test_an_entry_its_database_refuses_is_isolated_and_the_rest_is_written(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging, flush_interval=0.2, extra_env=FAST_LOCKS)
    database = home / "Assemblies" / "user_created.db"
    with running(engine):
        headers = engine.login()
        conn = sqlite3.connect(str(database), isolation_level=None, timeout=10)
        conn.execute(REFUSE_POISON)
        with engine.client() as http:
            poison = http.post("/api/assemblies", json=new_script("poison"), headers=headers).json()
            good = [
                http.post("/api/assemblies", json=new_script(f"good-{i}"), headers=headers).json()
                for i in range(5)
            ]
            wait_until(
                lambda: {g["assembly_guid"] for g in good} <= rows_of(database).keys(),
                "the good entries to be written despite the refused one",
            )
            assert poison["assembly_guid"] not in rows_of(database)

            record = wait_until(
                lambda: (
                    (r := http.get(f"/api/assemblies/{poison['assembly_guid']}", headers=headers).json())[
                        "flush_error"
                    ]
                    and r
                ),
                "the refused entry to show its error",
            )
            assert record["is_dirty"] is True
            assert "refused by the test trigger" in record["flush_error"]
            queue = http.get("/api/assemblies/queue", headers=headers).json()["domains"]["user"]
            assert queue["pending"] == 1
            assert [i["assembly_guid"] for i in queue["items"]] == [poison["assembly_guid"]]
            assert "refused by the test trigger" in queue["items"][0]["flush_error"]
            assert poison["assembly_guid"] in queue["last_error"]
            status = cli(engine, "status")
            assert status.returncode == 0, status.stderr
            assert poison["assembly_guid"] in status.stdout and "cannot be written" in status.stdout
            assert poison["assembly_guid"] in engine.output()

            # later changes to the domain keep being written while the entry stays refused
            later = http.post("/api/assemblies", json=new_script("later"), headers=headers).json()
            wait_until(lambda: later["assembly_guid"] in rows_of(database), "a later change to be written")

            conn.execute("DROP TRIGGER refuse_poison")  # the cause is fixed: it is written too
            wait_until(
                lambda: poison["assembly_guid"] in rows_of(database), "the refused entry to be written"
            )
            record = http.get(f"/api/assemblies/{poison['assembly_guid']}", headers=headers).json()
            assert (record["is_dirty"], record["flush_error"]) == (False, None)
            queue = http.get("/api/assemblies/queue", headers=headers).json()["domains"]["user"]
            assert (queue["pending"], queue["last_error"]) == (0, None)
        conn.close()


def test_a_flush_waiting_on_a_locked_database_says_so(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    env = {**FAST_LOCKS, "ENGINE_LOCK_RETRY_SECONDS": "5"}
    engine = EngineProcess(home, staging, flush_interval=0.2, extra_env=env)
    database = home / "Assemblies" / "user_created.db"
    with running(engine):
        headers = engine.login()
        with engine.client() as http:
            conn = sqlite3.connect(str(database), isolation_level=None, timeout=10)
            conn.execute("BEGIN IMMEDIATE")
            created = http.post("/api/assemblies", json=new_script("waits"), headers=headers)
            assert created.status_code == 201, created.text
            queue = wait_until(
                lambda: (
                    (q := http.get("/api/assemblies/queue", headers=headers).json()["domains"]["user"])[
                        "waiting_since"
                    ]
                    and q
                ),
                "the queue to show the flush waiting on the lock",
            )
            assert queue["last_error"].startswith("waiting on a lock since ")
            conn.execute("ROLLBACK")
            conn.close()
            wait_until(lambda: created.json()["assembly_guid"] in rows_of(database), "the flush")
            queue = http.get("/api/assemblies/queue", headers=headers).json()["domains"]["user"]
            assert (queue["waiting_since"], queue["last_error"]) == (None, None)


# -- 3. official sync while Dev Mode writes go on -------------------------------------------


def acknowledged_official_survive(
    engine: EngineProcess, headers: dict[str, str], acked: dict[str, str | None]
) -> None:
    with engine.client() as http:
        for guid, script in acked.items():
            answer = http.get(f"/api/assemblies/{guid}", headers=headers)
            if script is None:
                assert answer.status_code == 404, answer.text
            else:
                assert answer.status_code == 200, answer.text
                assert answer.json()["payload"]["script"] == script


class OfficialWriter:
    """Creates, updates and deletes official assemblies through Dev Mode, remembering every
    acknowledged state (guid -> script, None once deleted) and every unexpected answer."""

    def __init__(self, engine: EngineProcess, headers: dict[str, str], seed: int) -> None:
        self.engine, self.headers, self.seed = engine, headers, seed
        self.acked: dict[str, str | None] = {}
        self.unexpected: list[str] = []

    def run(self, stop: threading.Event) -> None:
        with self.engine.client() as http:
            for step in range(10_000):
                if stop.is_set():
                    return
                try:
                    self.step(http, step)
                except httpx.HTTPError:
                    return  # the engine was killed: that answer is lost (see step)

    def step(self, http: httpx.Client, step: int) -> None:
        live = [g for g, s in self.acked.items() if s is not None]
        token = f"{self.seed}-{step}-{uuid.uuid4().hex[:6]}"
        if step % 3 == 0 or not live:
            answer = http.post("/api/assemblies", json=new_script(token, "official"), headers=self.headers)
            if answer.status_code == 201:
                self.acked[answer.json()["assembly_guid"]] = f"echo {token}\n"
        else:
            guid = live[step % len(live)]
            script = self.acked.pop(guid)  # unknown until answered: a lost answer may have won
            if step % 7 == 0:
                answer = http.delete(f"/api/assemblies/{guid}", headers=self.headers)
                self.acked[guid] = None if answer.status_code == 202 else script
            else:
                answer = http.put(
                    f"/api/assemblies/{guid}",
                    headers=self.headers,
                    json={"payload": {"script": f"echo {token}\n"}},
                )
                self.acked[guid] = f"echo {token}\n" if answer.status_code == 200 else script
        if answer.status_code not in (200, 201, 202, 503):
            self.unexpected.append(f"{answer.status_code} {answer.text[:200]}")


def test_official_sync_during_dev_mode_writes_is_atomic_and_loses_nothing(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    shutil.copytree(REPO_STAGING, staging)
    engine = EngineProcess(home, staging, flush_interval=0.3, extra_env=FAST_LOCKS)
    with running(engine):
        headers = dev_mode_headers(engine)
        writers = [OfficialWriter(engine, headers, seed) for seed in range(3)]
        stop = threading.Event()
        threads = [threading.Thread(target=w.run, args=(stop,)) for w in writers]
        for thread in threads:
            thread.start()
        syncs: list[int] = []
        try:
            with engine.client() as http:
                for _ in range(40):
                    answer = http.post("/api/assemblies/official/sync", headers=headers)
                    syncs.append(answer.status_code)
                    assert answer.status_code in (200, 503), answer.text
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert syncs.count(200) >= 30, syncs
        assert [u for w in writers for u in w.unexpected] == []
        acked = {g: s for w in writers for g, s in w.acked.items()}
        assert len(acked) > 10

        acknowledged_official_survive(engine, headers, acked)
        with engine.client() as http:
            flushed = http.post("/api/assemblies/dev-mode/write", headers=headers, json={})
            assert flushed.status_code == 200, flushed.text
            assert http.get("/api/assemblies/queue", headers=headers).json()["depth"] == 0
            final_sync = http.post("/api/assemblies/official/sync", headers=headers)
            assert final_sync.status_code == 200 and final_sync.json()["matches"], final_sync.text
            for guid, script in acked.items():
                answer = http.get(f"/api/assemblies/{guid}", headers=headers)
                assert answer.status_code == (404 if script is None else 200), answer.text
        assert engine.stop() == 0
    with sqlite3.connect(str(home / "Assemblies" / "journal.db")) as conn:
        assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0
    verified = cli(engine, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


# -- 2. a kill inside the staging mirror never leaves an engine that cannot start -----------


def test_the_engine_boots_after_a_kill_inside_the_staging_mirror(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    shutil.copytree(REPO_STAGING, staging)
    staged_before = rows_of(staging / "official.db")
    crashing = EngineProcess(
        home,
        staging,
        flush_interval=0.2,
        extra_env={**FAST_LOCKS, "ENGINE_FAILPOINT": f"before-commit:{staging / 'official.db'}"},
    )
    crashing.start()
    headers = dev_mode_headers(crashing)
    created = httpx.post(
        f"{crashing.url}/api/assemblies", headers=headers, timeout=30, json=new_script("mirrored", "official")
    )
    assert created.status_code == 201, created.text
    guid = created.json()["assembly_guid"]
    assert crashing.proc is not None
    assert crashing.proc.wait(timeout=30) == -9  # killed itself inside the mirror's commit
    assert (staging / "official.db-journal").exists()

    with running(EngineProcess(home, staging, flush_interval=0.2, extra_env=FAST_LOCKS)) as engine:
        headers = engine.login()
        detail = httpx.get(f"{engine.url}/api/assemblies/{guid}", headers=headers)
        assert detail.status_code == 200, detail.text  # replayed from the journal
        assert detail.json()["payload"]["script"] == "echo mirrored\n"
        wait_until(lambda: guid in rows_of(staging / "official.db"), "the mirror to catch up")
        assert rows_of(staging / "official.db").keys() == staged_before.keys() | {guid}


SPILLING_WRITER = r"""
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")  # spill changed pages into the file before the commit
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE assemblies SET summary = hex(randomblob(200))")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_engine_boots_after_a_writer_died_with_the_staging_file_half_written(tmp_path: Path) -> None:
    """The worst moment: pages of an unfinished write are already in official.db. The boot
    must roll them back (from official.db-journal), not read them or refuse to start."""
    home, staging = tmp_path / "home", tmp_path / "staging"
    shutil.copytree(REPO_STAGING, staging)
    summaries = dict(
        sqlite3.connect(str(staging / "official.db"))
        .execute("SELECT assembly_guid, summary FROM assemblies")
        .fetchall()
    )
    died = subprocess.run([sys.executable, "-c", SPILLING_WRITER, str(staging / "official.db")])
    assert died.returncode == -9
    assert (staging / "official.db-journal").exists()
    with running(EngineProcess(home, staging, extra_env=FAST_LOCKS)) as engine:
        listed = httpx.get(
            f"{engine.url}/api/assemblies",
            params={"domain": "official", "limit": 500},
            headers=engine.login(),
        ).json()["items"]
        assert {i["assembly_guid"]: i["summary"] for i in listed} == summaries


# -- 5. verify reads what a restart would load; boot clears a crash's temp folders ----------


def test_verify_checks_database_rows_not_only_cached_records(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging, extra_env=FAST_LOCKS)
    runtime = home / "Assemblies"
    with running(engine):
        headers = dev_mode_headers(engine)
        with engine.client() as http:
            created = http.post("/api/assemblies", json=new_script("rows"), headers=headers)
            guid = created.json()["assembly_guid"]
            assert http.post("/api/assemblies/dev-mode/write", headers=headers, json={}).status_code == 200
            persisted_payload = rows_of(runtime / "user_created.db")[guid][1]
            updated = http.put(
                f"/api/assemblies/{guid}", headers=headers, json={"payload": {"script": "echo queued\n"}}
            )
            assert updated.status_code == 200  # queued: the row still points at the old folder
            shutil.rmtree(runtime / "Payloads" / persisted_payload)
            report = cli(engine, "verify", "--json")
    assert report.returncode != 0, report.stdout
    assert f'"payload_guid": "{persisted_payload}"' in report.stdout
    missing = json.loads(report.stdout)["missing"]
    # the row and revision 1 (kept in the history) both point at it
    assert [(m["assembly_guid"], m["payload_guid"], m["where"]) for m in missing] == [
        (guid, persisted_payload, ["database", "history"])
    ]


def test_boot_removes_temp_folders_a_crash_left(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    payloads = home / "Assemblies" / "Payloads"
    with running(EngineProcess(home, staging)):
        pass
    left = [payloads / f".tmp-{uuid.uuid4().hex}-crash{i}" for i in range(3)]
    for folder in left:
        folder.mkdir()
        (folder / "script.ps1").write_text("half written")
    with running(EngineProcess(home, staging)):
        assert [p for p in left if p.exists()] == []


# -- 5. a change and its audit entry are one durable unit -----------------------------------


def audit_entries(home: Path, guid: str) -> list[dict[str, Any]]:
    lines = (home / "Logs" / "audit.log").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["assembly_guid"] == guid]


def test_a_kill_between_the_journal_and_the_audit_log_is_made_good_at_the_next_start(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    crashing = EngineProcess(home, staging, extra_env={"ENGINE_FAILPOINT": "after-journal-commit"})
    crashing.start()
    headers = crashing.login()
    with pytest.raises(httpx.HTTPError):  # the engine dies before it can answer
        httpx.post(
            f"{crashing.url}/api/assemblies", json=new_script("unaudited"), headers=headers, timeout=30
        )
    assert crashing.proc is not None and crashing.proc.wait(timeout=30) == -9

    with running(EngineProcess(home, staging)) as engine:
        headers = engine.login()
        listed = httpx.get(f"{engine.url}/api/assemblies", headers=headers).json()["items"]
        assert [i["summary"] for i in listed] == ["unaudited"]  # durable: replayed
        guid = listed[0]["assembly_guid"]
        entries = audit_entries(home, guid)
        assert [(e["action"], e["outcome"], e["user"]) for e in entries] == [
            ("assembly.create", "success", "admin")
        ]
        assert "recorded at the next start" in entries[0]["detail"]
        assert verify_file(home / "Logs" / "audit.log").ok
        engine.kill()  # the change is still only in the journal: replayed again next time

    with running(EngineProcess(home, staging)):
        assert len(audit_entries(home, guid)) == 1  # recorded once, not again
        assert verify_file(home / "Logs" / "audit.log").ok


def test_changes_replayed_after_a_kill_keep_exactly_one_audit_entry(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    engine = EngineProcess(home, staging).start()
    headers = engine.login()
    with engine.client() as http:
        guid = http.post("/api/assemblies", json=new_script("once"), headers=headers).json()["assembly_guid"]
        updated = http.put(f"/api/assemblies/{guid}", json={"summary": "twice"}, headers=headers)
        assert updated.status_code == 200
    engine.kill()  # before any flush: both changes are replayed from the journal
    with running(EngineProcess(home, staging)):
        actions = [(e["action"], e["detail"]) for e in audit_entries(home, guid)]
        assert actions == [("assembly.create", "durable once"), ("assembly.update", "revision 2")]


# -- the kill campaign at the moments above ---------------------------------------------


@pytest.mark.parametrize("trial", range(3))
def test_kill_during_official_sync_with_dev_mode_writes(tmp_path: Path, trial: int) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    shutil.copytree(REPO_STAGING, staging)
    engine = EngineProcess(home, staging, flush_interval=0.3, extra_env=FAST_LOCKS).start()
    headers = dev_mode_headers(engine)
    writers = [OfficialWriter(engine, headers, seed) for seed in range(2)]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in writers]
    for thread in threads:
        thread.start()

    def sync_forever() -> None:
        with engine.client() as http:
            for _ in range(1000):
                if stop.is_set():
                    return
                try:
                    http.post("/api/assemblies/official/sync", headers=headers)
                except httpx.HTTPError:
                    return

    syncer = threading.Thread(target=sync_forever)
    syncer.start()
    time.sleep(0.8 + 0.6 * trial)
    engine.kill()
    stop.set()
    for thread in [*threads, syncer]:
        thread.join()
    acked = {g: s for w in writers for g, s in w.acked.items()}
    # an answer lost to the kill may or may not have happened: only answered ones count
    with running(EngineProcess(home, staging, flush_interval=0.3, extra_env=FAST_LOCKS)) as again:
        headers = dev_mode_headers(again)
        acknowledged_official_survive(again, headers, acked)
        synced = httpx.post(f"{again.url}/api/assemblies/official/sync", headers=headers, timeout=60)
        assert synced.status_code == 200, synced.text
        acknowledged_official_survive(again, headers, acked)
        verified = cli(again, "verify", "--json")
        assert '"missing": []' in verified.stdout and '"corrupt": []' in verified.stdout, verified.stdout


def test_kill_while_changes_wait_on_a_locked_journal(tmp_path: Path) -> None:
    home, staging = tmp_path / "home", tmp_path / "staging"
    staging.mkdir()
    env = {**FAST_LOCKS, "ENGINE_LOCK_RETRY_SECONDS": "20"}
    engine = EngineProcess(home, staging, flush_interval=0.1, extra_env=env).start()
    headers = engine.login()
    runtime = home / "Assemblies"
    with engine.client() as http:
        acked = [
            http.post("/api/assemblies", json=new_script(f"before-{i}"), headers=headers).json()
            for i in range(3)
        ]
    waiting: list[BaseException | httpx.Response] = []

    def write(token: str) -> None:
        try:
            with engine.client() as http:
                waiting.append(http.post("/api/assemblies", json=new_script(token), headers=headers))
        except httpx.HTTPError as exc:
            waiting.append(exc)

    folders = runtime / "Payloads"

    def written() -> int:  # payload folders complete (a folder being written is a .tmp-*)
        return sum(not p.name.startswith(".") for p in folders.iterdir())

    before = written()
    with journal_locked(runtime / "journal.db"):
        threads = [threading.Thread(target=write, args=(f"waiting-{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        # A create writes its payload folder, then waits on the journal's lock.
        wait_until(lambda: written() == before + 4, "the four creates to reach the locked journal")
        engine.kill()
        for thread in threads:
            thread.join()
    assert all(isinstance(w, httpx.HTTPError) for w in waiting), waiting  # none was answered

    with running(EngineProcess(home, staging, extra_env=FAST_LOCKS)) as again:
        listed = httpx.get(f"{again.url}/api/assemblies", headers=again.login()).json()["items"]
        assert sorted(i["summary"] for i in listed) == sorted(a["summary"] for a in acked)
        verified = cli(again, "verify", "--json")
        assert '"missing": []' in verified.stdout and '"corrupt": []' in verified.stdout, verified.stdout
