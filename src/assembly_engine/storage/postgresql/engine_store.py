"""The engine's own records in PostgreSQL: users, sign-in sessions (with Dev Mode), secrets.

The cluster backend of the EngineStore interface, with SqliteEngineStore's semantics on
tables shared by every node (schema_v1's ``users``, ``sessions``, ``engine_meta``):

* user names compare like SQLite's NOCASE, ASCII letters only: every lookup goes through
  ``lower(username COLLATE "C")``, the expression of the ``users_nocase`` unique index;
* changes that judge the users table as a whole (the first admin's bootstrap, the "last
  enabled admin" check) lock it against other writers first, so two nodes cannot both
  pass the check;
* sessions are not cached: another node may revoke one, or switch its Dev Mode, at any time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg_pool import ConnectionPool

from assembly_engine.storage.formats.account_tables import AccountTables
from assembly_engine.storage.formats.engine_sql import EngineDialect, Executes
from assembly_engine.storage.formats.favourite_tables import FavouriteTables
from assembly_engine.storage.formats.token_tables import TokenTables
from assembly_engine.storage.postgresql.errors import translated

# SHARE ROW EXCLUSIVE conflicts with itself and with every INSERT/UPDATE/DELETE of users,
# and waits for the ones in flight: what the table looked like stays true until commit.
_DIALECT = EngineDialect(
    placeholder="%s",
    folded_template='lower({} COLLATE "C")',  # SQLite's NOCASE, as the users_nocase index spells it
    for_share=" FOR SHARE",
    for_update=" FOR UPDATE",
    lock_users=("SET LOCAL lock_timeout = '10s'", "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"),
)


class PostgresEngineStore(AccountTables, TokenTables, FavouriteTables):
    """Users, sessions, API tokens, favourites and secrets of the whole cluster, on one
    node's connection pool (their queries: formats/*_tables.py)."""

    _dialect = _DIALECT

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def close(self) -> None:
        """Nothing to release: the pool belongs to the node, which closes it."""

    def schema_version(self) -> int:
        with translated("reading the schema version"), self._pool.connection() as conn:
            row = conn.execute("SELECT COALESCE(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def _read(self, doing: str) -> Iterator[Executes]:
        with translated(doing), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _write(self, doing: str) -> Iterator[Executes]:
        with translated(doing), self._pool.connection() as conn, conn.transaction():
            yield conn

    # -- secrets ---------------------------------------------------------------------------

    def secret(self, name: str, size: int = 32) -> bytes:
        """A random secret of the whole cluster, created on first use: of two nodes asking
        at once, the second's insert waits for the first's and then does nothing, so both
        read the same bytes."""
        key = f"secret:{name}"
        with translated("reading a secret"), self._pool.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO engine_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                (key, secrets.token_bytes(size)),
            )
            row = conn.execute("SELECT value FROM engine_meta WHERE key = %s", (key,)).fetchone()
        if row is None:  # inserted or already there: only a concurrent DELETE gets here
            raise RuntimeError(f"secret {name!r} vanished while it was read")
        return bytes(row[0])
