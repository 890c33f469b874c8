"""Versioned, idempotent migrations of the cluster schema, safe with many nodes starting.

``schema_migrations`` records each applied version with a checksum of its statements. A
starting node takes a session-level advisory lock first, so when several start at once
one migrates and the others wait, then find nothing left to do. Each migration runs in its
own transaction together with its ``schema_migrations`` row: a crash or an error leaves
the previous version whole, and the next start runs the same migration again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors

from assembly_engine.storage.contract.errors import SchemaError
from assembly_engine.storage.postgresql import (
    schema_v1,
    schema_v2,
    schema_v3,
    schema_v4,
    schema_v5,
    schema_v6,
    schema_v7,
    schema_v8,
)

# pg_advisory_lock(namespace, key): the namespace keeps the engine's locks apart from any
# other application's on the same database ("AsEn" in ASCII).
LOCK_NAMESPACE = 0x41_73_45_6E
MIGRATION_LOCK_KEY = 1

CREATE_MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    # Rewrites rows the statements cannot (run after them, in the same transaction).
    convert: Callable[[psycopg.Connection[Any]], None] | None = None

    @property
    def checksum(self) -> str:
        """Changes when a statement does: an applied migration must never be edited."""
        return hashlib.sha256("\n;\n".join(self.statements).encode("utf-8")).hexdigest()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, schema_v1.NAME, schema_v1.STATEMENTS),
    Migration(2, schema_v2.NAME, schema_v2.STATEMENTS),
    Migration(3, schema_v3.NAME, schema_v3.STATEMENTS),
    Migration(4, schema_v4.NAME, schema_v4.STATEMENTS, schema_v4.convert),
    Migration(5, schema_v5.NAME, schema_v5.STATEMENTS),
    Migration(6, schema_v6.NAME, schema_v6.STATEMENTS),
    Migration(7, schema_v7.NAME, schema_v7.STATEMENTS),
    Migration(8, schema_v8.NAME, schema_v8.STATEMENTS),
)


class MigrationError(SchemaError):
    """The database cannot be brought to this engine's schema; the message says why."""


def _check_order(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, … in order, not {versions}")


def applied_versions(conn: psycopg.Connection) -> dict[int, str]:
    """version -> checksum of every applied migration ({} before the first)."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    return {int(v): str(c) for v, c in conn.execute("SELECT version, checksum FROM schema_migrations")}


def migrate(
    conn: psycopg.Connection,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    lock_wait_seconds: float = 120.0,
) -> list[int]:
    """Apply the migrations the database lacks; return their versions ([] when none).

    ``conn`` must be in autocommit mode (each migration opens its own transaction). Waits
    up to ``lock_wait_seconds`` for another node that is migrating."""
    _check_order(migrations)
    if not conn.autocommit:
        raise ValueError("migrate needs a connection in autocommit mode")
    conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(lock_wait_seconds * 1000)}ms",))
    try:
        try:
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK_KEY))
        except errors.LockNotAvailable:
            raise MigrationError(
                f"another node held the migration lock for over {lock_wait_seconds:g}s; "
                "is a migration stuck? (pg_locks shows who holds it)"
            ) from None
        try:
            return _apply_missing(conn, migrations)
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK_KEY))
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("RESET lock_timeout")


def _apply_missing(conn: psycopg.Connection, migrations: Sequence[Migration]) -> list[int]:
    with conn.transaction():
        conn.execute(CREATE_MIGRATIONS_TABLE)
    applied = applied_versions(conn)
    known = {m.version: m for m in migrations}
    newer = sorted(v for v in applied if v not in known)
    if newer:
        raise MigrationError(
            f"the database has schema version {newer[-1]}, newer than this engine "
            f"knows ({len(migrations)}): upgrade the engine"
        )
    for version, checksum in sorted(applied.items()):
        if known[version].checksum != checksum:
            raise MigrationError(
                f"migration {version} ({known[version].name}) differs from the one "
                "applied to this database; applied migrations are never edited"
            )
    done: list[int] = []
    for migration in migrations:
        if migration.version in applied:
            continue
        with conn.transaction():
            for statement in migration.statements:
                conn.execute(statement)
            if migration.convert is not None:
                migration.convert(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
        done.append(migration.version)
    return done
