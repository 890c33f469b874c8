"""Shared fixtures: every test runs on temporary roots, never the repository's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.config import Settings

# The PostgreSQL server and databases (started only when a test asks for them).
pytest_plugins = ["tests.postgresql_fixtures"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    staging = tmp_path / "staging"
    staging.mkdir()
    return Settings(
        home=tmp_path / "home",
        staging_root=staging,
        flush_interval=3600,
        admin_password="admin-password-for-tests",
        lock_retry_seconds=2.0,
    )
