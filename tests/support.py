"""Helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from assembly_engine.config import Settings
from assembly_engine.persistence.models import AssemblyRecord, PayloadContent
from assembly_engine.persistence.payloads import PayloadStore
from assembly_engine.types import AssemblyKind, Domain, PayloadType

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "admin-password-for-tests"
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
T = TypeVar("T")


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
    """Settings for an engine whose home and (empty) staging root live under ``root``."""
    staging = root / "staging"
    staging.mkdir(exist_ok=True)
    values: dict[str, Any] = {"flush_interval": 3600, "admin_password": ADMIN_PASSWORD, **overrides}
    return Settings(home=root / "home", staging_root=staging, **values)


def wait_until(condition: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Poll ``condition`` until it gives a true value (returned); fail after ``timeout``
    seconds, saying what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f}s")
        time.sleep(0.02)
