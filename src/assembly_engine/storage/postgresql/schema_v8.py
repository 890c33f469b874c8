"""Schema version 8: favourite assemblies per user (the ``favourites`` table of the engine store).

The same table as engine.db's (sqlite/engine_favourites.py): a user's favourites go with the
user (ON DELETE CASCADE); the assembly is no foreign key, since it may be deleted and undeleted.
"""

from __future__ import annotations

NAME = "favourites"
STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE favourites (
        username      TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE,
        assembly_guid TEXT NOT NULL,
        added_at      DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (username, assembly_guid)
    )""",
)
