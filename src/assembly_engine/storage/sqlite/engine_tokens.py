"""The api_tokens table of engine.db (version 2 of engine_store._MIGRATIONS); its queries
are formats/token_tables.py's, shared with the cluster store."""

from __future__ import annotations

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
