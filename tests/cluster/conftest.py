"""Several real engine nodes (``assemblies serve`` processes) on one real PostgreSQL.

Every test gets an empty database: the first node to start migrates it, as in production.
Each node has its own home (logs, cli.json); they share the staging folder. Tests that
leave their nodes healthy may share one pair per module instead (``node_pair``): booting
two nodes costs several seconds a test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.nodes import NodeFactory, NodePair, make_nodes
from tests.engine_process import stop_all
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
    stop_all(started)


@pytest.fixture(scope="module")
def node_pair(
    postgresql_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodePair]:
    """Nodes ``a`` and ``b`` (default settings) on a database of the module's own, shared by
    its tests; each test makes assemblies of its own and must leave both nodes running."""
    name, url = postgresql_server.create_database()
    factory, started = make_nodes(url, tmp_path_factory.mktemp("pair"))
    try:
        yield NodePair(factory("a"), factory("b"), url)
    finally:
        stop_all(started)
        postgresql_server.drop_database(name)
