"""Favourite assemblies per user in PostgreSQL: the favourites half of PostgresEngineStore
(schema_v7's table), with SqliteFavouriteTable's semantics."""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.favourites import AddOutcome, Favourite
from assembly_engine.storage.postgresql.errors import translated

_SAME_NAME = 'lower(username COLLATE "C") = lower(%s COLLATE "C")'


class PostgresFavouriteTable:
    _pool: ConnectionPool

    def list_favourites(self, username: str) -> list[Favourite]:
        """One user's favourites, most recently added first."""
        with translated("listing favourites"), self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT assembly_guid, added_at FROM favourites WHERE {_SAME_NAME} "
                "ORDER BY added_at DESC, assembly_guid",
                (username,),
            ).fetchall()
        return [Favourite(str(row[0]), float(row[1])) for row in rows]

    def add_favourite(self, username: str, assembly_guid: str, now: float, cap: int) -> AddOutcome:
        with translated("adding a favourite"), self._pool.connection() as conn, conn.transaction():
            # FOR UPDATE on the user's row: two nodes adding for one user take turns, so the
            # count below stays true until this insert commits.
            user = conn.execute(
                f"SELECT username FROM users WHERE {_SAME_NAME} FOR UPDATE", (username,)
            ).fetchone()
            if user is None:
                return "no_user"
            stored = str(user[0])
            if conn.execute(
                "SELECT 1 FROM favourites WHERE username = %s AND assembly_guid = %s", (stored, assembly_guid)
            ).fetchone():
                return "kept"
            held = conn.execute("SELECT COUNT(*) FROM favourites WHERE username = %s", (stored,)).fetchone()
            if held is not None and int(held[0]) >= cap:
                return "full"
            conn.execute(
                "INSERT INTO favourites (username, assembly_guid, added_at) VALUES (%s, %s, %s)",
                (stored, assembly_guid, now),
            )
            return "added"

    def remove_favourite(self, username: str, assembly_guid: str) -> bool:
        with translated("removing a favourite"), self._pool.connection() as conn:
            cursor = conn.execute(
                f"DELETE FROM favourites WHERE {_SAME_NAME} AND assembly_guid = %s", (username, assembly_guid)
            )
            return cursor.rowcount == 1
