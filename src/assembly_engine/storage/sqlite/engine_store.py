"""The engine's own SQLite database: users, sign-in sessions and a few secrets.

This is deliberately separate from the three assembly databases: it is small, written
rarely, and every write must survive a power cut (a revoked session must stay revoked), so
it runs with ``synchronous=FULL``. One connection guarded by a lock is plenty for the load
(a handful of writes per sign-in) and keeps every multi-statement change atomic.

All SQL of the auth services lives here; the services speak in rows and plain values.
The ``script_checks`` table (version 3) is written through its own connection
(sqlite/check_results.py).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
from assembly_engine.storage.contract.errors import SchemaError, StorageFailed
from assembly_engine.storage.sqlite.check_results import SQLITE_MIGRATION as CHECKS_MIGRATION
from assembly_engine.storage.sqlite.engine_favourites import SQLITE_MIGRATION as FAVOURITES_MIGRATION
from assembly_engine.storage.sqlite.engine_favourites import SqliteFavouriteTable
from assembly_engine.storage.sqlite.engine_tokens import SQLITE_MIGRATION as TOKENS_MIGRATION
from assembly_engine.storage.sqlite.engine_tokens import SqliteTokenTable
from assembly_engine.storage.sqlite.read_only_open import open_read_only

SCHEMA_VERSION = 5

# SQLite primary result codes that mean "the disk would not take it", not a bug.
_STORAGE_ERROR_CODES = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
    }
)
ENGINE_DB_UNWRITABLE = (
    "The engine could not write engine.db (users and sessions): the disk is full or read-only. "
    "Nothing was changed; free some space (or fix the permissions) and try again."
)

# Each entry upgrades the schema from version ``index`` to ``index + 1``. Statements run in
# one transaction together with the ``user_version`` bump, so a crash mid-migration leaves
# the previous version intact and the next start simply runs it again.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE IF NOT EXISTS users (
            username      TEXT PRIMARY KEY COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
            disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE IF NOT EXISTS sessions (
            token_hash      TEXT PRIMARY KEY,
            username        TEXT NOT NULL
                            REFERENCES users(username) ON DELETE CASCADE ON UPDATE CASCADE,
            created_at      REAL NOT NULL,
            expires_at      REAL NOT NULL,
            last_seen       REAL NOT NULL,
            dev_mode_until  REAL NULL,
            dev_mode_reason TEXT NULL,
            revoked         INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
        )
        """,
        "CREATE INDEX IF NOT EXISTS sessions_by_username ON sessions(username)",
        "CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions(expires_at)",
        """
        CREATE TABLE IF NOT EXISTS meta (
            key   TEXT PRIMARY KEY,
            value BLOB NOT NULL
        )
        """,
    ),
    TOKENS_MIGRATION,
    CHECKS_MIGRATION,
    # Version 4: a password someone else chose must be changed (services/auth/users.py).
    (
        "ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 "
        "CHECK (must_change_password IN (0, 1))",
    ),
    FAVOURITES_MIGRATION,
)


def _flag(value: bool | None) -> int | None:
    """A boolean column's value, or None to keep the stored one (COALESCE)."""
    return None if value is None else int(value)


assert len(_MIGRATIONS) == SCHEMA_VERSION


SESSION_CACHE_SIZE = 10_000


class StoreSchemaError(SchemaError):
    """The database was written by a newer engine than this one."""


class SqliteEngineStore(SqliteTokenTable, SqliteFavouriteTable):
    """Thread-safe access to ``engine.db`` (users, sessions, API tokens, favourites, meta):
    the SQLite backend of the EngineStore interface (storage/contract/interfaces.py)."""

    def __init__(self, path: Path, busy_timeout_ms: int = 5000, *, read_only: bool = False) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self._version = 0
        self._session_cache: dict[str, tuple[int, SessionRow | None]] = {}
        if read_only:  # the read-only boot on a full disk: every write answers StorageFailed
            self._conn = open_read_only(self._path, timeout_seconds=max(busy_timeout_ms, 0) / 1000.0)
            if self.schema_version() != SCHEMA_VERSION:
                self._conn.close()
                raise StoreSchemaError(
                    f"{self._path} needs a schema migration, which cannot be written on a full disk"
                )
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._create_private_file()
        self._conn = sqlite3.connect(
            str(self._path),
            timeout=max(busy_timeout_ms, 0) / 1000.0,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
        )
        try:
            self._configure(busy_timeout_ms)
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteEngineStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _create_private_file(self) -> None:
        # Password hashes live here: create the file owner-only before SQLite opens it.
        # SQLite gives the -wal and -shm files the same permissions as the database.
        if self._path.exists():
            return
        try:
            fd = os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return
        os.close(fd)

    def _configure(self, busy_timeout_ms: int) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(max(busy_timeout_ms, 0))}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{self._path}: could not switch to WAL ({mode})")
        # FULL: sign-ins and revocations are rare and must not be undone by a power cut.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")

    def _migrate(self) -> None:
        with self._write() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreSchemaError(
                    f"{self._path} has schema version {version}, but this engine only knows "
                    f"up to {SCHEMA_VERSION}; upgrade the engine or restore an older backup."
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step]:
                    conn.execute(statement)
            if version != SCHEMA_VERSION:
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction under the lock: take the write lock up front so a
        read-then-write sequence cannot be overtaken by another process (e.g. the CLI)."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    self._conn.execute("COMMIT")
                except BaseException:
                    # Also covers a failed COMMIT (SQLITE_BUSY): never leave a transaction open.
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                finally:
                    self._version += 1  # any write may change a session: cached rows are stale
            except sqlite3.DatabaseError as exc:
                # A full or read-only disk is the operator's to fix, not an internal error: say
                # so (503 storage_error) instead of letting it surface as a 500.
                if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _STORAGE_ERROR_CODES:
                    raise StorageFailed(ENGINE_DB_UNWRITABLE) from exc
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

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
        user exists already — the check and the insert are one transaction)."""
        with self._write() as conn:
            if only_if_empty and conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                return False
            cursor = conn.execute(
                f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, 0, ?, ?, ?) "
                "ON CONFLICT(username) DO NOTHING",
                (username, password_hash, role, now, now, int(must_change_password)),
            )
            return cursor.rowcount == 1

    def get_user(self, username: str) -> UserRow | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS} FROM users WHERE username = ?", (username,)).fetchone()
        return None if row is None else user_row(row)

    def list_users(self) -> list[UserRow]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {USER_COLUMNS} FROM users ORDER BY username COLLATE NOCASE"
            ).fetchall()
        return [user_row(row) for row in rows]

    def count_users(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def update_user(self, username: str, now: str, change: UserChange) -> UpdateResult:
        """Change a user and, in the same transaction, end or downgrade their sessions.

        Refuses (``"last_admin"``) to demote or disable the last enabled admin, which would
        lock everyone out of user management.
        """
        with self._write() as conn:
            current = conn.execute(
                "SELECT role, disabled FROM users WHERE username = ?", (username,)
            ).fetchone()
            if current is None:
                return "not_found"
            new = changed_user(
                UserState(current[0], bool(current[1])),
                change,
                lambda: int(
                    conn.execute(
                        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND username <> ?",
                        (username,),
                    ).fetchone()[0]
                ),
            )
            if new is None:
                return "last_admin"
            conn.execute(
                "UPDATE users SET role = ?, disabled = ?, "
                "password_hash = COALESCE(?, password_hash), "
                "must_change_password = COALESCE(?, must_change_password), updated_at = ? "
                "WHERE username = ?",
                (
                    new.role,
                    int(new.disabled),
                    change.password_hash,
                    _flag(change.must_change_password),
                    now,
                    username,
                ),
            )
            if change.ends_sessions:
                self._revoke_user_sessions(conn, username, change.revoke_sessions_except)
            if change.clear_dev_mode:
                conn.execute(
                    "UPDATE sessions SET dev_mode_until = NULL, dev_mode_reason = NULL WHERE username = ?",
                    (username,),
                )
            return "updated"

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Store a re-hashed password (same password, newer parameters); no side effects."""
        with self._write() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username))

    def delete_user(self, username: str) -> bool:
        """Delete a user; their sessions go with them (ON DELETE CASCADE)."""
        with self._write() as conn:
            return conn.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 1

    # -- sessions --------------------------------------------------------------------------

    def insert_session(
        self, token_hash: str, username: str, created_at: float, expires_at: float
    ) -> SessionRow | None:
        """Create a session for an existing, enabled user; None otherwise."""
        with self._write() as conn:
            user = conn.execute(
                "SELECT username FROM users WHERE username = ? AND disabled = 0", (username,)
            ).fetchone()
            if user is None:
                return None
            conn.execute(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at, last_seen, "
                "revoked) VALUES (?, ?, ?, ?, ?, 0)",
                (token_hash, user[0], created_at, expires_at, created_at),
            )
            row = conn.execute(SESSION_SELECT + " WHERE s.token_hash = ?", (token_hash,)).fetchone()
        return session_row(row)

    def get_session(self, token_hash: str) -> SessionRow | None:
        """Every request resolves its session: rows are served from memory until the next
        write to this database (this process is its only writer while the engine runs).
        Expiry is judged by the caller against the clock, so caching never extends a session."""
        # A hit needs no lock: a write bumps the version before it returns (under the lock),
        # so a request that starts after a sign-out or revocation never sees the old row.
        cached = self._session_cache.get(token_hash)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        with self._read() as conn:
            cached = self._session_cache.get(token_hash)
            if cached is not None and cached[0] == self._version:
                return cached[1]
            row = conn.execute(SESSION_SELECT + " WHERE s.token_hash = ?", (token_hash,)).fetchone()
            result = None if row is None else session_row(row)
            if len(self._session_cache) >= SESSION_CACHE_SIZE:
                self._session_cache.clear()
            self._session_cache[token_hash] = (self._version, result)
            return result

    def list_sessions(self, username: str) -> list[SessionRow]:
        with self._read() as conn:
            rows = conn.execute(
                SESSION_SELECT + " WHERE s.username = ? COLLATE NOCASE ORDER BY s.created_at", (username,)
            ).fetchall()
        return [session_row(row) for row in rows]

    def touch_session(self, token_hash: str, last_seen: float) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?",
                (last_seen, token_hash, last_seen),
            )

    def revoke_session(self, token_hash: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET revoked = 1, dev_mode_until = NULL, dev_mode_reason = NULL "
                "WHERE token_hash = ? AND revoked = 0",
                (token_hash,),
            )
            return cursor.rowcount == 1

    def revoke_user_sessions(self, username: str, except_hash: str | None = None) -> int:
        with self._write() as conn:
            return self._revoke_user_sessions(conn, username, except_hash)

    @staticmethod
    def _revoke_user_sessions(conn: sqlite3.Connection, username: str, except_hash: str | None) -> int:
        cursor = conn.execute(
            "UPDATE sessions SET revoked = 1, dev_mode_until = NULL, dev_mode_reason = NULL "
            "WHERE username = ? COLLATE NOCASE AND revoked = 0 AND token_hash IS NOT ?",
            (username, except_hash),
        )
        return cursor.rowcount

    def purge_sessions(self, now: float) -> int:
        """Delete sessions that can never be used again (expired)."""
        with self._write() as conn:
            return conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount

    def set_dev_mode(self, token_hash: str, until: float | None, reason: str | None, now: float) -> bool:
        """Set (or clear, with ``until=None``) Dev Mode on one live session."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET dev_mode_until = ?, dev_mode_reason = ? "
                "WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
                (until, reason, token_hash, now),
            )
            return cursor.rowcount == 1

    def clear_expired_dev_mode(self, token_hash: str, now: float) -> bool:
        """Clear Dev Mode if it has expired; True only for the one caller that cleared it."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET dev_mode_until = NULL, dev_mode_reason = NULL "
                "WHERE token_hash = ? AND dev_mode_until IS NOT NULL AND dev_mode_until <= ?",
                (token_hash, now),
            )
            return cursor.rowcount == 1

    # -- meta ------------------------------------------------------------------------------

    def secret(self, name: str, size: int = 32) -> bytes:
        """A random secret kept in the database, created on first use (race-free)."""
        with self._read() as conn:  # found without a write: a read-only start has its secrets
            found = conn.execute("SELECT value FROM meta WHERE key = ?", (f"secret:{name}",)).fetchone()
        if found is not None:
            return bytes(found[0])
        with self._write() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                (f"secret:{name}", secrets.token_bytes(size)),
            )
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"secret:{name}",)).fetchone()
        return bytes(row[0])
