"""Fixtures of cluster mode, loaded by tests/conftest.py for every test that asks.

One throwaway PostgreSQL server for the whole session (tests/postgresql_server.py), and
a fresh database owned by the engine's role for every test: empty (``database_url``) or
at the current schema (``migrated_url``, a copy of a template migrated once). A server that cannot start
fails these tests with the reason; nothing is skipped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assembly_engine.storage.postgresql.pool import migrate_database
from tests.postgresql_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(
            f"the PostgreSQL tests need a throwaway server, which could not start: {exc}", pytrace=False
        )
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


@pytest.fixture(scope="session")
def migrated_template(postgresql_server: PostgresServer) -> str:
    name, url = postgresql_server.create_database()
    migrate_database(url)  # its connection is closed again: a template must have none
    return name


@pytest.fixture
def migrated_url(postgresql_server: PostgresServer, migrated_template: str) -> Iterator[str]:
    """The engine's URL of a database at the current schema, dropped after the test."""
    name, url = postgresql_server.create_database(template=migrated_template)
    try:
        yield url
    finally:
        postgresql_server.drop_database(name)
