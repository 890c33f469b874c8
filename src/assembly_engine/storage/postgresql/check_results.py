"""Script check results in PostgreSQL (schema_v5's ``script_checks``), shared by the nodes.

A result is written once per content and checker versions; two nodes that check the same
script at once both write it, and the later write replaces an equal answer.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.check_results import StoredCheck
from assembly_engine.storage.postgresql.errors import translated


class PostgresCheckResults:
    """The cluster backend of CheckResultStore (storage/contract/interfaces.py)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def close(self) -> None:
        """Nothing to release: the pool belongs to the node, which closes it."""

    def find(self, checksum: str, checkers: str) -> StoredCheck | None:
        with translated("reading a script check result"), self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT {StoredCheck.COLUMNS} FROM script_checks WHERE checksum = %s AND checkers = %s",
                (checksum, checkers),
            ).fetchone()
        return StoredCheck.from_row(row)

    def keep(self, check: StoredCheck) -> None:
        with translated("storing a script check result"), self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO script_checks (checksum, checkers, language, result, checked_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (checksum, checkers) DO UPDATE "
                "SET result = EXCLUDED.result, checked_at = EXCLUDED.checked_at",
                (check.checksum, check.checkers, check.language, check.result, check.checked_at),
            )

    def discard_other_versions(self, language: str, checkers: str) -> int:
        with translated("removing outdated script check results"), self._pool.connection() as conn:
            cursor = conn.execute(
                "DELETE FROM script_checks WHERE language = %s AND checkers <> %s", (language, checkers)
            )
        return cursor.rowcount
