"""The favourites table as both engine stores keep it, written once (values:
contract/favourites.py). A user's favourites go with the user; the assembly is no key
(it may be deleted and undeleted).
"""

from __future__ import annotations

from assembly_engine.storage.contract.favourites import AddOutcome, Favourite
from assembly_engine.storage.formats.engine_sql import EngineTables


class FavouriteTables(EngineTables):
    """Favourites on one backend (it supplies the transactions and the dialect)."""

    def list_favourites(self, username: str) -> list[Favourite]:
        """One user's favourites, most recently added first."""
        d = self._dialect
        with self._read("listing favourites") as conn:
            rows = conn.execute(
                d.sql(
                    f"SELECT assembly_guid, added_at FROM favourites WHERE {d.same_name()} "
                    "ORDER BY added_at DESC, assembly_guid"
                ),
                (username,),
            ).fetchall()
        return [Favourite(str(row[0]), float(row[1])) for row in rows]

    def add_favourite(self, username: str, assembly_guid: str, now: float, cap: int) -> AddOutcome:
        """Add one unless the user has ``cap`` already; the count stays true until the insert
        commits (the user's row is held, or the transaction holds the write lock)."""
        d = self._dialect
        with self._write("adding a favourite") as conn:
            user = self._user(conn, username, lock=d.for_update)
            if user is None:
                return "no_user"
            stored = str(user[0])
            if conn.execute(
                d.sql("SELECT 1 FROM favourites WHERE username = ? AND assembly_guid = ?"),
                (stored, assembly_guid),
            ).fetchone():
                return "kept"
            held = conn.execute(
                d.sql("SELECT COUNT(*) FROM favourites WHERE username = ?"), (stored,)
            ).fetchone()
            if held is not None and int(held[0]) >= cap:
                return "full"
            conn.execute(
                d.sql("INSERT INTO favourites (username, assembly_guid, added_at) VALUES (?, ?, ?)"),
                (stored, assembly_guid, now),
            )
            return "added"

    def remove_favourite(self, username: str, assembly_guid: str) -> bool:
        d = self._dialect
        with self._write("removing a favourite") as conn:
            cursor = conn.execute(
                d.sql(f"DELETE FROM favourites WHERE {d.same_name()} AND assembly_guid = ?"),
                (username, assembly_guid),
            )
            return cursor.rowcount == 1
