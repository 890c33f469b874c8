"""The api_tokens table as both engine stores keep it, written once (rows:
contract/token_records.py). Nothing is cached: on the cluster another node may revoke a
token, or disable its owner, at any time.
"""

from __future__ import annotations

from assembly_engine.storage.contract.token_records import (
    TOKEN_INSERT,
    TOKEN_SELECT,
    NewToken,
    TokenRow,
    token_row,
)
from assembly_engine.storage.formats.engine_sql import EngineTables

_INSERT = TOKEN_INSERT.format(p="?", no="FALSE")


class TokenTables(EngineTables):
    """API tokens on one backend (it supplies the transactions and the dialect)."""

    def insert_token(self, token: NewToken) -> TokenRow | None:
        """Store a token of an existing, enabled user, with the owner's role now; None otherwise."""
        d = self._dialect
        with self._write("creating an API token") as conn:
            # Held (or the write lock): the user cannot be deleted, disabled or demoted first.
            user = self._user(conn, token.username, " AND NOT disabled", d.for_share)
            if user is None:
                return None
            conn.execute(d.sql(_INSERT), token.insert_values(user[0], user[1]))
            row = conn.execute(d.sql(TOKEN_SELECT + " WHERE t.id = ?"), (token.id,)).fetchone()
        return None if row is None else token_row(row)

    def get_token_by_hash(self, token_hash: str) -> TokenRow | None:
        with self._read("reading an API token") as conn:
            row = conn.execute(
                self._dialect.sql(TOKEN_SELECT + " WHERE t.token_hash = ?"), (token_hash,)
            ).fetchone()
        return None if row is None else token_row(row)

    def get_token(self, token_id: str) -> TokenRow | None:
        with self._read("reading an API token") as conn:
            row = conn.execute(self._dialect.sql(TOKEN_SELECT + " WHERE t.id = ?"), (token_id,)).fetchone()
        return None if row is None else token_row(row)

    def list_tokens(self, username: str | None = None) -> list[TokenRow]:
        """Every token (``username`` None) or one user's, oldest first."""
        d = self._dialect
        with self._read("listing API tokens") as conn:
            if username is None:
                rows = conn.execute(TOKEN_SELECT + " ORDER BY t.created_at, t.id").fetchall()
            else:
                rows = conn.execute(
                    d.sql(TOKEN_SELECT + f" WHERE {d.same_name('t.username')} ORDER BY t.created_at, t.id"),
                    (username,),
                ).fetchall()
        return [token_row(row) for row in rows]

    def revoke_token(self, token_id: str) -> bool:
        with self._write("revoking an API token") as conn:
            cursor = conn.execute(
                self._dialect.sql("UPDATE api_tokens SET revoked = TRUE WHERE id = ? AND NOT revoked"),
                (token_id,),
            )
            return cursor.rowcount == 1

    def touch_token(self, token_id: str, last_used: float) -> None:
        """Record a use; never moves ``last_used`` back (uses are recorded out of order)."""
        with self._write("recording an API token's use") as conn:
            conn.execute(
                self._dialect.sql(
                    "UPDATE api_tokens SET last_used = ? "
                    "WHERE id = ? AND (last_used IS NULL OR last_used < ?)"
                ),
                (last_used, token_id, last_used),
            )
