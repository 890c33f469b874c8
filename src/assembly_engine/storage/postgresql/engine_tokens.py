"""API tokens in PostgreSQL: the token half of PostgresEngineStore (schema_v3's table).

Same semantics as storage/sqlite/engine_tokens.py; nothing is cached, since another node may
revoke a token, or disable its owner, at any time.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.token_records import (
    TOKEN_INSERT,
    TOKEN_SELECT,
    NewToken,
    TokenRow,
    token_row,
)
from assembly_engine.storage.postgresql.errors import translated

_INSERT = TOKEN_INSERT.format(p="%s", no="FALSE")
_SAME_NAME = 'lower(username COLLATE "C") = lower(%s COLLATE "C")'


class PostgresTokenTable:
    _pool: ConnectionPool

    def insert_token(self, token: NewToken) -> TokenRow | None:
        """Store a token of an existing, enabled user; None otherwise."""
        with translated("creating an API token"), self._pool.connection() as conn, conn.transaction():
            # FOR SHARE: the user cannot be deleted, disabled or demoted before the token exists.
            user = conn.execute(
                f"SELECT username, role FROM users WHERE {_SAME_NAME} AND NOT disabled FOR SHARE",
                (token.username,),
            ).fetchone()
            if user is None:
                return None
            conn.execute(_INSERT, token.insert_values(user[0], user[1]))
            row = conn.execute(TOKEN_SELECT + " WHERE t.id = %s", (token.id,)).fetchone()
        return None if row is None else token_row(row)

    def get_token_by_hash(self, token_hash: str) -> TokenRow | None:
        with translated("reading an API token"), self._pool.connection() as conn:
            row = conn.execute(TOKEN_SELECT + " WHERE t.token_hash = %s", (token_hash,)).fetchone()
        return None if row is None else token_row(row)

    def get_token(self, token_id: str) -> TokenRow | None:
        with translated("reading an API token"), self._pool.connection() as conn:
            row = conn.execute(TOKEN_SELECT + " WHERE t.id = %s", (token_id,)).fetchone()
        return None if row is None else token_row(row)

    def list_tokens(self, username: str | None = None) -> list[TokenRow]:
        """Every token (``username`` None) or one user's, oldest first."""
        with translated("listing API tokens"), self._pool.connection() as conn:
            if username is None:
                rows = conn.execute(TOKEN_SELECT + " ORDER BY t.created_at, t.id").fetchall()
            else:
                rows = conn.execute(
                    TOKEN_SELECT + ' WHERE lower(t.username COLLATE "C") = lower(%s COLLATE "C") '
                    "ORDER BY t.created_at, t.id",
                    (username,),
                ).fetchall()
        return [token_row(row) for row in rows]

    def revoke_token(self, token_id: str) -> bool:
        with translated("revoking an API token"), self._pool.connection() as conn:
            cursor = conn.execute(
                "UPDATE api_tokens SET revoked = TRUE WHERE id = %s AND NOT revoked", (token_id,)
            )
            return cursor.rowcount == 1

    def touch_token(self, token_id: str, last_used: float) -> None:
        with translated("recording an API token's use"), self._pool.connection() as conn:
            conn.execute(
                "UPDATE api_tokens SET last_used = %s "
                "WHERE id = %s AND (last_used IS NULL OR last_used < %s)",
                (last_used, token_id, last_used),
            )
