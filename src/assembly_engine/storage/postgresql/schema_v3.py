"""Schema version 3: API tokens (the ``api_tokens`` table of the engine store).

The same table as engine.db's (sqlite/engine_tokens.py): only the SHA-256 of a token
is kept, with the owner's role at creation. Tokens go with their user (ON DELETE CASCADE).
"""

from __future__ import annotations

NAME = "API tokens"
STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE api_tokens (
        id           TEXT PRIMARY KEY,
        token_hash   TEXT NOT NULL UNIQUE,
        username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE,
        name         TEXT NOT NULL,
        scopes       TEXT NOT NULL,
        created_role TEXT NOT NULL CHECK (created_role IN ('admin', 'operator')),
        created_at   DOUBLE PRECISION NOT NULL,
        expires_at   DOUBLE PRECISION NOT NULL,
        last_used    DOUBLE PRECISION,
        revoked      BOOLEAN NOT NULL DEFAULT FALSE
    )""",
    "CREATE INDEX api_tokens_by_username ON api_tokens (username)",
)
