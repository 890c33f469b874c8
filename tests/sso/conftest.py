"""One test provider process and one engine that trusts it, per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.engine_process import EngineProcess
from tests.sso.support import ProviderProcess, provider_process, sso_engine


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderProcess]:
    with provider_process() as started:
        yield started


@pytest.fixture(scope="module")
def engine(provider: ProviderProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    process = sso_engine(tmp_path_factory.mktemp("sso"), provider.issuer).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(autouse=True)
def provider_behaves(provider: ProviderProcess) -> None:
    """Every test starts with a provider that behaves (a test may have set a mode)."""
    provider.control(mode="ok", delay=0)
