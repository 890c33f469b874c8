"""Schema version 7: ``users.must_change_password``.

Set when someone else chose the password (the generated first admin password, an admin's
new account or reset) and cleared when the user picks their own; the web UI asks for a new
password while it is set. Same column as engine.db's version 4.
"""

from __future__ import annotations

NAME = "users must change a password chosen for them"
STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE",
)
