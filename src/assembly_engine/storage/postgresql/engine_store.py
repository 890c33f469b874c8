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

import psycopg
from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.engine_records import (
    SESSION_SELECT,
    USER_COLUMNS,
    SessionRow,
    UpdateResult,
    UserChange,
    UserRow,
    UserState,
    changed_user,
    session_row,
    user_row,
)
from assembly_engine.storage.postgresql.engine_favourites import PostgresFavouriteTable
from assembly_engine.storage.postgresql.engine_tokens import PostgresTokenTable
from assembly_engine.storage.postgresql.errors import translated

# SQLite's NOCASE on a name, as the users_nocase index spells it.
_NAME = 'lower(username COLLATE "C")'
_SAME_NAME = f'{_NAME} = lower(%s COLLATE "C")'
# SHARE ROW EXCLUSIVE conflicts with itself and with every INSERT/UPDATE/DELETE of users,
# and waits for the ones in flight: what the table looked like stays true until commit.
_LOCK_USERS = "LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"
_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '10s'"
_REVOKE = "UPDATE sessions SET revoked = TRUE, dev_mode_until = NULL, dev_mode_reason = NULL"


class PostgresEngineStore(PostgresTokenTable, PostgresFavouriteTable):
    """Users, sessions, API tokens, favourites and secrets of the whole cluster, on one
    node's connection pool."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def close(self) -> None:
        """Nothing to release: the pool belongs to the node, which closes it."""

    def schema_version(self) -> int:
        with translated("reading the schema version"), self._pool.connection() as conn:
            row = conn.execute("SELECT COALESCE(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0]) if row else 0

    # -- users -----------------------------------------------------------------------------

    def insert_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        now: str,
        *,
        only_if_empty: bool = False,
        must_change_password: bool = False,
    ) -> bool:
        """Insert a user; False when the name is taken (or, with ``only_if_empty``, when any
        user exists already: checked with the table locked, so of two nodes bootstrapping
        at once exactly one creates the first admin)."""
        with translated("creating a user"), self._pool.connection() as conn, conn.transaction():
            if only_if_empty:
                conn.execute(_LOCK_TIMEOUT)
                conn.execute(_LOCK_USERS)
                if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                    return False
            cursor = conn.execute(
                f"INSERT INTO users ({USER_COLUMNS}) VALUES (%s, %s, %s, FALSE, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (username, password_hash, role, now, now, must_change_password),
            )
            return cursor.rowcount == 1

    def get_user(self, username: str) -> UserRow | None:
        with translated("reading a user"), self._pool.connection() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE {_SAME_NAME}", (username,)).fetchone()
        return None if row is None else user_row(row)

    def list_users(self) -> list[UserRow]:
        with translated("listing users"), self._pool.connection() as conn:
            rows = conn.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY {_NAME}").fetchall()
        return [user_row(row) for row in rows]

    def count_users(self) -> int:
        with translated("counting users"), self._pool.connection() as conn:
            row = conn.execute("SELECT count(*) FROM users").fetchone()
        return int(row[0]) if row else 0

    def update_user(self, username: str, now: str, change: UserChange) -> UpdateResult:
        """Change a user and, in the same transaction, end or downgrade their sessions.

        Refuses (``"last_admin"``) to demote or disable the last enabled admin; the table
        is locked first, so two nodes demoting the last two admins at once cannot both win.
        """
        with translated("changing a user"), self._pool.connection() as conn, conn.transaction():
            conn.execute(_LOCK_TIMEOUT)
            conn.execute(_LOCK_USERS)
            current = conn.execute(
                f"SELECT username, role, disabled FROM users WHERE {_SAME_NAME}", (username,)
            ).fetchone()
            if current is None:
                return "not_found"
            name, old_role, old_disabled = current

            def other_enabled_admins() -> int:
                found = conn.execute(
                    "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND username <> %s",
                    (name,),
                ).fetchone()
                return int(found[0]) if found else 0

            new = changed_user(UserState(old_role, bool(old_disabled)), change, other_enabled_admins)
            if new is None:
                return "last_admin"
            conn.execute(
                "UPDATE users SET role = %s, disabled = %s, "
                "password_hash = COALESCE(%s, password_hash), "
                "must_change_password = COALESCE(%s, must_change_password), updated_at = %s "
                "WHERE username = %s",
                (new.role, new.disabled, change.password_hash, change.must_change_password, now, name),
            )
            if change.ends_sessions:
                self._revoke_user_sessions(conn, name, change.revoke_sessions_except)
            if change.clear_dev_mode:
                conn.execute(
                    "UPDATE sessions SET dev_mode_until = NULL, dev_mode_reason = NULL WHERE username = %s",
                    (name,),
                )
            return "updated"

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Store a re-hashed password (same password, newer parameters); no side effects."""
        with translated("storing a password hash"), self._pool.connection() as conn:
            conn.execute(f"UPDATE users SET password_hash = %s WHERE {_SAME_NAME}", (password_hash, username))

    def delete_user(self, username: str) -> bool:
        """Delete a user; their sessions go with them (ON DELETE CASCADE)."""
        with translated("deleting a user"), self._pool.connection() as conn:
            return conn.execute(f"DELETE FROM users WHERE {_SAME_NAME}", (username,)).rowcount == 1

    # -- sessions --------------------------------------------------------------------------

    def insert_session(
        self, token_hash: str, username: str, created_at: float, expires_at: float
    ) -> SessionRow | None:
        """Create a session for an existing, enabled user; None otherwise."""
        with translated("starting a session"), self._pool.connection() as conn, conn.transaction():
            # FOR SHARE: the user cannot be deleted or disabled before the session exists.
            user = conn.execute(
                f"SELECT username FROM users WHERE {_SAME_NAME} AND NOT disabled FOR SHARE", (username,)
            ).fetchone()
            if user is None:
                return None
            conn.execute(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at, last_seen, revoked) "
                "VALUES (%s, %s, %s, %s, %s, FALSE)",
                (token_hash, user[0], created_at, expires_at, created_at),
            )
            row = conn.execute(SESSION_SELECT + " WHERE s.token_hash = %s", (token_hash,)).fetchone()
        return None if row is None else session_row(row)

    def get_session(self, token_hash: str) -> SessionRow | None:
        with translated("reading a session"), self._pool.connection() as conn:
            row = conn.execute(SESSION_SELECT + " WHERE s.token_hash = %s", (token_hash,)).fetchone()
        return None if row is None else session_row(row)

    def list_sessions(self, username: str) -> list[SessionRow]:
        with translated("listing sessions"), self._pool.connection() as conn:
            rows = conn.execute(
                SESSION_SELECT + ' WHERE lower(s.username COLLATE "C") = lower(%s COLLATE "C") '
                "ORDER BY s.created_at",
                (username,),
            ).fetchall()
        return [session_row(row) for row in rows]

    def touch_session(self, token_hash: str, last_seen: float) -> None:
        with translated("recording a session's use"), self._pool.connection() as conn:
            conn.execute(
                "UPDATE sessions SET last_seen = %s WHERE token_hash = %s AND last_seen < %s",
                (last_seen, token_hash, last_seen),
            )

    def revoke_session(self, token_hash: str) -> bool:
        with translated("ending a session"), self._pool.connection() as conn:
            cursor = conn.execute(_REVOKE + " WHERE token_hash = %s AND NOT revoked", (token_hash,))
            return cursor.rowcount == 1

    def revoke_user_sessions(self, username: str, except_hash: str | None = None) -> int:
        with translated("ending a user's sessions"), self._pool.connection() as conn, conn.transaction():
            user = conn.execute(f"SELECT username FROM users WHERE {_SAME_NAME}", (username,)).fetchone()
            return 0 if user is None else self._revoke_user_sessions(conn, user[0], except_hash)

    @staticmethod
    def _revoke_user_sessions(conn: psycopg.Connection, username: str, except_hash: str | None) -> int:
        cursor = conn.execute(
            _REVOKE + " WHERE username = %s AND NOT revoked AND token_hash IS DISTINCT FROM %s",
            (username, except_hash),
        )
        return cursor.rowcount

    def purge_sessions(self, now: float) -> int:
        """Delete sessions that can never be used again (expired)."""
        with translated("removing expired sessions"), self._pool.connection() as conn:
            return conn.execute("DELETE FROM sessions WHERE expires_at <= %s", (now,)).rowcount

    def set_dev_mode(self, token_hash: str, until: float | None, reason: str | None, now: float) -> bool:
        """Set (or clear, with ``until=None``) Dev Mode on one live session."""
        with translated("switching Dev Mode"), self._pool.connection() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET dev_mode_until = %s, dev_mode_reason = %s "
                "WHERE token_hash = %s AND NOT revoked AND expires_at > %s",
                (until, reason, token_hash, now),
            )
            return cursor.rowcount == 1

    def clear_expired_dev_mode(self, token_hash: str, now: float) -> bool:
        """Clear Dev Mode if it has expired; True only for the one caller (on any node) that
        cleared it: the UPDATE's row lock decides."""
        with translated("ending Dev Mode"), self._pool.connection() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET dev_mode_until = NULL, dev_mode_reason = NULL "
                "WHERE token_hash = %s AND dev_mode_until IS NOT NULL AND dev_mode_until <= %s",
                (token_hash, now),
            )
            return cursor.rowcount == 1

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
