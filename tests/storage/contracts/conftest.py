"""One contract suite per storage interface (storage/contract/interfaces.py), run per backend:
every test asks the ``backend`` fixture for the store it checks (backends.py builds them),
so the assertions are the same for every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.contracts.backends import Backend, PostgresBackend, SqliteBackend


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    built: Backend
    if request.param == "postgresql":
        built = PostgresBackend(request.getfixturevalue("migrated_url"))
    else:
        built = SqliteBackend(tmp_path / "home")
    yield built
    built.close()
