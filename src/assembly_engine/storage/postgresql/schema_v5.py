"""Schema version 5: script check results (``script_checks``), shared by every node.

The same table as engine.db's (sqlite/check_results.py): a result per content checksum
and checker versions, so a script one node checked is never checked again by another.
"""

from __future__ import annotations

NAME = "script check results"
STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE script_checks (
        checksum   TEXT NOT NULL,
        checkers   TEXT NOT NULL,
        language   TEXT NOT NULL,
        result     TEXT NOT NULL,
        checked_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (checksum, checkers)
    )""",
    "CREATE INDEX script_checks_by_language ON script_checks (language, checkers)",
)
