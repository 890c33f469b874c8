"""Several real engine nodes (``assemblies serve`` processes) on one real PostgreSQL.

Every test gets an empty database: the first node to start migrates it, as in production.
Each node has its own home (logs, cli.json); they share the staging folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.nodes import NodeFactory, make_nodes
from tests.postgresql_server import PostgresServer


@pytest.fixture
def cluster_url(postgresql_server: PostgresServer) -> Iterator[str]:
    name, url = postgresql_server.create_database()
    yield url
    postgresql_server.drop_database(name)


@pytest.fixture
def node(cluster_url: str, tmp_path: Path) -> Iterator[NodeFactory]:
    """Start a node: ``node("a")``; every node started is stopped at the end."""
    factory, started = make_nodes(cluster_url, tmp_path)
    yield factory
    for engine in started:
        if engine.proc is not None and engine.proc.poll() is None:
            engine.stop()
