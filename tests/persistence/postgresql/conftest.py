"""One throwaway PostgreSQL server for the whole session (tests/postgresql_server.py), and
a fresh database owned by the engine's role for every test. A server that cannot start
fails these tests with the reason; nothing is skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgresql_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(f"the PostgreSQL tests need a throwaway server, which could not start: {exc}",
                    pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(postgresql_server: PostgresServer) -> Iterator[str]:
    """The engine's URL of an empty database, dropped after the test."""
    name, url = postgresql_server.create_database()
    try:
        yield url
    finally:
        postgresql_server.drop_database(name)
