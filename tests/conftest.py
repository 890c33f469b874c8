"""Shared fixtures: every test runs on temporary roots, never the repository's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly_engine.config import Settings
from tests.support import temp_settings

# The PostgreSQL server and databases (started only when a test asks for them).
pytest_plugins = ["tests.postgresql_fixtures"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return temp_settings(tmp_path)
