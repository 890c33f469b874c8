"""Fixtures of the CLI tests: a home with a copy of the shipped library as staging, and a
real engine serving it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.support import STAGING_SOURCE, Cli
from tests.engine_process import EngineProcess


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    staging = tmp_path / "staging"
    shutil.copytree(STAGING_SOURCE, staging)
    return Cli(home=tmp_path / "home", staging=staging)


@pytest.fixture
def running(cli: Cli) -> Iterator[EngineProcess]:
    engine = EngineProcess(cli.home, cli.staging).start()
    try:
        yield engine
    finally:
        engine.stop()
