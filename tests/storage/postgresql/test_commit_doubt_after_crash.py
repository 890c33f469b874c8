"""A commit in doubt across a crash of PostgreSQL: the transaction's id proves nothing.

A crash that loses a transaction before its id reached the log lets PostgreSQL hand that
id out again; ``pg_xact_status`` then says "in the future", and later the newcomer's
``committed``. Only the rows the transaction wrote can say whether it committed."""

from __future__ import annotations

import psycopg
import pytest

from assembly_engine.storage.postgresql.commit_doubt import settle
from assembly_engine.storage.postgresql.pool import create_pool
from tests.postgresql_server import PostgresServer


def test_an_id_lost_in_a_crash_is_never_taken_for_a_commit() -> None:
    server = PostgresServer().start()
    try:
        _, url = server.create_database()
        lost = psycopg.connect(url)
        (xid,) = lost.execute("SELECT pg_current_xact_id()::text").fetchone()  # type: ignore[misc]  # one row
        server.halt("immediate")  # the transaction, never committed, dies with the server
        lost.close()
        server.resume()
        with create_pool(url, max_size=2) as pool:
            with psycopg.connect(url, autocommit=True) as conn:
                with pytest.raises(psycopg.errors.InvalidParameterValue, match="in the future"):
                    conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,))
                assert settle(pool, xid, lambda _: False, deadline_seconds=10) is False
                # Other transactions take the id again; PostgreSQL now reports theirs.
                for _ in range(1000):
                    (taken,) = conn.execute("SELECT pg_current_xact_id()::text").fetchone()  # type: ignore[misc]
                    if int(taken) >= int(xid):
                        break
                (status,) = conn.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()  # type: ignore[misc]
                assert status == "committed"
            assert settle(pool, xid, lambda _: False, deadline_seconds=10) is False
            assert settle(pool, xid, lambda _: True, deadline_seconds=10) is True
    finally:
        server.stop()
