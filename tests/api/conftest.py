"""Fixtures of the API tests; the helpers they use are in support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.support import ApiEngine, start_engine
from tests.support import temp_settings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEngine]:
    """A module-wide engine with every caller kind signed in."""
    yield from start_engine(temp_settings(tmp_path_factory.mktemp("api")))
