"""Fixtures of the API tests; the helpers they use are in support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.support import ApiEngine, settings_on, start_engine


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module that sets ``API_BACKENDS`` gets its ``api`` engine once per backend."""
    backends = getattr(metafunc.module, "API_BACKENDS", None)
    if backends and "api" in metafunc.fixturenames:
        metafunc.parametrize("api", backends, indirect=True, scope="module")


@pytest.fixture(scope="module")
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEngine]:
    """A module-wide engine with every caller kind signed in: embedded, or, in a module
    with ``API_BACKENDS``, once on each (a cluster node has a PostgreSQL database of its own)."""
    with settings_on(
        getattr(request, "param", "sqlite"), request, tmp_path_factory.mktemp("api")
    ) as settings:
        yield from start_engine(settings)
