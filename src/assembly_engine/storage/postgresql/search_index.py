"""The cluster backend's search index: PostgreSQL full text in ``search_bodies`` (schema_v4).

Every node adds the bodies it writes or finds missing and queries the same table, so every
node finds what any node wrote. A body's terms are stored once each, without positions
(a query asks for all of its terms, the last as a prefix; order does not matter), which
keeps a ``tsvector`` of a large script far under PostgreSQL's limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.errors import IndexDamaged, StorageFailed
from assembly_engine.storage.contract.search_terms import SearchTerms, body_terms
from assembly_engine.storage.postgresql.errors import translated

# A tsvector holds at most 1 MB; a body's distinct terms are cut well below that.
MAX_TERMS_CHARS = 256 * 1024


def _unique_terms(text: str) -> str:
    kept = " ".join(dict.fromkeys(body_terms(text).split()))
    return kept if len(kept) <= MAX_TERMS_CHARS else kept[: kept.rfind(" ", 0, MAX_TERMS_CHARS)]


class PostgresSearchIndex:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def held(self, payload_guids: Iterable[str]) -> set[str]:
        wanted = list(payload_guids)
        with translated("reading the search index"), self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT payload_guid FROM search_bodies WHERE payload_guid = ANY(%s)", (wanted,)
            )
            return {str(r[0]) for r in rows}

    def add(self, bodies: Sequence[tuple[str, str]]) -> None:
        if not bodies:
            return
        # PostgreSQL text cannot hold NUL: a body keeps its words without it.
        rows = [(guid, text.replace("\x00", " "), _unique_terms(text)) for guid, text in bodies]
        try:
            with translated("writing the search index"), self._pool.connection() as conn, conn.transaction():
                with conn.cursor() as cursor:
                    cursor.executemany(
                        "INSERT INTO search_bodies (payload_guid, body, terms) "
                        "VALUES (%s, %s, strip(to_tsvector('simple', %s))) ON CONFLICT DO NOTHING",
                        rows,
                    )
        except StorageFailed as exc:
            raise IndexDamaged(f"The search index cannot be written ({exc}).") from exc

    def matching(self, terms: SearchTerms) -> set[str]:
        if terms.empty:
            return set()
        with translated("searching"), self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT payload_guid FROM search_bodies WHERE terms @@ to_tsquery('simple', %s)",
                (terms.tsquery(),),
            )
            return {str(r[0]) for r in rows}

    def body(self, payload_guid: str) -> str | None:
        with translated("reading the search index"), self._pool.connection() as conn:
            row = conn.execute(
                "SELECT body FROM search_bodies WHERE payload_guid = %s", (payload_guid,)
            ).fetchone()
        return None if row is None else str(row[0])

    def reset(self) -> None:
        with translated("emptying the search index"), self._pool.connection() as conn:
            conn.execute("TRUNCATE search_bodies")

    def close(self) -> None:
        pass  # the node's pool is closed with the node
