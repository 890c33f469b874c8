"""Migrations on a real PostgreSQL: applied once, in order, each whole or not at all, and
exactly once when several nodes start together."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest

from assembly_engine.storage.contract.models import COLUMNS
from assembly_engine.storage.postgresql.migrations import (
    LOCK_NAMESPACE,
    MIGRATION_LOCK_KEY,
    MIGRATIONS,
    Migration,
    MigrationError,
    applied_versions,
    migrate,
)
from assembly_engine.storage.postgresql.pool import connect, migrate_database
from assembly_engine.storage.postgresql.schema_v1 import DOMAIN_SCHEMAS

TABLES = {
    "public": {
        "schema_migrations",
        "write_queue",
        "write_queue_head",
        "revision_heads",
        "payload_files",
        "users",
        "sessions",
        "engine_meta",
        "api_tokens",
        "login_throttle",
        "login_throttle_in_flight",
        "audit_log",
        "audit_head",
        "flush_state",
        "script_checks",
        "search_bodies",
        "favourites",
    },
    **{
        schema: {"assemblies", "revisions", "revision_metadata", "deleted_assemblies"}
        for schema in DOMAIN_SCHEMAS.values()
    },
}
TABLES["official"] = TABLES["official"] | {"content_stamp"}


def tables(conn: psycopg.Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for schema, name in conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    ):
        found.setdefault(schema, set()).add(name)
    return found


def test_the_first_start_creates_the_whole_schema(database_url: str) -> None:
    assert migrate_database(database_url) == [m.version for m in MIGRATIONS]
    with connect(database_url) as conn:
        assert tables(conn) == TABLES
        for schema in DOMAIN_SCHEMAS.values():
            columns = [
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                    "AND table_name = 'assemblies' ORDER BY ordinal_position",
                    (schema,),
                )
            ]
            assert columns == list(COLUMNS), schema  # today's columns, in today's order
        assert applied_versions(conn) == {m.version: m.checksum for m in MIGRATIONS}


def test_migrating_again_changes_nothing(database_url: str) -> None:
    migrate_database(database_url)
    with connect(database_url) as conn:
        before = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
        assert migrate(conn) == []
        assert conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall() == before


def test_a_failing_migration_leaves_nothing_and_runs_again_next_time(database_url: str) -> None:
    first = Migration(1, "one table", ("CREATE TABLE one (x INTEGER)",))
    broken = Migration(2, "half done", ("CREATE TABLE two (x INTEGER)", "SELECT no_such_function()"))
    with connect(database_url) as conn:
        with pytest.raises(psycopg.errors.UndefinedFunction):
            migrate(conn, [first, broken])
        assert applied_versions(conn) == {1: first.checksum}
        assert conn.execute("SELECT to_regclass('two')").fetchone() == (None,)  # rolled back whole
        fixed = Migration(2, "half done", ("CREATE TABLE two (x INTEGER)",))
        assert migrate(conn, [first, fixed]) == [2]
        # The lock was given back after the failure: another session can take it at once.
        assert conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK_KEY)
        ).fetchone() == (True,)


def test_a_database_of_a_newer_engine_is_refused(database_url: str) -> None:
    one = Migration(1, "one", ("CREATE TABLE one (x INTEGER)",))
    two = Migration(2, "two", ("CREATE TABLE two (x INTEGER)",))
    with connect(database_url) as conn:
        migrate(conn, [one, two])
        with pytest.raises(MigrationError, match="schema version 2, newer than this engine knows"):
            migrate(conn, [one])


def test_an_applied_migration_that_was_edited_is_refused(database_url: str) -> None:
    with connect(database_url) as conn:
        migrate(conn, [Migration(1, "one", ("CREATE TABLE one (x INTEGER)",))])
        with pytest.raises(MigrationError, match="differs from the one applied"):
            migrate(conn, [Migration(1, "one", ("CREATE TABLE one (x BIGINT)",))])


def test_migrations_must_be_numbered_in_order(database_url: str) -> None:
    with connect(database_url) as conn:
        with pytest.raises(ValueError, match="numbered 1, 2, 3"):
            migrate(conn, [Migration(2, "two", ("SELECT 1",))])
        with pytest.raises(ValueError, match="autocommit"):
            with psycopg.connect(database_url) as plain:
                migrate(plain)


def test_a_node_waits_for_the_migration_lock_no_longer_than_it_was_told(database_url: str) -> None:
    with connect(database_url) as holder, connect(database_url) as waiter:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK_KEY))
        started = time.monotonic()
        with pytest.raises(MigrationError, match="held the migration lock for over"):
            migrate(waiter, lock_wait_seconds=0.3)
        assert time.monotonic() - started < 5
        assert applied_versions(waiter) == {}
        assert waiter.execute("SHOW lock_timeout").fetchone() == ("0",)  # the session is as it was


MIGRATE_IN_A_PROCESS = (
    "import json, sys\n"
    "from assembly_engine.storage.postgresql.pool import migrate_database\n"
    "print(json.dumps(migrate_database(sys.argv[1])))\n"
)


def waiting_for_the_lock(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 2",
        (LOCK_NAMESPACE, MIGRATION_LOCK_KEY),
    ).fetchone()
    return int(row[0]) if row else 0


def test_nodes_starting_together_migrate_once(database_url: str) -> None:
    """Three processes start while the lock is held, so all three are sure to contend."""
    with connect(database_url) as gate:
        gate.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK_KEY))
        nodes = [
            subprocess.Popen(
                [sys.executable, "-c", MIGRATE_IN_A_PROCESS, database_url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        try:
            deadline = time.monotonic() + 60
            while waiting_for_the_lock(gate) < len(nodes):
                assert time.monotonic() < deadline, "the nodes never queued for the migration lock"
                assert all(node.poll() is None for node in nodes), [n.communicate() for n in nodes]
                time.sleep(0.02)
            gate.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK_KEY))
            outcomes = []
            for node in nodes:
                out, err = node.communicate(timeout=120)
                assert node.returncode == 0, err
                outcomes.append(json.loads(out))
        finally:
            for node in nodes:
                if node.poll() is None:
                    node.kill()
                    node.wait()
        everything = [m.version for m in MIGRATIONS]
        assert sorted(outcomes) == [[], [], everything]
        assert gate.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall() == [
            (v,) for v in everything
        ]
