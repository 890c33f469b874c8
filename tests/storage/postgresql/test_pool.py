"""Connection pools on the throwaway server: they connect, survive a dropped connection,
and say clearly (without the password) why they cannot connect."""

from __future__ import annotations

import time

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from assembly_engine.storage.postgresql.pool import (
    APPLICATION_NAME,
    DatabaseUnreachable,
    connect,
    create_pool,
)
from tests.postgresql_server import PostgresServer, free_port
from tests.support import wait_until


def test_a_pool_serves_connections_named_after_the_engine(database_url: str) -> None:
    with create_pool(database_url, min_size=2, max_size=3) as pool:
        with pool.connection() as conn:
            row = conn.execute("SELECT current_setting('application_name'), current_user").fetchone()
        assert row == (APPLICATION_NAME, "engine")
        assert pool.get_stats()["pool_size"] >= 2


def test_a_connection_the_server_dropped_is_replaced(
    database_url: str, postgresql_server: PostgresServer
) -> None:
    with create_pool(database_url, min_size=1, max_size=1) as pool:
        with pool.connection() as conn:
            first = conn.info.backend_pid
        with psycopg.connect(postgresql_server.url(), autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
            # Dropped once its server process is gone (it ends a moment after the signal).
            gone = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
            wait_until(lambda: not admin.execute(gone, (first,)).fetchone(), "its server process to end")
        with pool.connection() as conn:  # checked on the way out: a new one, no error
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != first


def test_an_unreachable_server_is_named_without_the_password() -> None:
    url = f"postgresql://engine:s3cret-pw@127.0.0.1:{free_port()}/library"
    with pytest.raises(DatabaseUnreachable) as caught:
        create_pool(url, timeout=1, connect_timeout=1)
    message = str(caught.value)
    assert "postgresql://engine:***@127.0.0.1" in message and "Connection refused" in message
    assert "s3cret-pw" not in message
    with pytest.raises(DatabaseUnreachable, match="could not be reached") as caught:
        connect(url, connect_timeout=1)
    assert "s3cret-pw" not in str(caught.value)


def test_a_wrong_password_is_reported_as_such(database_url: str) -> None:
    wrong = database_url.replace("@127.0.0.1", "x@127.0.0.1")
    with pytest.raises(DatabaseUnreachable, match="password authentication failed") as caught:
        create_pool(wrong, timeout=2, connect_timeout=2)
    assert wrong.split("@")[0].split(":")[-1] not in str(caught.value)


def test_the_first_request_after_the_database_went_away_is_refused_quickly(
    postgresql_server: PostgresServer,
) -> None:
    name, url = postgresql_server.create_database()
    with create_pool(url, min_size=1, max_size=1, timeout=30.0) as pool:
        postgresql_server.drop_database(name)  # ends its connections, refuses new ones
        began = time.monotonic()
        with pytest.raises(PoolTimeout), pool.connection() as conn:
            conn.execute("SELECT 1")
        # Not the pool's 30 s: half a second for a free connection, then the server is asked.
        assert time.monotonic() - began < 10
        assert pool.unreachable_since is not None
