"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from assembly_engine.config import Settings
from assembly_engine.domain.types import DATABASE_FILES, AssemblyKind, Domain, PayloadType
from assembly_engine.storage.contract.models import AssemblyRecord, PayloadContent
from assembly_engine.storage.sqlite.databases import ConnectionOptions, DomainDatabase
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from assembly_engine.storage.sqlite.payload_folders import PayloadStore

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "admin-password-for-tests"  # the bootstrap admin of every test engine
PASSWORD = "correct horse battery"  # the users the services tests create
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z, where a FakeClock starts

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 30.0) -> T:
    """Poll ``condition`` until it returns something truthy (returned), or fail after
    ``timeout`` seconds naming ``what`` was awaited. Tests wait on conditions, never on
    a fixed sleep that is too long on a quiet machine and too short on a loaded one."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


class FakeClock:
    """A clock that moves only when told (``advance``), for expiry without waiting."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def db_bytes(store: SqliteEngineStore) -> bytes:
    """Everything on disk for a store's database: the main file plus its WAL."""
    data = b""
    for suffix in ("", "-wal"):
        path = Path(str(store.path) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


def script_content(text: str = "Write-Host 'hi'\n") -> PayloadContent:
    return PayloadContent(PayloadType.SCRIPT, "script.ps1", text.encode())


def make_record(
    payloads: PayloadStore | Any,
    domain: Domain = Domain.USER,
    name: str = "Example",
    text: str = "Write-Host 'hi'\n",
    guid: str | None = None,
) -> AssemblyRecord:
    ref = payloads.write_new(script_content(text))
    return AssemblyRecord(
        assembly_guid=guid or uuid.uuid4().hex,
        domain=domain,
        display_name=name,
        assembly_kind=AssemblyKind.SCRIPT,
        assembly_type="powershell",
        payload=ref,
        summary=f"{name} summary",
        category="script",
        version=1,
        created_by="tester",
        updated_by="tester",
    )


def temp_settings(root: Path, **overrides: Any) -> Settings:
    """The one settings builder of the tests: an engine whose home and (empty) staging root
    live under ``root``, no timed flush, the test admin's password and Dev Mode lasting an
    hour (no test outlives it by accident); ``overrides`` win."""
    values: dict[str, Any] = {
        "home": root / "home",
        "staging_root": root / "staging",
        "flush_interval": 3600,
        "admin_password": ADMIN_PASSWORD,
        "lock_retry_seconds": 2.0,
        "dev_mode_ttl_seconds": 3600,
        **overrides,
    }
    Path(values["staging_root"]).mkdir(parents=True, exist_ok=True)
    return Settings(**values)


def stage(staging: Path, domain: Domain, names: list[str]) -> list[AssemblyRecord]:
    """A staging copy of ``domain`` holding one script per name (official sync reads it)."""
    records = [make_record(PayloadStore(staging / "Payloads"), domain, name) for name in names]
    db = DomainDatabase(domain, staging / DATABASE_FILES[domain], ConnectionOptions())
    db.validate()
    db.write([r.to_row() for r in records], [])
    db.close()
    return records


def in_own_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread of its own and return its result (or raise its error).

    The browser tests keep Playwright's event loop running in a test process's main thread
    for the whole session; ``asyncio.run`` and a second Playwright need a thread without one.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()
