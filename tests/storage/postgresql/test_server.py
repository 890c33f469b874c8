"""The throwaway server itself: a real postmaster owned by an unprivileged user, on
loopback only, durable unless asked otherwise, and gone without a trace when stopped."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import psycopg
import pytest

from tests.postgresql_server import PostgresServer, PostgresUnavailable, find_bin_dir


def postmaster_uid(server: PostgresServer) -> int:
    pid = int((server.data_dir / "postmaster.pid").read_text().splitlines()[0])
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def test_the_session_server_is_real_durable_and_unprivileged(postgresql_server: PostgresServer) -> None:
    with psycopg.connect(postgresql_server.url()) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'listen_addresses', 'unix_socket_directories')"
            ).fetchall()
        )
    assert settings == {
        "fsync": "on",
        "synchronous_commit": "on",
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(postgresql_server.base),
    }
    uid = postmaster_uid(postgresql_server)
    assert uid != 0
    if os.geteuid() == 0:
        assert postgresql_server.user is not None and pwd.getpwnam(postgresql_server.user).pw_uid == uid
        assert postgresql_server.data_dir.stat().st_uid == uid
    else:
        assert uid == os.geteuid()


def test_signing_in_needs_the_password(postgresql_server: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgresql_server.url(password="not-the-password"), connect_timeout=10)


def test_a_fast_server_on_request_and_nothing_left_after_stop() -> None:
    server = PostgresServer(durable=False).start()
    base, port = server.base, server.port
    assert base is not None
    try:
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
    finally:
        server.stop()
    assert not base.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5)
    server.stop()  # stopping twice is harmless


def test_missing_binaries_are_reported_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PostgresUnavailable, match="tools/ensure_postgresql.sh"):
        find_bin_dir(tmp_path)
    assert find_bin_dir().name == "bin"
