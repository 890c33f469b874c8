"""Fixtures of the services tests: a real engine.db store, a fake clock and the users on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assembly_engine.services.auth.users import UserService
from assembly_engine.storage.sqlite.engine_store import SqliteEngineStore
from tests.support import FakeClock


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEngineStore]:
    engine_store = SqliteEngineStore(tmp_path / "engine.db", busy_timeout_ms=2000)
    yield engine_store
    engine_store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def users(store: SqliteEngineStore, clock: FakeClock) -> UserService:
    """No users yet (fast hashing); a module that needs some overrides this fixture."""
    return UserService(store, fast_hashing=True, clock=clock)
