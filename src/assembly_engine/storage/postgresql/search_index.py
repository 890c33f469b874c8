"""The cluster backend's search index: PostgreSQL full text in ``search_bodies`` (schema_v6).

Every node adds the bodies it writes or finds missing and queries the same table, so every
node finds what any node wrote. A body's terms are stored once each, without positions
(a query asks for all of its terms, the last as a prefix; order does not matter), which
keeps a ``tsvector`` of a large script far under PostgreSQL's limits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import psycopg
from psycopg_pool import ConnectionPool

from assembly_engine.storage.contract.errors import EngineError, Unavailable
from assembly_engine.storage.contract.search_terms import SearchTerms, body_terms
from assembly_engine.storage.postgresql.errors import translated

log = logging.getLogger("assembly_engine.search")

# A tsvector holds at most 1 MB; a body's distinct terms are cut well below that.
MAX_TERMS_CHARS = 256 * 1024


def _unique_terms(text: str) -> str:
    kept = body_terms(text)  # each term once
    return kept if len(kept) <= MAX_TERMS_CHARS else kept[: kept.rfind(" ", 0, MAX_TERMS_CHARS)]


class PostgresSearchIndex:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def held(self, payload_guids: Iterable[str]) -> set[str]:
        wanted = list(payload_guids)
        rows = self._read(
            "reading the search index",
            "SELECT payload_guid FROM search_bodies WHERE payload_guid = ANY(%s)",
            (wanted,),
        )
        return {str(r[0]) for r in rows}

    def add(self, bodies: Sequence[tuple[str, str]]) -> None:
        if not bodies:
            return
        # PostgreSQL text cannot hold NUL: a body keeps its words without it.
        rows = [(guid, text.replace("\x00", " "), _unique_terms(text)) for guid, text in bodies]
        try:
            self._insert(rows)
        except Unavailable:
            raise  # the next search tries again
        except (EngineError, psycopg.Error):
            # One body PostgreSQL refuses must not keep the others out: one at a time,
            # and a refused body is left unindexed (logged), never retried in a loop.
            for row in rows:
                try:
                    self._insert([row])
                except Unavailable:
                    raise
                except (EngineError, psycopg.Error) as exc:
                    log.warning("payload %s not indexed for search: %s", row[0], exc)

    def _insert(self, rows: list[tuple[str, str, str]]) -> None:
        with translated("writing the search index"), self._pool.connection() as conn, conn.transaction():
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO search_bodies (payload_guid, body, terms) "
                    "VALUES (%s, %s, strip(to_tsvector('simple', %s))) ON CONFLICT DO NOTHING",
                    rows,
                )

    def matching(self, terms: SearchTerms) -> set[str]:
        if terms.empty:
            return set()
        rows = self._read(
            "searching",
            "SELECT payload_guid FROM search_bodies WHERE terms @@ to_tsquery('simple', %s)",
            (terms.tsquery(),),
        )
        return {str(r[0]) for r in rows}

    def body(self, payload_guid: str) -> str | None:
        rows = self._read(
            "reading the search index",
            "SELECT body FROM search_bodies WHERE payload_guid = %s",
            (payload_guid,),
        )
        return str(rows[0][0]) if rows else None

    def bodies(self, payload_guids: Sequence[str]) -> dict[str, str]:
        rows = self._read(
            "reading the search index",
            "SELECT payload_guid, body FROM search_bodies WHERE payload_guid = ANY(%s)",
            (list(payload_guids),),
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def _read(self, doing: str, query: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        """One read statement on its own (autocommit): a search asks several, and each
        would otherwise pay BEGIN and COMMIT round trips besides its own."""
        with translated(doing), self._pool.connection() as conn:
            conn.autocommit = True
            try:
                return conn.execute(query, params).fetchall()
            finally:
                conn.autocommit = False

    def reset(self) -> None:
        pass  # a shared table is not a damaged file: emptying it would hide every node's hits

    def close(self) -> None:
        pass  # the node's pool is closed with the node
