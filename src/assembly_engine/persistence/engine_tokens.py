"""API tokens in the engine store (SQLite): their table, row shape and queries.

Kept beside engine_store.py (which mixes :class:`SqliteTokenTable` in) so the users and
sessions module stays one concept. Only the SHA-256 of a token is stored; the row keeps
the owner's role at creation, so a token of an owner demoted since stops working.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class TokenRow:
    id: str
    username: str
    name: str
    scopes: tuple[str, ...]
    created_role: str
    role: str  # the owner's role now
    user_disabled: bool
    created_at: float
    expires_at: float
    last_used: float | None
    revoked: bool


# Shared by both backends (postgresql/engine_tokens.py too).
TOKEN_SELECT = """
    SELECT t.id, t.username, t.name, t.scopes, t.created_role, u.role, u.disabled,
           t.created_at, t.expires_at, t.last_used, t.revoked
    FROM api_tokens AS t JOIN users AS u ON u.username = t.username
"""


def token_row(row: Sequence[Any]) -> TokenRow:
    return TokenRow(
        id=row[0],
        username=row[1],
        name=row[2],
        scopes=tuple(str(row[3]).split()),
        created_role=row[4],
        role=row[5],
        user_disabled=bool(row[6]),
        created_at=float(row[7]),
        expires_at=float(row[8]),
        last_used=None if row[9] is None else float(row[9]),
        revoked=bool(row[10]),
    )


class SqliteTokenTable:
    """The token half of SqliteEngineStore: it supplies the locked transactions."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def insert_token(
        self,
        token_id: str,
        token_hash: str,
        username: str,
        name: str,
        scopes: Sequence[str],
        created_at: float,
        expires_at: float,
    ) -> TokenRow | None:
        """Store a token of an existing, enabled user; None otherwise."""
        with self._write() as conn:
            user = conn.execute(
                "SELECT username, role FROM users WHERE username = ? AND disabled = 0", (username,)
            ).fetchone()
            if user is None:
                return None
            conn.execute(
                "INSERT INTO api_tokens (id, token_hash, username, name, scopes, created_role, "
                "created_at, expires_at, last_used, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)",
                (token_id, token_hash, user[0], name, " ".join(scopes), user[1], created_at, expires_at),
            )
            row = conn.execute(TOKEN_SELECT + " WHERE t.id = ?", (token_id,)).fetchone()
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
