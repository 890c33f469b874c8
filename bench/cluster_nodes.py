"""Cluster nodes for the benchmarks: engine processes on one PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.postgresql_server import PostgresServer

from .common import Engine


def node(url: str, folder: Path, name: str) -> Engine:
    """A node (not started) of the library at ``url``: its own home under ``folder``, the
    staging folder every node of ``folder`` shares (empty: nothing to sync)."""
    staging = folder / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    return Engine(folder / name / "home", staging, extra_env={"ENGINE_DATABASE_URL": url})


@contextmanager
def running_nodes(url: str, folder: Path, count: int) -> Iterator[list[Engine]]:
    """``count`` nodes started one after the other (the first migrates an empty database
    and creates the admin account), stopped at the end."""
    nodes: list[Engine] = []
    try:
        for index in range(count):
            engine = node(url, folder, f"node{index}").start()
            nodes.append(engine)
            engine.wait_ready()
        yield nodes
    finally:
        for engine in nodes:
            engine.stop()


@contextmanager
def database(server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on ``server`` (its engine URL), dropped at the end."""
    name, url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(name)
