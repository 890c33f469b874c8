"""The favourites table of engine.db (version 5 of engine_store._MIGRATIONS); its queries
are formats/favourite_tables.py's, shared with the cluster store."""

from __future__ import annotations

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
