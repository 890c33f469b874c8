"""Script check results in engine.db (the ``script_checks`` table, schema version 3).

Its own connection, apart from SqliteEngineStore's: results are a cache that can always be
computed again, so they are written with ``synchronous=NORMAL`` (no fsync per result, in
WAL mode) and never wait behind a sign-in's transaction for longer than the busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assembly_engine.storage.contract.check_results import StoredCheck
from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.sqlite.read_only_open import open_read_only

# engine.db schema version 3 (engine_store._MIGRATIONS).
SQLITE_MIGRATION: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS script_checks (
        checksum   TEXT NOT NULL,
        checkers   TEXT NOT NULL,
        language   TEXT NOT NULL,
        result     TEXT NOT NULL,
        checked_at REAL NOT NULL,
        PRIMARY KEY (checksum, checkers)
    )
    """,
    "CREATE INDEX IF NOT EXISTS script_checks_by_language ON script_checks(language, checkers)",
)


class SqliteCheckResults:
    """The embedded backend of CheckResultStore (storage/contract/interfaces.py)."""

    def __init__(self, path: Path, busy_timeout_ms: int = 5000, *, read_only: bool = False) -> None:
        self._lock = threading.Lock()
        self._read_only = read_only
        if read_only:  # the read-only boot on a full disk: results are found, none kept
            self._conn = open_read_only(path, timeout_seconds=max(busy_timeout_ms, 0) / 1000.0)
            return
        self._conn = sqlite3.connect(
            str(path), timeout=max(busy_timeout_ms, 0) / 1000.0, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA synchronous = NORMAL")

    def find(self, checksum: str, checkers: str) -> StoredCheck | None:
        with self._lock, _told("reading a script check result"):
            row = self._conn.execute(
                f"SELECT {StoredCheck.COLUMNS} FROM script_checks WHERE checksum = ? AND checkers = ?",
                (checksum, checkers),
            ).fetchone()
        return StoredCheck.from_row(row)

    def keep(self, check: StoredCheck) -> None:
        if self._read_only:
            return  # a result not kept costs a check again later, nothing more
        with self._lock, _told("storing a script check result"):
            self._conn.execute(
                "INSERT OR REPLACE INTO script_checks (checksum, checkers, language, result, checked_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (check.checksum, check.checkers, check.language, check.result, check.checked_at),
            )

    def discard_other_versions(self, language: str, checkers: str) -> int:
        if self._read_only:
            return 0
        with self._lock, _told("removing outdated script check results"):
            cursor = self._conn.execute(
                "DELETE FROM script_checks WHERE language = ? AND checkers <> ?", (language, checkers)
            )
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@contextmanager
def _told(what: str) -> Iterator[None]:
    """SQLite's failures as storage's kind: the caller treats one as "not stored"."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageFailed(f"engine.db failed while {what}: {exc}") from exc
