"""Soak with faults: many clients write through a real engine that keeps being killed.

Eight client threads (five operators, three admins with Dev Mode) create, update, delete,
clone (user→user, official→user, official→community, community→official) and import
legacy documents (base64 scripts with attachments, workflows, export→re-import in place)
against a real ``assemblies serve`` subprocess for at least ``ENGINE_SOAK_SECONDS`` (default
20 s), and on until the load has done enough (50 acknowledged changes of every kind, 3 kills;
a slow machine gets there later), at most ``ENGINE_SOAK_MAX_SECONDS`` (default 120 s), while

* the engine is killed with SIGKILL every 1–3 s and restarted (clients reconnect), and
* another process keeps taking ``BEGIN IMMEDIATE`` on a random domain database for
  0.2–1.5 s at a time (the engine runs with a 1 s lock retry budget, a 200 ms busy
  timeout and a 0.5 s flush interval, so flushes really meet the lock).

Every acknowledged change is tracked (guid → domain, summary, revision, content, or
deleted). A request whose answer was lost is *unknown*: after the next restart its
assembly must be in one of the states it could be in (for lost creates: found by the
unique token in its name, or absent). Clients also re-read their own assemblies while the
soak runs, so a change that goes missing between kills is caught when it happens.

Afterwards (lock holder stopped, one last SIGKILL, restart): every acknowledged change is
served; after ``POST /api/assemblies/dev-mode/write`` answers 200 it is in its domain
database with an intact payload (official changes also in the staging mirror), no row
exists that no client made, ``assemblies verify`` finds no missing or corrupt payloads,
``assemblies audit verify`` accepts the chain, and a graceful stop leaves the journal empty.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from assembly_engine.domain.types import PayloadType
from assembly_engine.storage.sqlite.payload_folders import PayloadStore
from tests.engine_process import ADMIN_PASSWORD, EngineProcess

SOAK_SECONDS = float(os.environ.get("ENGINE_SOAK_SECONDS", "20"))
SOAK_MAX_SECONDS = max(SOAK_SECONDS, float(os.environ.get("ENGINE_SOAK_MAX_SECONDS", "120")))
MIN_KILLS = 3
MIN_ACKED = 50
REQUIRED_KINDS = (
    "acked create",
    "acked update",
    "acked delete",
    "acked import",
    "acked clone user->user",
    "acked clone official->user",
)
# A failing run prints its seed; ENGINE_SOAK_SEED replays its choices (not its timing).
SOAK_SEED = os.environ.get("ENGINE_SOAK_SEED")
REPO_STAGING = Path(__file__).resolve().parents[2] / "Data" / "Engine" / "Assemblies"
OPERATOR_NAME = "soak-operator"
OPERATOR_PASSWORD = "soak-operator-password-1"
USER_WORKERS = 5
ADMIN_WORKERS = 3
MAX_OPS_PER_WORKER = 100_000
ENGINE_ENV = {
    # The soak writes random script text everywhere; script checks would refuse it in
    # official (their own tests cover that policy).
    "ENGINE_CHECKS_BLOCK": "none",
    "ENGINE_LOCK_RETRY_SECONDS": "1.0",
    "ENGINE_SQLITE_BUSY_TIMEOUT_MS": "200",
    "ENGINE_DEV_MODE_TTL_SECONDS": "86400",
}
DB_FILES = {"official": "official.db", "community": "community.db", "user": "user_created.db"}

LOCK_HOLDER = r"""
import os, random, sqlite3, sys, time
paths, stop_file, budget, seed = sys.argv[1:-3], sys.argv[-3], float(sys.argv[-2]), int(sys.argv[-1])
deadline = time.monotonic() + budget
rng = random.Random(seed)
holds = failures = 0
for _ in range(100_000):
    if os.path.exists(stop_file) or time.monotonic() > deadline:
        break
    try:
        conn = sqlite3.connect(rng.choice(paths), uri=True, timeout=2.0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            holds += 1
            time.sleep(rng.uniform(0.2, 1.5))
            conn.execute("COMMIT")
        finally:
            conn.close()
    except sqlite3.Error:
        failures += 1
    time.sleep(rng.uniform(0.1, 0.8))
print(f"holds={holds} failures={failures}", flush=True)
"""


# -- what an assembly looks like ------------------------------------------------------------


@dataclass(frozen=True)
class State:
    domain: str
    summary: str | None
    revision: int
    main: str  # script text, or "wf:" + canonical nodes/edges of a workflow
    files: str  # "name:size,…" of the attachments


def workflow_key(workflow: dict[str, Any]) -> str:
    return "wf:" + json.dumps(
        {"nodes": workflow.get("nodes"), "edges": workflow.get("edges")}, sort_keys=True
    )


def content_of(payload: dict[str, Any]) -> tuple[str, str]:
    if "workflow" in payload:
        return workflow_key(payload["workflow"] or {}), ""
    files = ",".join(f"{f['file_name']}:{f['size']}" for f in payload.get("files", []))
    return str(payload["script"]), files


def state_of(detail: dict[str, Any]) -> State:
    main, files = content_of(detail["payload"])
    return State(detail["source"], detail["summary"], int(detail["revision"]), main, files)


def stored_content(store: PayloadStore, payload_guid: str, checksum: str | None) -> tuple[str, str]:
    content = store.read(payload_guid, checksum)
    if content.payload_type is PayloadType.WORKFLOW:
        return workflow_key(json.loads(content.main)), ""
    files = ",".join(f"{f.file_name}:{len(f.data)}" for f in content.files)
    return content.main.decode("utf-8"), files


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- shared soak state ----------------------------------------------------------------------


class Unsent(Exception):
    """The engine could not be reached: nothing was sent."""


class Lost(Exception):
    """The request may have reached the engine, but its answer never arrived."""


@dataclass
class Chaos:
    deadline: float
    stop: threading.Event = field(default_factory=threading.Event)
    up: threading.Event = field(default_factory=threading.Event)
    generation: int = 0  # bumped after every restart
    lock: threading.Lock = field(default_factory=threading.Lock)
    stats: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.stats[name] += n

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text[:600])


@dataclass
class PendingCreate:
    token: str
    expected: State
    generation: int


class Worker(threading.Thread):
    """One client: owns the assemblies it made and knows what state each one is in."""

    def __init__(
        self,
        name: str,
        url: str,
        token: str,
        admin: bool,
        chaos: Chaos,
        originals: dict[str, State],
        seed: int,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.admin = admin
        self.chaos = chaos
        self.originals = originals
        self.rng = random.Random(seed)
        # guid -> every state it may be in (one entry: known); None = deleted
        self.owned: dict[str, list[State | None]] = {}
        self.lost_at: dict[str, int] = {}  # guid -> generation when its answer was lost
        self.pending: list[PendingCreate] = []

    # -- plumbing ------------------------------------------------------------------------
    def send(
        self,
        http: httpx.Client,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            return http.request(method, path, json=body, headers=headers, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unsent() from exc
        except httpx.TransportError as exc:
            raise Lost() from exc

    def expect(self, response: httpx.Response, status: int, what: str) -> bool:
        if response.status_code == status:
            return True
        self.chaos.count(f"unexpected {what} {response.status_code}")
        self.chaos.problem(
            f"{self.name} {what}: expected {status}, got {response.status_code}: {response.text[:300]}"
        )
        return False

    def token(self) -> str:
        return uuid.uuid4().hex[:16]

    def known(self, domains: tuple[str, ...] | None = None, *, scripts_only: bool = False) -> list[str]:
        guids = []
        for guid, states in self.owned.items():
            if len(states) != 1 or states[0] is None:
                continue
            state = states[0]
            if domains is not None and state.domain not in domains:
                continue
            if scripts_only and state.main.startswith("wf:"):
                continue
            guids.append(guid)
        return guids

    def lost_create(self, token: str, expected: State, generation: int, what: str) -> None:
        self.pending.append(PendingCreate(token, expected, generation))
        self.chaos.count(f"lost {what}")

    def lost_change(self, guid: str, states: list[State | None], generation: int, what: str) -> None:
        self.owned[guid] = states
        self.lost_at[guid] = generation
        self.chaos.count(f"lost {what}")

    def acked_create(self, response: httpx.Response, expected: State, what: str) -> None:
        data = response.json()
        seen = (data["source"], data["summary"], data["revision"])
        if seen != (expected.domain, expected.summary, expected.revision):
            self.chaos.problem(f"{self.name} {what}: answer {seen} does not match {expected}")
        self.owned[data["assembly_guid"]] = [expected]
        self.chaos.count(f"acked {what}")

    # -- resolving unknown outcomes ------------------------------------------------------
    def resolve(self, http: httpx.Client) -> None:
        """Settle every lost request whose engine has been restarted since."""
        for guid, generation in list(self.lost_at.items()):
            if generation >= self.chaos.generation:
                continue
            response = self.send(http, "GET", f"/api/assemblies/{guid}")
            if response.status_code == 404:
                seen: State | None = None
            elif self.expect(response, 200, "resolve read"):
                seen = state_of(response.json())
                if response.json()["integrity"] != "ok":
                    self.chaos.problem(f"{guid} integrity {response.json()['integrity']}")
            else:
                continue
            if seen not in self.owned[guid]:
                self.chaos.problem(
                    f"{self.name}: {guid} after a lost answer is {seen}, expected one of {self.owned[guid]}"
                )
            self.owned[guid] = [seen]
            del self.lost_at[guid]
            self.chaos.count("resolved change")
        for pending in list(self.pending):
            if pending.generation >= self.chaos.generation:
                continue
            response = self.send(http, "GET", "/api/assemblies", params={"q": pending.token, "limit": 10})
            if not self.expect(response, 200, "resolve list"):
                continue
            items = response.json()["items"]
            if not items:
                self.pending.remove(pending)
                self.chaos.count("lost create absent")
                continue
            if len(items) > 1:
                self.chaos.problem(f"{self.name}: token {pending.token} names {len(items)} assemblies")
            guid = items[0]["assembly_guid"]
            detail = self.send(http, "GET", f"/api/assemblies/{guid}")  # Lost: resolved next time
            self.pending.remove(pending)
            if not self.expect(detail, 200, "resolve detail"):
                self.owned[guid] = [pending.expected]
                continue
            seen = state_of(detail.json())
            if seen != pending.expected:
                self.chaos.problem(
                    f"{self.name}: lost create {pending.token} is {seen}, expected {pending.expected}"
                )
            self.owned[guid] = [seen]
            self.chaos.count("lost create present")

    # -- operations ----------------------------------------------------------------------
    def script_body(self, domain: str, token: str) -> tuple[dict[str, Any], State]:
        assembly_type = self.rng.choice(["bash", "powershell", "python", "batch"])
        script = f"echo {token}\n" * self.rng.randint(1, 4)
        files: list[dict[str, Any]] = []
        if self.rng.random() < 0.4:
            data = self.rng.randbytes(self.rng.randint(0, 3000))
            files.append(
                {
                    "file_name": f"att-{token[:6]}.bin",
                    "mime_type": "application/octet-stream",
                    "data": b64(data),
                }
            )
        body = {
            "domain": domain,
            "display_name": f"soak {token}",
            "assembly_kind": "script",
            "assembly_type": assembly_type,
            "summary": token,
            "payload": {"script": script, "files": files},
        }
        described = ",".join(f"{f['file_name']}:{len(base64.b64decode(f['data']))}" for f in files)
        return body, State(domain, token, 1, script, described)

    def op_create(self, http: httpx.Client, domain: str) -> None:
        token = self.token()
        body, expected = self.script_body(domain, token)
        generation = self.chaos.generation
        try:
            response = self.send(http, "POST", "/api/assemblies", body=body)
        except Lost:
            self.lost_create(token, expected, generation, "create")
            return
        if self.expect(response, 201, "create"):
            self.acked_create(response, expected, "create")

    def op_update(self, http: httpx.Client, domains: tuple[str, ...]) -> None:
        candidates = self.known(domains)
        if not candidates:
            return
        guid = self.rng.choice(candidates)
        before = self.owned[guid][0]
        assert before is not None
        token = self.token()
        body: dict[str, Any] = {"summary": token}
        main = before.main
        if self.rng.random() < 0.6:
            if before.main.startswith("wf:"):
                workflow = {
                    "nodes": [{"id": f"n-{token}", "type": "DataNode", "data": {"label": token}}],
                    "edges": [],
                }
                body["payload"] = {"workflow": workflow}
                main = workflow_key(workflow)
            else:
                main = f"echo updated {token}\n"
                body["payload"] = {"script": main}
        attempt = replace(before, summary=token, revision=before.revision + 1, main=main)
        generation = self.chaos.generation
        try:
            response = self.send(
                http, "PUT", f"/api/assemblies/{guid}", body=body, headers={"If-Match": str(before.revision)}
            )
        except Lost:
            self.lost_change(guid, [before, attempt], generation, "update")
            return
        if self.expect(response, 200, "update"):
            if response.json()["revision"] != attempt.revision:
                self.chaos.problem(f"{guid}: update answered revision {response.json()['revision']}")
            self.owned[guid] = [attempt]
            self.chaos.count("acked update")

    def op_delete(self, http: httpx.Client, domains: tuple[str, ...]) -> None:
        candidates = self.known(domains)
        if len(candidates) < 3:
            return
        guid = self.rng.choice(candidates)
        before = self.owned[guid][0]
        assert before is not None
        generation = self.chaos.generation
        try:
            response = self.send(
                http, "DELETE", f"/api/assemblies/{guid}", headers={"If-Match": str(before.revision)}
            )
        except Lost:
            self.lost_change(guid, [before, None], generation, "delete")
            return
        if self.expect(response, 202, "delete"):
            self.owned[guid] = [None]
            self.chaos.count("acked delete")

    def op_clone(self, http: httpx.Client, source_guid: str, source: State, target: str) -> None:
        token = self.token()
        expected = State(target, source.summary, 1, source.main, source.files)
        generation = self.chaos.generation
        try:
            response = self.send(
                http,
                "POST",
                f"/api/assemblies/{source_guid}/clone",
                body={"target_domain": target, "display_name": f"soak {token}"},
            )
        except Lost:
            self.lost_create(token, expected, generation, f"clone {source.domain}->{target}")
            return
        if self.expect(response, 201, f"clone {source.domain}->{target}"):
            self.acked_create(response, expected, f"clone {source.domain}->{target}")

    def op_clone_own(self, http: httpx.Client, sources: tuple[str, ...], target: str) -> None:
        candidates = self.known(sources)
        if candidates:
            guid = self.rng.choice(candidates)
            state = self.owned[guid][0]
            assert state is not None
            self.op_clone(http, guid, state, target)

    def op_clone_official(self, http: httpx.Client, target: str) -> None:
        guid = self.rng.choice(sorted(self.originals))
        self.op_clone(http, guid, self.originals[guid], target)

    def op_import_script(self, http: httpx.Client, domain: str) -> None:
        token = self.token()
        script = f"# imported {token}\nWrite-Host 'soak'\n"
        files = []
        for index in range(self.rng.randint(0, 2)):
            data = self.rng.randbytes(self.rng.randint(1, 2000))
            files.append(
                {
                    "file_name": f"doc-{index}-{token[:6]}.dat",
                    "size": len(data),
                    "mime_type": "application/octet-stream",
                    "data": b64(data),
                }
            )
        document = {
            "version": 1,
            "name": f"soak {token}",
            "description": token,
            "category": "script",
            "type": "powershell",
            "script": b64(script.encode()),
            "script_encoding": "base64",
            "timeout_seconds": 60,
            "sites": {"mode": "all", "values": []},
            "variables": [
                {
                    "name": "Target",
                    "label": "Target",
                    "type": "string",
                    "default": "x",
                    "required": False,
                    "description": "where",
                }
            ],
            "files": files,
        }
        described = ",".join(f"{f['file_name']}:{f['size']}" for f in files)
        self.send_import(http, token, document, domain, State(domain, token, 1, script, described))

    def op_import_workflow(self, http: httpx.Client, domain: str) -> None:
        token = self.token()
        nodes = [
            {
                "id": f"node-{i}",
                "type": "DataNode",
                "position": {"x": i * 10, "y": 0},
                "data": {"label": f"{token} {i}", "value": str(i)},
            }
            for i in range(self.rng.randint(1, 4))
        ]
        edges = [
            {"id": f"e{i}", "source": f"node-{i}", "target": f"node-{i + 1}"} for i in range(len(nodes) - 1)
        ]
        document = {"tab_name": f"soak {token}", "description": token, "nodes": nodes, "edges": edges}
        expected = State(domain, token, 1, workflow_key(document), "")
        self.send_import(http, token, document, domain, expected)

    def send_import(
        self, http: httpx.Client, token: str, document: dict[str, Any], domain: str, expected: State
    ) -> None:
        generation = self.chaos.generation
        try:
            response = self.send(
                http, "POST", "/api/assemblies/import", body={"document": document, "domain": domain}
            )
        except Lost:
            self.lost_create(token, expected, generation, "import")
            return
        if self.expect(response, 201, "import"):
            self.acked_create(response, expected, "import")

    def op_reimport(self, http: httpx.Client) -> None:
        """Export one of ours, change it and import it back: replaced in place (200)."""
        candidates = self.known(("user",), scripts_only=True)
        if not candidates:
            return
        guid = self.rng.choice(candidates)
        before = self.owned[guid][0]
        assert before is not None
        try:
            exported = self.send(http, "GET", f"/api/assemblies/{guid}/export")
        except Lost:
            return
        if not self.expect(exported, 200, "export"):
            return
        document = exported.json()
        token = self.token()
        script = f"echo reimported {token}\n"
        document["description"] = token
        document["script"] = b64(script.encode())
        document["script_encoding"] = "base64"
        document.pop("script_lines", None)
        attempt = replace(before, summary=token, revision=before.revision + 1, main=script)
        generation = self.chaos.generation
        try:
            response = self.send(
                http, "POST", "/api/assemblies/import", body={"document": document, "domain": "user"}
            )
        except Lost:
            self.lost_change(guid, [before, attempt], generation, "reimport")
            return
        if self.expect(response, 200, "reimport"):
            if response.json()["assembly_guid"] != guid:
                self.chaos.problem(f"re-import of {guid} made {response.json()['assembly_guid']}")
            self.owned[guid] = [attempt]
            self.chaos.count("acked reimport")

    def op_read(self, http: httpx.Client) -> None:
        """Re-read one of ours: it must be exactly as last acknowledged."""
        candidates = [g for g, s in self.owned.items() if len(s) == 1]
        if not candidates:
            return
        guid = self.rng.choice(candidates)
        try:
            response = self.send(http, "GET", f"/api/assemblies/{guid}")
        except Lost:
            return
        known = self.owned[guid][0]
        seen = (
            None
            if response.status_code == 404
            else (state_of(response.json()) if self.expect(response, 200, "read") else known)
        )
        if seen != known:
            self.chaos.problem(f"{self.name}: live read of {guid} is {seen}, acknowledged {known}")
        self.chaos.count("live reads")

    def op_flush(self, http: httpx.Client) -> None:
        domain = self.rng.choice([None, "official", "community", "user"])
        try:
            response = self.send(
                http, "POST", "/api/assemblies/dev-mode/write", body={"domain": domain} if domain else {}
            )
        except Lost:
            return
        if response.status_code == 503:
            error = response.json().get("error")
            if error != "database_busy" or not response.headers.get("Retry-After"):
                self.chaos.problem(f"flush 503 without database_busy/Retry-After: {response.text[:200]}")
            self.chaos.count("flush 503 database_busy")
        elif self.expect(response, 200, "flush"):
            self.chaos.count("flush 200")

    def step(self, http: httpx.Client) -> None:
        roll = self.rng.random()
        if self.admin:
            domain = self.rng.choice(["community", "official"])
            if roll < 0.22:
                self.op_create(http, domain)
            elif roll < 0.44:
                self.op_update(http, ("community", "official"))
            elif roll < 0.52:
                self.op_delete(http, ("community", "official"))
            elif roll < 0.64:
                self.op_import_script(http, "community")
            elif roll < 0.70:
                self.op_clone_official(http, "community")
            elif roll < 0.76:
                self.op_clone_own(http, ("community",), "official")
            elif roll < 0.88:
                self.op_flush(http)
            else:
                self.op_read(http)
        elif roll < 0.20:
            self.op_create(http, "user")
        elif roll < 0.38:
            self.op_update(http, ("user",))
        elif roll < 0.46:
            self.op_delete(http, ("user",))
        elif roll < 0.54:
            self.op_clone_own(http, ("user",), "user")
        elif roll < 0.62:
            self.op_clone_official(http, "user")
        elif roll < 0.74:
            self.op_import_script(http, "user")
        elif roll < 0.80:
            self.op_import_workflow(http, "user")
        elif roll < 0.86:
            self.op_reimport(http)
        else:
            self.op_read(http)

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, headers=self.headers, timeout=20) as http:
                for _ in range(MAX_OPS_PER_WORKER):
                    if self.chaos.stop.is_set() or time.monotonic() > self.chaos.deadline:
                        return
                    if not self.chaos.up.wait(timeout=0.5):
                        continue
                    try:
                        self.resolve(http)
                        self.step(http)
                    except (Unsent, Lost):
                        time.sleep(self.rng.uniform(0.05, 0.2))
        except Exception as exc:  # noqa: BLE001 - a crashed client must fail the soak, loudly
            self.chaos.problem(f"{self.name} crashed: {type(exc).__name__}: {exc}")


# -- the engine and the faults --------------------------------------------------------------


def start_engine(engine: EngineProcess, chaos: Chaos, attempts: int = 8) -> None:
    """Start (again); a start that fails (e.g. official sync met the lock) is retried."""
    for attempt in range(attempts):
        try:
            engine.start(timeout=45)
            return
        except RuntimeError as exc:
            chaos.count("failed starts")
            chaos.stats[f"failed start: {str(exc).splitlines()[0][:120]}"] += 1
            if engine.proc is not None and engine.proc.poll() is None:
                engine.kill()
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def login(url: str, username: str, password: str) -> str:
    response = httpx.post(
        f"{url}/api/auth/login", json={"username": username, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert isinstance(token, str)
    return token


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


def read_rows(path: Path) -> dict[str, tuple[str | None, int, str, str | None]]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {
            guid: (summary, revision, payload_guid, checksum)
            for guid, summary, revision, payload_guid, checksum in conn.execute(
                "SELECT assembly_guid, summary, revision, payload_guid, payload_checksum FROM assemblies"
            )
        }
    finally:
        conn.close()


def revision_payloads(path: Path) -> set[str]:
    """The payload folders the version history of one domain database keeps."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {payload for (payload,) in conn.execute("SELECT payload_guid FROM revisions")}
    finally:
        conn.close()


def flush_until_ok(http: httpx.Client, budget: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + budget
    response = http.post("/api/assemblies/dev-mode/write", json={})
    while response.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        response = http.post("/api/assemblies/dev-mode/write", json={})
    return response


def did_enough(chaos: Chaos, kills: int) -> bool:
    """Whether the load has reached what the test requires of it (asserted at the end)."""
    with chaos.lock:
        stats = Counter(chaos.stats)
    acked = sum(v for k, v in stats.items() if k.startswith("acked"))
    return (
        kills >= MIN_KILLS
        and acked >= MIN_ACKED
        and all(stats[kind] > 0 for kind in REQUIRED_KINDS)
        and any(k.startswith("acked") and ("official" in k or "community" in k) for k in stats)
    )


@pytest.mark.slow
@pytest.mark.timeout(int(SOAK_MAX_SECONDS * 2) + 300)
def test_soak_with_sigkills_and_foreign_locks(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    shutil.copytree(REPO_STAGING, staging)
    home = tmp_path / "home"
    engine = EngineProcess(home, staging, flush_interval=0.5, extra_env=ENGINE_ENV)
    chaos = Chaos(deadline=time.monotonic() + 3600)  # the real deadline is set once clients start
    start_engine(engine, chaos)
    holder: subprocess.Popen[str] | None = None
    stop_file = tmp_path / "stop-lock-holder"
    workers: list[Worker] = []
    kills = 0
    try:
        admin_token = login(engine.url, "admin", ADMIN_PASSWORD)
        with httpx.Client(
            base_url=engine.url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
        ) as http:
            created = http.post(
                "/api/users",
                json={"username": OPERATOR_NAME, "password": OPERATOR_PASSWORD, "role": "operator"},
            )
            assert created.status_code == 201, created.text
            listed = http.get("/api/assemblies", params={"domain": "official", "limit": 1000})
            assert listed.status_code == 200, listed.text
            originals: dict[str, State] = {}
            for item in listed.json()["items"]:
                detail = http.get(f"/api/assemblies/{item['assembly_guid']}")
                assert detail.status_code == 200, detail.text
                originals[item["assembly_guid"]] = state_of(detail.json())
        assert len(originals) >= 5, "the staging copy should ship an official library"

        seed = int(SOAK_SEED) if SOAK_SEED else random.randrange(1 << 30)
        print(f"soak seed {seed}, at least {SOAK_SECONDS:.0f}s of load")
        for n in range(USER_WORKERS):
            token = login(engine.url, OPERATOR_NAME, OPERATOR_PASSWORD)
            workers.append(Worker(f"operator-{n}", engine.url, token, False, chaos, originals, seed + n))
        for n in range(ADMIN_WORKERS):
            token = login(engine.url, "admin", ADMIN_PASSWORD)
            switched = httpx.post(
                f"{engine.url}/api/assemblies/dev-mode/switch",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
                json={"enabled": True, "password": ADMIN_PASSWORD, "reason": "soak test"},
            )
            assert switched.status_code == 200, switched.text
            workers.append(Worker(f"admin-{n}", engine.url, token, True, chaos, originals, seed + 100 + n))

        runtime = home / "Assemblies"
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LOCK_HOLDER,
                *[(runtime / name).resolve().as_uri() + "?mode=rw" for name in DB_FILES.values()],
                str(stop_file),
                str(SOAK_MAX_SECONDS + 60),
                str(seed + 200),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        chaos.deadline = started + SOAK_MAX_SECONDS
        chaos.up.set()
        for worker in workers:
            worker.start()
        rng = random.Random(seed)
        for _ in range(10_000):
            now = time.monotonic()
            if now >= chaos.deadline - 0.5 or (now >= started + SOAK_SECONDS and did_enough(chaos, kills)):
                break
            pause = rng.uniform(1.0, 3.0) * min(1.0, SOAK_SECONDS / 20)
            time.sleep(min(pause, max(0.0, chaos.deadline - time.monotonic())))
            chaos.up.clear()
            engine.kill()
            kills += 1
            time.sleep(rng.uniform(0.0, 0.3))
            start_engine(engine, chaos)
            with chaos.lock:
                chaos.generation += 1
            chaos.up.set()

        # -- the load stops; the lock holder stops; one last crash ---------------------------
        chaos.stop.set()
        for worker in workers:
            worker.join(timeout=60)
            assert not worker.is_alive(), f"{worker.name} did not stop"
        stop_file.touch()
        holder_out, holder_err = holder.communicate(timeout=30)
        assert holder.returncode == 0, holder_err
        engine.kill()
        kills += 1
        start_engine(engine, chaos)
        with chaos.lock:
            chaos.generation += 1

        dev_token = workers[-1].headers
        with httpx.Client(base_url=engine.url, headers=dev_token, timeout=60) as http:
            for worker in workers:
                worker.resolve(http)
                assert not worker.lost_at and not worker.pending, f"{worker.name}: unresolved outcomes"
            # every acknowledged change is served
            for worker in workers:
                for guid, states in worker.owned.items():
                    (expected,) = states
                    response = http.get(f"/api/assemblies/{guid}")
                    seen = None if response.status_code == 404 else state_of(response.json())
                    if seen != expected:
                        chaos.problem(f"after restart {guid} is {seen}, acknowledged {expected}")
                    if seen is not None and response.json()["integrity"] != "ok":
                        chaos.problem(f"after restart {guid} integrity {response.json()['integrity']}")
            flushed = flush_until_ok(http)
            assert flushed.status_code == 200, flushed.text
            queue = http.get("/api/assemblies/queue")
            assert queue.status_code == 200 and queue.json()["depth"] == 0, queue.text

        # -- every acknowledged change is in its domain database, with its content ----------
        store = PayloadStore(runtime / "Payloads")
        rows = {domain: read_rows(runtime / name) for domain, name in DB_FILES.items()}
        staged_rows = read_rows(staging / "official.db")
        staging_store = PayloadStore(staging / "Payloads")
        tracked: dict[str, State | None] = {}
        for worker in workers:
            tracked.update({guid: states[0] for guid, states in worker.owned.items()})
        for guid, expected in tracked.items():
            holders = [d for d, r in rows.items() if guid in r]
            if expected is None:
                if holders:
                    chaos.problem(f"deleted {guid} is still in {holders}")
                if guid in staged_rows:
                    chaos.problem(f"deleted official {guid} is still in the staging mirror")
                continue
            if holders != [expected.domain]:
                chaos.problem(f"{guid} ({expected.domain}) is in databases {holders}")
                continue
            summary, revision, payload_guid, checksum = rows[expected.domain][guid]
            if (summary, revision) != (expected.summary, expected.revision):
                chaos.problem(
                    f"{guid}: database has {(summary, revision)}, acknowledged "
                    f"{(expected.summary, expected.revision)}"
                )
            if stored_content(store, payload_guid, checksum) != (expected.main, expected.files):
                chaos.problem(f"{guid}: stored payload {payload_guid} differs from the acknowledged content")
            if expected.domain == "official":
                mirrored = staged_rows.get(guid)
                if mirrored is None or mirrored[:2] != (expected.summary, expected.revision):
                    chaos.problem(
                        f"official {guid}: staging mirror has {mirrored}, acknowledged "
                        f"{(expected.summary, expected.revision)}"
                    )
                elif stored_content(staging_store, mirrored[2], mirrored[3]) != (
                    expected.main,
                    expected.files,
                ):
                    chaos.problem(f"official {guid}: staging payload differs")
        for domain, domain_rows in rows.items():
            for guid in domain_rows:
                if guid not in tracked and not (domain == "official" and guid in originals):
                    chaos.problem(f"{domain} database holds {guid}, which no client made")
        for guid in originals:
            if guid not in rows["official"] or guid not in staged_rows:
                chaos.problem(f"original official {guid} is gone")

        # -- verify and audit verify, through the CLI talking to the running engine ---------
        verified = cli(engine, "verify", "--json")
        assert verified.returncode in (0, 1), verified.stderr
        report = json.loads(verified.stdout)
        assert all(info["ok"] for info in report["schema"].values()), report["schema"]
        assert report["missing"] == [] and report["corrupt"] == [], report
        leftovers = [n for n in os.listdir(runtime / "Payloads") if n.startswith(".tmp-")]
        # gc: with no write in flight every folder no row or kept revision references is garbage
        fixed = cli(engine, "verify", "--fix", "--grace-seconds", "0", "--json")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        removed = json.loads(fixed.stdout)["removed"]
        clean = cli(engine, "verify", "--json")
        assert clean.returncode == 0 and json.loads(clean.stdout)["ok"] is True, clean.stdout
        referenced = {row[2] for domain_rows in rows.values() for row in domain_rows.values()}
        referenced |= {p for name in DB_FILES.values() for p in revision_payloads(runtime / name)}
        on_disk = {n for n in os.listdir(runtime / "Payloads") if not n.startswith(".")}
        assert on_disk == referenced, (sorted(on_disk - referenced)[:5], sorted(referenced - on_disk)[:5])
        audit = cli(engine, "audit", "verify", "--json")
        assert audit.returncode == 0, audit.stdout + audit.stderr

        # -- a graceful stop writes everything and leaves the journal empty -----------------
        assert engine.stop() == 0, engine.output()
        conn = sqlite3.connect(f"{(runtime / 'journal.db').resolve().as_uri()}?mode=ro", uri=True)
        try:
            journal_rows = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
        finally:
            conn.close()
        assert journal_rows == 0
        audit_after = cli(engine, "audit", "verify", "--json")
        assert audit_after.returncode == 0, audit_after.stdout + audit_after.stderr

        acked = sum(v for k, v in chaos.stats.items() if k.startswith("acked"))
        print(f"kills={kills} acknowledged={acked} tracked={len(tracked)} lock holder: {holder_out.strip()}")
        print(
            f"verify: payloads_checked={report['payloads_checked']} old orphans={len(report['orphans'])} "
            f"recent unreferenced={len(report['recent_unreferenced'])} "
            f"leftover temp folders={len(leftovers)} removed by verify --fix={len(removed)}"
        )
        print("audit:", json.loads(audit.stdout).get("entries"), "entries")
        for name, value in sorted(chaos.stats.items()):
            print(f"  {name}: {value}")
        assert not chaos.problems, "\n".join(chaos.problems[:40])
        assert kills >= MIN_KILLS, kills
        assert acked >= MIN_ACKED, chaos.stats
        for kind in REQUIRED_KINDS:
            assert chaos.stats[kind] > 0, (kind, chaos.stats)
        assert any(k.startswith("acked") and ("official" in k or "community" in k) for k in chaos.stats)
    finally:
        chaos.stop.set()
        stop_file.touch()
        if holder is not None and holder.poll() is None:
            try:
                holder.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.communicate()
        if engine.proc is not None and engine.proc.poll() is None:
            engine.stop()


def test_verify_fix_removes_temp_folders_left_by_a_crash(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    home = tmp_path / "home"
    engine = EngineProcess(home, staging)
    engine.start()
    try:
        headers = engine.login()
        created = httpx.post(
            f"{engine.url}/api/assemblies",
            headers=headers,
            timeout=30,
            json={
                "display_name": "kept",
                "assembly_kind": "script",
                "assembly_type": "bash",
                "payload": {"script": "echo kept\n"},
            },
        )
        assert created.status_code == 201, created.text
        # what a write killed between "write the temp folder" and "rename it into place" leaves
        payloads = home / "Assemblies" / "Payloads"
        leftover = payloads / f".tmp-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}"
        leftover.mkdir()
        (leftover / "script.sh").write_text("echo half-written\n")
        old = time.time() - 3600
        os.utime(leftover, (old, old))
        fixed = cli(engine, "verify", "--fix", "--grace-seconds", "0", "--json")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert not leftover.exists(), json.loads(fixed.stdout)
    finally:
        engine.stop()
