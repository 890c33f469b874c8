"""The users and sessions tables as both engine stores keep them, written once.

The embedded store (sqlite/engine_store.py) and the cluster store
(postgresql/engine_store.py) hold the same rows under the same rules: user names compare
ASCII case-insensitively, the last enabled admin cannot be demoted or disabled, a change
ends or downgrades the user's sessions in its own transaction. The statements and that
order of steps live here; a backend supplies its transactions and a dialect (engine_sql.py).
"""

from __future__ import annotations

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
from assembly_engine.storage.formats.engine_sql import EngineTables, Executes

_REVOKE = "UPDATE sessions SET revoked = TRUE, dev_mode_until = NULL, dev_mode_reason = NULL"


class AccountTables(EngineTables):
    """Users and sessions on one backend (it supplies the transactions and the dialect)."""

    def _locked_users(self, conn: Executes) -> None:
        for statement in self._dialect.lock_users:
            conn.execute(statement)

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
        user exists already: checked in the insert's transaction with the table held, so
        of two writers bootstrapping at once exactly one creates the first admin)."""
        d = self._dialect
        with self._write("creating a user") as conn:
            if only_if_empty:
                self._locked_users(conn)
                if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                    return False
            cursor = conn.execute(
                d.sql(
                    f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, FALSE, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING"
                ),
                (username, password_hash, role, now, now, must_change_password),
            )
            return cursor.rowcount == 1

    def get_user(self, username: str) -> UserRow | None:
        d = self._dialect
        with self._read("reading a user") as conn:
            row = conn.execute(
                d.sql(f"SELECT {USER_COLUMNS} FROM users WHERE {d.same_name()}"), (username,)
            ).fetchone()
        return None if row is None else user_row(row)

    def list_users(self) -> list[UserRow]:
        with self._read("listing users") as conn:
            rows = conn.execute(
                f"SELECT {USER_COLUMNS} FROM users ORDER BY {self._dialect.folded()}"
            ).fetchall()
        return [user_row(row) for row in rows]

    def count_users(self) -> int:
        with self._read("counting users") as conn:
            row = conn.execute("SELECT count(*) FROM users").fetchone()
        return int(row[0]) if row else 0

    def update_user(self, username: str, now: str, change: UserChange) -> UpdateResult:
        """Change a user and, in the same transaction, end or downgrade their sessions.

        Refuses (``"last_admin"``) to demote or disable the last enabled admin, which would
        lock everyone out of user management; the table is held first, so two writers
        demoting the last two admins at once cannot both win.
        """
        d = self._dialect
        with self._write("changing a user") as conn:
            self._locked_users(conn)
            current = conn.execute(
                d.sql(f"SELECT username, role, disabled FROM users WHERE {d.same_name()}"), (username,)
            ).fetchone()
            if current is None:
                return "not_found"
            name, old_role, old_disabled = current

            def other_enabled_admins() -> int:
                found = conn.execute(
                    d.sql(
                        "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND username <> ?"
                    ),
                    (name,),
                ).fetchone()
                return int(found[0]) if found else 0

            new = changed_user(UserState(old_role, bool(old_disabled)), change, other_enabled_admins)
            if new is None:
                return "last_admin"
            conn.execute(
                d.sql(
                    "UPDATE users SET role = ?, disabled = ?, password_hash = COALESCE(?, password_hash), "
                    "must_change_password = COALESCE(?, must_change_password), updated_at = ? "
                    "WHERE username = ?"
                ),
                (new.role, new.disabled, change.password_hash, change.must_change_password, now, name),
            )
            if change.ends_sessions:
                self._revoke_user_sessions(conn, name, change.revoke_sessions_except)
            if change.clear_dev_mode:
                conn.execute(
                    d.sql(
                        "UPDATE sessions SET dev_mode_until = NULL, dev_mode_reason = NULL WHERE username = ?"
                    ),
                    (name,),
                )
            return "updated"

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Store a re-hashed password (same password, newer parameters); no side effects."""
        d = self._dialect
        with self._write("storing a password hash") as conn:
            conn.execute(
                d.sql(f"UPDATE users SET password_hash = ? WHERE {d.same_name()}"), (password_hash, username)
            )

    def delete_user(self, username: str) -> bool:
        """Delete a user; their sessions go with them (ON DELETE CASCADE)."""
        d = self._dialect
        with self._write("deleting a user") as conn:
            return conn.execute(d.sql(f"DELETE FROM users WHERE {d.same_name()}"), (username,)).rowcount == 1

    # -- sessions --------------------------------------------------------------------------

    def insert_session(
        self, token_hash: str, username: str, created_at: float, expires_at: float
    ) -> SessionRow | None:
        """Create a session for an existing, enabled user; None otherwise."""
        d = self._dialect
        with self._write("starting a session") as conn:
            # Held (or the write lock): the user cannot be deleted or disabled before the session exists.
            user = self._user(conn, username, " AND NOT disabled", d.for_share)
            if user is None:
                return None
            conn.execute(
                d.sql(
                    "INSERT INTO sessions (token_hash, username, created_at, expires_at, last_seen, revoked) "
                    "VALUES (?, ?, ?, ?, ?, FALSE)"
                ),
                (token_hash, user[0], created_at, expires_at, created_at),
            )
            row = conn.execute(d.sql(SESSION_SELECT + " WHERE s.token_hash = ?"), (token_hash,)).fetchone()
        return None if row is None else session_row(row)

    def get_session(self, token_hash: str) -> SessionRow | None:
        with self._read("reading a session") as conn:
            return self._session(conn, token_hash)

    def _session(self, conn: Executes, token_hash: str) -> SessionRow | None:
        row = conn.execute(
            self._dialect.sql(SESSION_SELECT + " WHERE s.token_hash = ?"), (token_hash,)
        ).fetchone()
        return None if row is None else session_row(row)

    def list_sessions(self, username: str) -> list[SessionRow]:
        d = self._dialect
        with self._read("listing sessions") as conn:
            rows = conn.execute(
                d.sql(SESSION_SELECT + f" WHERE {d.same_name('s.username')} ORDER BY s.created_at"),
                (username,),
            ).fetchall()
        return [session_row(row) for row in rows]

    def touch_session(self, token_hash: str, last_seen: float) -> None:
        with self._write("recording a session's use") as conn:
            conn.execute(
                self._dialect.sql("UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?"),
                (last_seen, token_hash, last_seen),
            )

    def revoke_session(self, token_hash: str) -> bool:
        with self._write("ending a session") as conn:
            cursor = conn.execute(
                self._dialect.sql(_REVOKE + " WHERE token_hash = ? AND NOT revoked"), (token_hash,)
            )
            return cursor.rowcount == 1

    def revoke_user_sessions(self, username: str, except_hash: str | None = None) -> int:
        with self._write("ending a user's sessions") as conn:
            user = self._user(conn, username)
            return 0 if user is None else self._revoke_user_sessions(conn, user[0], except_hash)

    def _revoke_user_sessions(self, conn: Executes, username: str, except_hash: str | None) -> int:
        """End every live session of the user (by their stored name) but ``except_hash``."""
        cursor = conn.execute(
            self._dialect.sql(
                _REVOKE + " WHERE username = ? AND NOT revoked AND token_hash IS DISTINCT FROM ?"
            ),
            (username, except_hash),
        )
        return cursor.rowcount

    def purge_sessions(self, now: float) -> int:
        """Delete sessions that can never be used again (expired)."""
        with self._write("removing expired sessions") as conn:
            return conn.execute(
                self._dialect.sql("DELETE FROM sessions WHERE expires_at <= ?"), (now,)
            ).rowcount

    def set_dev_mode(self, token_hash: str, until: float | None, reason: str | None, now: float) -> bool:
        """Set (or clear, with ``until=None``) Dev Mode on one live session."""
        with self._write("switching Dev Mode") as conn:
            cursor = conn.execute(
                self._dialect.sql(
                    "UPDATE sessions SET dev_mode_until = ?, dev_mode_reason = ? "
                    "WHERE token_hash = ? AND NOT revoked AND expires_at > ?"
                ),
                (until, reason, token_hash, now),
            )
            return cursor.rowcount == 1

    def clear_expired_dev_mode(self, token_hash: str, now: float) -> bool:
        """Clear Dev Mode if it has expired; True only for the one caller (of any process or
        node) that cleared it: the UPDATE decides."""
        with self._write("ending Dev Mode") as conn:
            cursor = conn.execute(
                self._dialect.sql(
                    "UPDATE sessions SET dev_mode_until = NULL, dev_mode_reason = NULL "
                    "WHERE token_hash = ? AND dev_mode_until IS NOT NULL AND dev_mode_until <= ?"
                ),
                (token_hash, now),
            )
            return cursor.rowcount == 1
