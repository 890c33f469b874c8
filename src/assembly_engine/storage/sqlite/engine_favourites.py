"""Favourite assemblies per user in engine.db: their table and queries (contract/favourites.py).

Kept beside engine_store.py (which mixes :class:`SqliteFavouriteTable` in) so the users and
sessions module stays one concept.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager

from assembly_engine.storage.contract.favourites import AddOutcome, Favourite

# engine.db schema version 5 (engine_store._MIGRATIONS). A user's favourites go with the
# user (ON DELETE CASCADE); the assembly may be deleted and undeleted, so it is no key.
SQLITE_MIGRATION: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS favourites (
        username      TEXT NOT NULL COLLATE NOCASE
                      REFERENCES users(username) ON DELETE CASCADE ON UPDATE CASCADE,
        assembly_guid TEXT NOT NULL,
        added_at      REAL NOT NULL,
        PRIMARY KEY (username, assembly_guid)
    )
    """,
)


class SqliteFavouriteTable:
    """The favourites half of SqliteEngineStore: it supplies the locked transactions."""

    def _write(self, doing: str = "") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, doing: str = "") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def list_favourites(self, username: str) -> list[Favourite]:
        """One user's favourites, most recently added first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT assembly_guid, added_at FROM favourites WHERE username = ? "
                "ORDER BY added_at DESC, assembly_guid",
                (username,),
            ).fetchall()
        return [Favourite(str(row[0]), float(row[1])) for row in rows]

    def add_favourite(self, username: str, assembly_guid: str, now: float, cap: int) -> AddOutcome:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone() is None:
                return "no_user"
            if conn.execute(
                "SELECT 1 FROM favourites WHERE username = ? AND assembly_guid = ?", (username, assembly_guid)
            ).fetchone():
                return "kept"
            held = int(
                conn.execute("SELECT COUNT(*) FROM favourites WHERE username = ?", (username,)).fetchone()[0]
            )
            if held >= cap:
                return "full"
            conn.execute(
                "INSERT INTO favourites (username, assembly_guid, added_at) VALUES (?, ?, ?)",
                (username, assembly_guid, now),
            )
            return "added"

    def remove_favourite(self, username: str, assembly_guid: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM favourites WHERE username = ? AND assembly_guid = ?", (username, assembly_guid)
            )
            return cursor.rowcount == 1
