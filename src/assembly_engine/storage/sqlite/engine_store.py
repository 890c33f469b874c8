"""The engine's own SQLite database: users, sign-in sessions and a few secrets.

This is deliberately separate from the three assembly databases: it is small, written
rarely, and every write must survive a power cut (a revoked session must stay revoked), so
it runs with ``synchronous=FULL``. One connection guarded by a lock is plenty for the load
(a handful of writes per sign-in) and keeps every multi-statement change atomic.

The users and sessions statements are formats/account_tables.py's (the cluster store
shares them); the services speak in rows and plain values.
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

from assembly_engine.storage.contract.engine_records import SessionRow
from assembly_engine.storage.contract.errors import SchemaError, StorageFailed
from assembly_engine.storage.formats.account_tables import AccountTables
from assembly_engine.storage.formats.engine_sql import EngineDialect
from assembly_engine.storage.formats.favourite_tables import FavouriteTables
from assembly_engine.storage.formats.token_tables import TokenTables
from assembly_engine.storage.sqlite.check_results import SQLITE_MIGRATION as CHECKS_MIGRATION
from assembly_engine.storage.sqlite.connection import immediate
from assembly_engine.storage.sqlite.engine_favourites import SQLITE_MIGRATION as FAVOURITES_MIGRATION
from assembly_engine.storage.sqlite.engine_tokens import SQLITE_MIGRATION as TOKENS_MIGRATION
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


assert len(_MIGRATIONS) == SCHEMA_VERSION


SESSION_CACHE_SIZE = 10_000


class StoreSchemaError(SchemaError):
    """The database was written by a newer engine than this one."""


class SqliteEngineStore(AccountTables, TokenTables, FavouriteTables):
    """Thread-safe access to ``engine.db`` (users, sessions, API tokens, favourites, meta):
    the SQLite backend of the EngineStore interface (storage/contract/interfaces.py).
    Its tables' queries are formats/*_tables.py's, run in IMMEDIATE transactions (which hold
    the database's write lock, so no row or table needs a lock of its own)."""

    _dialect = EngineDialect(placeholder="?", folded_template="{} COLLATE NOCASE")

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
    def _write(self, doing: str = "") -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction under the lock: take the write lock up front so a
        read-then-write sequence cannot be overtaken by another process (e.g. the CLI)."""
        with self._lock:
            try:
                try:
                    with immediate(self._conn) as conn:
                        yield conn
                finally:
                    self._version += 1  # any write may change a session: cached rows are stale
            except sqlite3.DatabaseError as exc:
                # A full or read-only disk is the operator's to fix, not an internal error: say
                # so (503 storage_error) instead of letting it surface as a 500.
                if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _STORAGE_ERROR_CODES:
                    raise StorageFailed(ENGINE_DB_UNWRITABLE) from exc
                raise

    @contextmanager
    def _read(self, doing: str = "") -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    # -- sessions --------------------------------------------------------------------------

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
            result = self._session(conn, token_hash)
            if len(self._session_cache) >= SESSION_CACHE_SIZE:
                self._session_cache.clear()
            self._session_cache[token_hash] = (self._version, result)
            return result

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
