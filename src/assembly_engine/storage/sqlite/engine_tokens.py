"""API tokens in engine.db: their table and queries (rows: contract/token_records.py).

Kept beside engine_store.py (which mixes :class:`SqliteTokenTable` in) so the users and
sessions module stays one concept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from assembly_engine.storage.contract.token_records import (
    TOKEN_INSERT,
    TOKEN_SELECT,
    NewToken,
    TokenRow,
    token_row,
)

_INSERT = TOKEN_INSERT.format(p="?", no="0")

# engine.db schema version 2 (engine_store._MIGRATIONS).
SQLITE_MIGRATION: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS api_tokens (
        id           TEXT PRIMARY KEY,
        token_hash   TEXT NOT NULL UNIQUE,
        username     TEXT NOT NULL
                     REFERENCES users(username) ON DELETE CASCADE ON UPDATE CASCADE,
        name         TEXT NOT NULL,
        scopes       TEXT NOT NULL,
        created_role TEXT NOT NULL CHECK (created_role IN ('admin', 'operator')),
        created_at   REAL NOT NULL,
        expires_at   REAL NOT NULL,
        last_used    REAL NULL,
        revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
    )
    """,
    "CREATE INDEX IF NOT EXISTS api_tokens_by_username ON api_tokens(username)",
)


class SqliteTokenTable:
    """The token half of SqliteEngineStore: it supplies the locked transactions."""

    def _write(self, doing: str = "") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, doing: str = "") -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def insert_token(self, token: NewToken) -> TokenRow | None:
        """Store a token of an existing, enabled user; None otherwise."""
        with self._write() as conn:
            user = conn.execute(
                "SELECT username, role FROM users WHERE username = ? AND disabled = 0", (token.username,)
            ).fetchone()
            if user is None:
                return None
            conn.execute(_INSERT, token.insert_values(user[0], user[1]))
            row = conn.execute(TOKEN_SELECT + " WHERE t.id = ?", (token.id,)).fetchone()
        return token_row(row)

    def get_token_by_hash(self, token_hash: str) -> TokenRow | None:
        with self._read() as conn:
            row = conn.execute(TOKEN_SELECT + " WHERE t.token_hash = ?", (token_hash,)).fetchone()
        return None if row is None else token_row(row)

    def get_token(self, token_id: str) -> TokenRow | None:
        with self._read() as conn:
            row = conn.execute(TOKEN_SELECT + " WHERE t.id = ?", (token_id,)).fetchone()
        return None if row is None else token_row(row)

    def list_tokens(self, username: str | None = None) -> list[TokenRow]:
        """Every token (``username`` None) or one user's, oldest first."""
        with self._read() as conn:
            rows: Iterator[Sequence[Any]]
            if username is None:
                rows = conn.execute(TOKEN_SELECT + " ORDER BY t.created_at, t.id")
            else:
                rows = conn.execute(
                    TOKEN_SELECT + " WHERE t.username = ? COLLATE NOCASE ORDER BY t.created_at, t.id",
                    (username,),
                )
            return [token_row(row) for row in rows]

    def revoke_token(self, token_id: str) -> bool:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE api_tokens SET revoked = 1 WHERE id = ? AND revoked = 0", (token_id,)
            )
            return cursor.rowcount == 1

    def touch_token(self, token_id: str, last_used: float) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE api_tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)",
                (last_used, token_id, last_used),
            )
