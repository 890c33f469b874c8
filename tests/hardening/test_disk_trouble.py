"""Disk trouble: a full or unwritable disk refuses changes clearly and loses nothing.

Two kinds of trouble:

* **A real full disk.** As root (tests run as root here) an 8 MiB tmpfs is mounted on the
  engine's runtime root (``<home>/Assemblies``: databases, journal, payloads) and filled
  to the last byte; a second variant mounts it on the whole home, so the audit log and the
  engine database are full too. Skipped where mounting is not possible.
* **Injected failures.** chmod cannot stop root from writing, so the payload store's
  ``write_new``, ``os.fsync`` and ``os.rename`` (inside the payloads module only) and the
  journal append are made to raise ``OSError(EACCES / ENOSPC)``.

For each: changes acknowledged before the trouble are served during it (list + detail 200)
and survive it and a restart; every write attempted during it is refused with 503
``storage_error``, a ``Retry-After`` and a message saying nothing was changed, and changes
nothing (cache, journal, payload folders including temp folders); a flush during it answers
503 and keeps the queue; once the disk recovers, writes and flushes work again.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assembly_engine.api.app import create_app
from assembly_engine.config import Settings
from assembly_engine.services.container import EngineServices
from assembly_engine.storage.files import durable_files
from assembly_engine.storage.formats.audit_chain import FIELDS, verify_file
from assembly_engine.storage.sqlite import journal as journal_module
from assembly_engine.storage.sqlite import payload_folders as payloads_module
from tests.hardening.full_disk import Filler, mount_tmpfs, umount
from tests.support import ADMIN_PASSWORD, temp_settings

# -- an engine whose home can be restarted --------------------------------------------------


@dataclass
class Engine:
    settings: Settings
    client: TestClient | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    # guid -> (summary, script) of every acknowledged live assembly; None once deleted
    acked: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    @property
    def http(self) -> TestClient:
        assert self.client is not None
        return self.client

    @property
    def services(self) -> EngineServices:
        services: EngineServices = self.http.app.state.services  # type: ignore[attr-defined]
        return services

    def start(self) -> None:
        self.client = TestClient(create_app(self.settings, console_log=False), raise_server_exceptions=False)
        self.client.__enter__()
        if not self.tokens:  # one admin session with Dev Mode (Argon2 makes every sign-in cost)
            self.tokens["admin"] = self._login("admin", ADMIN_PASSWORD)
            switched = self.http.post(
                "/api/assemblies/dev-mode/switch",
                headers=self.headers("admin"),
                json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "disk"},
            )
            assert switched.status_code == 200, switched.text

    def stop(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _login(self, username: str, password: str) -> str:
        response = self.http.post("/api/auth/login", json={"username": username, "password": password})
        self.http.cookies.clear()
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        assert isinstance(token, str)
        return token

    def headers(self, caller: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}"}

    # -- the operations --------------------------------------------------------------------
    def create(self, name: str) -> httpx.Response:
        return self.http.post(
            "/api/assemblies",
            headers=self.headers(),
            json={
                "display_name": name,
                "assembly_kind": "script",
                "assembly_type": "bash",
                "summary": name,
                "payload": {"script": f"echo {name}\n"},
            },
        )

    def acked_create(self, name: str) -> str:
        response = self.create(name)
        assert response.status_code == 201, response.text
        guid = response.json()["assembly_guid"]
        assert isinstance(guid, str)
        self.acked[guid] = (name, f"echo {name}\n")
        return guid

    def flush(self) -> httpx.Response:
        return self.http.post("/api/assemblies/dev-mode/write", headers=self.headers("admin"), json={})

    def live(self) -> list[str]:
        return [g for g, s in self.acked.items() if s is not None]


def prepare(engine: Engine) -> None:
    """Acknowledged changes before the trouble: some persisted, some only in the journal."""
    for n in range(3):
        engine.acked_create(f"persisted-{n}-{uuid.uuid4().hex[:6]}")
    assert engine.flush().status_code == 200
    for n in range(3):
        engine.acked_create(f"queued-{n}-{uuid.uuid4().hex[:6]}")
    guid = engine.live()[0]
    script = "echo queued-update\n"
    updated = engine.http.put(
        f"/api/assemblies/{guid}",
        headers=engine.headers(),
        json={"summary": "queued-update", "payload": {"script": script}},
    )
    assert updated.status_code == 200, updated.text
    engine.acked[guid] = ("queued-update", "echo queued-update\n")


# -- snapshots and checks -------------------------------------------------------------------


def snapshot(engine: Engine) -> tuple[Any, ...]:
    storage = engine.services.storage
    entries = tuple(
        sorted(
            (a.assembly_guid, a.record.revision, a.record.payload.payload_guid, a.state.is_dirty)
            for a in storage.cache.items()
        )
    )
    folders = tuple(sorted(os.listdir(engine.settings.payloads_root)))  # temp folders included
    return entries, storage.journal.depth(), folders


def assert_storage_refusal(engine: Engine, send: Callable[[], httpx.Response], what: str = "") -> None:
    before = snapshot(engine)
    response = send()
    after = snapshot(engine)
    assert response.status_code == 503, (what, response.text)
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == "storage_error", body
    assert int(response.headers["Retry-After"]) >= 1
    assert "nothing was changed" in body["message"].lower(), body
    assert after == before, f"a refused {what} changed the engine's state"


def assert_reads_work(engine: Engine) -> None:
    listed = engine.http.get("/api/assemblies", headers=engine.headers(), params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    listed_guids = {item["assembly_guid"] for item in listed.json()["items"]}
    for guid, state in engine.acked.items():
        detail = engine.http.get(f"/api/assemblies/{guid}", headers=engine.headers())
        if state is None:
            assert detail.status_code == 404, detail.text
            assert guid not in listed_guids
            continue
        assert detail.status_code == 200, detail.text
        assert (detail.json()["summary"], detail.json()["payload"]["script"]) == state
        assert detail.json()["integrity"] == "ok"
        assert guid in listed_guids
    assert engine.http.get("/api/health").status_code == 200
    assert engine.http.get("/api/assemblies/queue", headers=engine.headers()).status_code == 200


def attempted_writes(engine: Engine, tag: str) -> dict[str, Callable[[], httpx.Response]]:
    """Writes that need new payload content (so they touch the payload store)."""
    guid = engine.live()[-1]
    return {
        "create": lambda: engine.create(f"refused-{tag}"),
        "update-script": lambda: engine.http.put(
            f"/api/assemblies/{guid}",
            headers=engine.headers(),
            json={"summary": f"refused-{tag}", "payload": {"script": "echo refused\n"}},
        ),
        "import": lambda: engine.http.post(
            "/api/assemblies/import",
            headers=engine.headers(),
            json={"document": {"name": f"refused-{tag}-import", "type": "bash", "script": "echo refused\n"}},
        ),
        "clone": lambda: engine.http.post(
            f"/api/assemblies/{guid}/clone",
            headers=engine.headers(),
            json={"display_name": f"refused-{tag}-clone"},
        ),
    }


def assert_recovered(engine: Engine, tag: str) -> None:
    """Writes and flushes work again; everything acknowledged survives a restart."""
    engine.acked_create(f"after-{tag}")
    guid = engine.live()[0]
    updated = engine.http.put(
        f"/api/assemblies/{guid}",
        headers=engine.headers(),
        json={"summary": "after-update", "payload": {"script": "echo after\n"}},
    )
    assert updated.status_code == 200, updated.text
    engine.acked[guid] = ("after-update", "echo after\n")
    doomed = engine.live()[1]
    deleted = engine.http.delete(f"/api/assemblies/{doomed}", headers=engine.headers())
    assert deleted.status_code == 202, deleted.text
    engine.acked[doomed] = None
    flushed = engine.flush()
    assert flushed.status_code == 200, flushed.text
    assert_reads_work(engine)
    assert_in_database(engine)
    engine.restart()
    assert_reads_work(engine)
    found = engine.http.get("/api/assemblies", headers=engine.headers(), params={"q": f"refused-{tag}"})
    assert found.status_code == 200 and found.json()["total"] == 0, found.text
    assert_in_database(engine)
    assert not [n for n in os.listdir(engine.settings.payloads_root) if n.startswith(".tmp-")]


def assert_in_database(engine: Engine) -> None:
    path = engine.settings.runtime_root / "user_created.db"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = dict(conn.execute("SELECT assembly_guid, summary FROM assemblies").fetchall())
    finally:
        conn.close()
    for guid, state in engine.acked.items():
        if state is None:
            assert guid not in rows
        else:
            assert rows.get(guid) == state[0], (guid, rows.get(guid), state)


# -- a real full disk -----------------------------------------------------------------------


@contextmanager
def full_disk_engine(tmp_path: Path, mount_on: str) -> Iterator[tuple[Engine, Filler]]:
    home = tmp_path / "home"
    mount_point = home / "Assemblies" if mount_on == "runtime" else home
    if not mount_tmpfs(mount_point):
        pytest.skip("cannot mount a size-limited tmpfs here (needs root and mount)")
    engine = Engine(temp_settings(tmp_path, lock_retry_seconds=1.0))
    filler = Filler(mount_point)
    try:
        engine.start()
        yield engine, filler
    finally:
        filler.free()
        try:
            engine.stop()
        finally:
            umount(mount_point)


def test_full_runtime_disk_refuses_payload_writes_and_loses_nothing(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "runtime") as (engine, filler):
        prepare(engine)
        filler.fill()
        for what, send in attempted_writes(engine, "full").items():
            assert_storage_refusal(engine, send, what)
        assert_reads_work(engine)
        # a flush meets the full disk: 503, and the queue is kept
        depth = engine.services.storage.cache.depth()
        assert depth > 0
        flushed = engine.flush()
        assert flushed.status_code == 503, flushed.text
        assert flushed.json()["error"] == "storage_error"
        assert "still queued" in flushed.json()["message"]
        assert int(flushed.headers["Retry-After"]) >= 1
        assert engine.services.storage.cache.depth() == depth
        queue = engine.http.get("/api/assemblies/queue", headers=engine.headers()).json()
        assert queue["domains"]["user"]["last_error"]
        assert_reads_work(engine)
        filler.free()
        assert_recovered(engine, "full")


FULL_JOURNAL = (
    "BUG: with the runtime disk full, a change that needs no new payload (PUT /api/assemblies/{guid} "
    '{"summary": "x"}, DELETE /api/assemblies/{guid}) answers 500 internal_error: the journal append '
    "fails with sqlite3.OperationalError('database or disk is full'), which AssemblyService._commit does "
    "not map (it only maps OSError). Expected: 503 storage_error with Retry-After, nothing changed"
)


@pytest.mark.parametrize("operation", ["update-summary", "delete"])
def test_full_runtime_disk_refuses_journal_only_changes_with_503(tmp_path: Path, operation: str) -> None:
    with full_disk_engine(tmp_path, "runtime") as (engine, filler):
        prepare(engine)
        filler.fill()
        guid = engine.live()[-1]
        if operation == "delete":
            send = lambda: engine.http.delete(f"/api/assemblies/{guid}", headers=engine.headers())  # noqa: E731
        else:
            send = lambda: engine.http.put(  # noqa: E731
                f"/api/assemblies/{guid}",
                headers=engine.headers(),
                json={"summary": "refused"},
            )
        assert_storage_refusal(engine, send)


@pytest.mark.parametrize("operation", ["update-summary", "delete"])
def test_full_runtime_disk_journal_only_change_is_never_half_made(tmp_path: Path, operation: str) -> None:
    """Whatever the status, a change that was not acknowledged is not there, now or after a restart,
    and the engine recovers."""
    with full_disk_engine(tmp_path, "runtime") as (engine, filler):
        prepare(engine)
        filler.fill()
        guid = engine.live()[-1]
        before = snapshot(engine)
        if operation == "delete":
            response = engine.http.delete(f"/api/assemblies/{guid}", headers=engine.headers())
        else:
            response = engine.http.put(
                f"/api/assemblies/{guid}", headers=engine.headers(), json={"summary": "refused"}
            )
        if response.status_code < 300:  # made durable after all: then it must stay
            engine.acked[guid] = None if operation == "delete" else ("refused", engine.acked[guid][1])  # type: ignore[index]
        else:
            assert response.status_code in (500, 503), response.text
            assert set(response.json()) == {"error", "message"}
            assert snapshot(engine) == before
        assert_reads_work(engine)
        filler.free()
        assert_recovered(engine, "journal")


def test_full_home_disk_still_refuses_with_503(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        prepare(engine)
        filler.fill()
        for what, send in attempted_writes(engine, "home").items():
            assert_storage_refusal(engine, send, what)


def test_full_home_disk_keeps_reads_and_recovers(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        prepare(engine)
        filler.fill()
        for send in attempted_writes(engine, "home").values():
            before = snapshot(engine)
            response = send()
            assert response.status_code in (500, 503), response.text
            assert set(response.json()) == {"error", "message"}
            assert snapshot(engine) == before
        assert_reads_work(engine)
        filler.free()
        assert_recovered(engine, "home")


def test_sign_in_on_a_full_home_disk_is_a_clear_503(tmp_path: Path) -> None:
    """The session row cannot be written to engine.db: 503 storage_error, not a 500."""
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        filler.fill()
        refused = engine.http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        engine.http.cookies.clear()
        assert refused.status_code == 503, refused.text
        body = refused.json()
        assert set(body) == {"error", "message"}, body
        assert body["error"] == "storage_error", body
        assert "engine.db" in body["message"] and "nothing was changed" in body["message"].lower()
        assert int(refused.headers["Retry-After"]) >= 1
        assert "ae_session" not in refused.headers.get("set-cookie", "")
        filler.free()
        signed_in = engine.http.post(
            "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        engine.http.cookies.clear()
        assert signed_in.status_code == 200, signed_in.text


def test_audit_chain_still_verifies_after_a_full_disk(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        prepare(engine)
        filler.fill()
        for send in attempted_writes(engine, "audit").values():
            send()
        filler.free()
        engine.acked_create("after-the-disk-recovered")
        engine.restart()
        audit = verify_file(engine.settings.logs_dir / "audit.log")
        assert audit.ok, audit.problem


# -- injected failures ----------------------------------------------------------------------


class OsProxy:
    """The ``os`` module as the payloads module sees it, with chosen calls failing."""

    def __init__(self, failing: dict[str, int]) -> None:
        self._failing = failing

    def __getattr__(self, name: str) -> Any:
        if name in self._failing:
            code = self._failing[name]

            def fail(*args: Any, **kwargs: Any) -> Any:
                raise OSError(code, os.strerror(code))

            return fail
        return getattr(os, name)


def payloads_see_os(mp: pytest.MonkeyPatch, proxy: OsProxy) -> None:
    """Make the payload store (only it) see ``proxy`` as ``os``, in its own code and in the
    durable-file primitives it calls: the audit log and the databases keep the real disk."""
    namespace = {**vars(durable_files), "os": proxy}
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == durable_files.__name__:
            namespace[name] = types.FunctionType(value.__code__, namespace, name, value.__defaults__)
    for name in ("write_new_file", "fsync_directory", "remove_tree"):
        mp.setattr(payloads_module, name, namespace[name])
    mp.setattr(payloads_module, "os", proxy)


class ReadOnlyOs(OsProxy):
    """``os`` as a folder without write permission behaves: nothing can be created or renamed
    (EACCES), everything can still be read."""

    def __init__(self) -> None:
        super().__init__({"rename": errno.EACCES, "replace": errno.EACCES})

    def open(self, path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return os.open(path, flags, *args, **kwargs)


@contextmanager
def read_only_payloads(engine: Engine) -> Iterator[None]:
    """chmod 0o500 on Payloads/ — or, as root (whom chmod does not stop), the same refusals injected."""
    root = engine.settings.payloads_root
    if os.geteuid() != 0:
        mode = root.stat().st_mode
        root.chmod(0o500)
        try:
            yield
        finally:
            root.chmod(mode)
        return
    with pytest.MonkeyPatch.context() as mp:
        payloads_see_os(mp, ReadOnlyOs())
        yield


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("disk-injected")
    running = Engine(temp_settings(root, lock_retry_seconds=1.0))
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def engine(shared_engine: Engine) -> Engine:
    """The module's engine with fresh acknowledged changes, persisted and queued."""
    prepare(shared_engine)
    return shared_engine


def _fail_write_new(code: int) -> Callable[..., Any]:
    def write_new(self: Any, content: Any) -> Any:
        raise OSError(code, os.strerror(code))

    return write_new


INJECTIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "write_new-EACCES": lambda mp: mp.setattr(
        payloads_module.PayloadStore, "write_new", _fail_write_new(errno.EACCES)
    ),
    "write_new-ENOSPC": lambda mp: mp.setattr(
        payloads_module.PayloadStore, "write_new", _fail_write_new(errno.ENOSPC)
    ),
    "fsync-ENOSPC": lambda mp: payloads_see_os(mp, OsProxy({"fsync": errno.ENOSPC})),
    "fsync-EIO": lambda mp: payloads_see_os(mp, OsProxy({"fsync": errno.EIO})),
    "rename-EACCES": lambda mp: payloads_see_os(mp, OsProxy({"rename": errno.EACCES})),
    "write-ENOSPC": lambda mp: payloads_see_os(mp, OsProxy({"write": errno.ENOSPC})),
    "fsync-dir-EROFS": lambda mp: mp.setattr(
        payloads_module, "fsync_directory", lambda path: OsProxy({"fsync": errno.EROFS}).fsync(0)
    ),
}


@pytest.mark.parametrize("inject", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_unwritable_payload_store_refuses_writes_and_loses_nothing(
    engine: Engine, inject: Callable[[pytest.MonkeyPatch], None]
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        inject(mp)
        for what, send in attempted_writes(engine, "payloads").items():
            assert_storage_refusal(engine, send, what)
        assert_reads_work(engine)
        # journal-only changes do not need the payload store: they still work
        guid = engine.live()[-1]
        renamed = engine.http.put(
            f"/api/assemblies/{guid}", headers=engine.headers(), json={"summary": "renamed-during-trouble"}
        )
        assert renamed.status_code == 200, renamed.text
        engine.acked[guid] = ("renamed-during-trouble", engine.acked[guid][1])  # type: ignore[index]
    assert_recovered(engine, "payloads")


def _failing_journal_retry(error: BaseException) -> Callable[..., Any]:
    original = journal_module.with_retry

    def with_retry(operation: Callable[[], Any], *, what: str, budget_seconds: float) -> Any:
        if what.startswith("appending"):
            raise error
        return original(operation, what=what, budget_seconds=budget_seconds)

    return with_retry


def journal_writes(engine: Engine, tag: str) -> dict[str, Callable[[], httpx.Response]]:
    guid = engine.live()[-1]
    return {
        **attempted_writes(engine, tag),
        "update-summary": lambda: engine.http.put(
            f"/api/assemblies/{guid}", headers=engine.headers(), json={"summary": f"refused-{tag}"}
        ),
        "delete": lambda: engine.http.delete(f"/api/assemblies/{guid}", headers=engine.headers()),
    }


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EROFS], ids=["ENOSPC", "EIO", "EROFS"])
def test_failing_journal_append_refuses_every_change_and_loses_nothing(engine: Engine, code: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(journal_module, "with_retry", _failing_journal_retry(OSError(code, os.strerror(code))))
        for what, send in journal_writes(engine, "journal").items():
            assert_storage_refusal(engine, send, what)
        assert_reads_work(engine)
    assert_recovered(engine, "journal")


@pytest.mark.parametrize("operation", ["create", "update-summary", "delete"])
def test_journal_reporting_disk_full_refuses_with_503(engine: Engine, operation: str) -> None:
    error = sqlite3.OperationalError("database or disk is full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(journal_module, "with_retry", _failing_journal_retry(error))
        assert_storage_refusal(engine, journal_writes(engine, "sqlite-full")[operation])


def test_payload_folder_of_a_refused_change_is_removed(engine: Engine) -> None:
    """The payload is written first; when the journal then refuses, its folder must go again."""
    folders = set(os.listdir(engine.settings.payloads_root))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            journal_module,
            "with_retry",
            _failing_journal_retry(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))),
        )
        for _ in range(3):
            assert engine.create(f"refused-orphan-{uuid.uuid4().hex[:6]}").status_code == 503
    assert set(os.listdir(engine.settings.payloads_root)) == folders
    assert_recovered(engine, "orphan")


def test_read_only_payloads_folder_refuses_writes_and_keeps_serving(engine: Engine) -> None:
    with read_only_payloads(engine):
        for what, send in attempted_writes(engine, "read-only").items():
            assert_storage_refusal(engine, send, what)
        assert_reads_work(engine)
        exported = engine.http.get(f"/api/assemblies/{engine.live()[0]}/export", headers=engine.headers())
        assert exported.status_code == 200, exported.text
    assert_recovered(engine, "read-only")


# -- the audit verify never answers 500 on a full disk (D2); a start on one: test_read_only_boot.py --


def test_audit_verify_on_a_full_disk_is_503_not_500(tmp_path: Path) -> None:
    with full_disk_engine(tmp_path, "home") as (engine, filler):
        prepare(engine)
        log = engine.services.audit.store
        audit_path = engine.settings.logs_dir / "audit.log"
        last = json.loads(audit_path.read_bytes().splitlines()[-1])
        fields = {k: last[k] for k in FIELDS if k not in ("seq", "prev_hash", "hash")}
        # Leave room in the log's last page for one more entry, then fill the disk: the
        # entry is appended, but its head file (a new file) finds no room.
        while (4096 - audit_path.stat().st_size % 4096) < 1500:
            log.append(fields)
        filler.fill()
        with pytest.raises(OSError):
            log.append(fields)
        answer = engine.http.get("/api/admin/audit/verify", headers=engine.headers())
        assert answer.status_code == 503, answer.text
        body = answer.json()
        assert body["error"] == "storage_error" and "No space left on device" in body["message"], body
        filler.free()
        answer = engine.http.get("/api/admin/audit/verify", headers=engine.headers())
        assert answer.status_code == 200 and answer.json()["ok"] is True, answer.text
