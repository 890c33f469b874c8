"""The embedded backend's search index: SQLite FTS5 in a file of its own, ``search.db``.

A separate file because the index is derived data: it is never part of a change's commit
(so it never holds back a write or the journal), the cache can build it again from the
payloads, and a damaged or deleted file is simply replaced. FTS5 holds the terms of
storage/contract/search_terms.py (contentless: the terms are not stored twice); a plain
table keeps each body so a hit's matching line can be shown without reading the payload.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from assembly_engine.storage.contract.errors import IndexDamaged
from assembly_engine.storage.contract.search_terms import SearchTerms, body_terms
from assembly_engine.storage.sqlite.connection import immediate

log = logging.getLogger("assembly_engine.search")

SEARCH_FILE = "search.db"
# Bumped when the terms or the tables change: an index of another format is built again.
FORMAT = "2"
# Keeps each IN (...) list under SQLite's limit of host parameters.
_CHUNK = 500
# Asked about more payloads than this, every held GUID is read in one go (one query that
# reads the table is cheaper than many that look each GUID up).
_SCAN_ABOVE = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, payload_guid TEXT NOT NULL UNIQUE,
                                   body TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS term_index
    USING fts5(terms, content='', detail=none, tokenize='unicode61 remove_diacritics 0');
"""


class SqliteSearchIndex:
    """One connection to ``search.db``, shared by threads under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = self._open_or_replace()

    def _open_or_replace(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            log.warning("search index %s is damaged (%s); building it again", self.path, exc)
            self._remove_files()
            return self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            # Derived data: a crash may lose the last additions (the cache adds them again),
            # so commits need not wait for the disk.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(_SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if found is None:
                db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            elif found[0] != FORMAT:
                raise sqlite3.DatabaseError(f"index format {found[0]}, expected {FORMAT}")
            db.execute("SELECT count(*) FROM bodies").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def held(self, payload_guids: Iterable[str]) -> set[str]:
        wanted = list(payload_guids)
        found: set[str] = set()
        with self._lock:
            try:
                if len(wanted) > _SCAN_ABOVE:  # a boot asks for every live payload
                    rows = self._db.execute("SELECT payload_guid FROM bodies")
                    return {r[0] for r in rows}.intersection(wanted)
                for start in range(0, len(wanted), _CHUNK):
                    chunk = wanted[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT payload_guid FROM bodies WHERE payload_guid IN ({marks})", chunk
                    )
                    found.update(r[0] for r in rows)
            except sqlite3.DatabaseError as exc:
                raise IndexDamaged(f"The search index cannot be read ({exc}).") from exc
        return found

    def add(self, bodies: Sequence[tuple[str, str]]) -> None:
        """Index bodies (payload GUID, text) in one transaction; known GUIDs are skipped."""
        if not bodies:
            return
        with self._lock:
            try:
                with immediate(self._db):
                    for guid, text in bodies:
                        cursor = self._db.execute(
                            "INSERT OR IGNORE INTO bodies (payload_guid, body) VALUES (?, ?)", (guid, text)
                        )
                        if cursor.rowcount:
                            self._db.execute(
                                "INSERT INTO term_index (rowid, terms) VALUES (?, ?)",
                                (cursor.lastrowid, body_terms(text)),
                            )
            except sqlite3.DatabaseError as exc:
                raise IndexDamaged(f"The search index cannot be written ({exc}).") from exc

    def matching(self, terms: SearchTerms) -> set[str]:
        if terms.empty:
            return set()
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT b.payload_guid FROM term_index JOIN bodies b ON b.id = term_index.rowid "
                    "WHERE term_index MATCH ?",
                    (terms.fts5_match(),),
                )
                return {r[0] for r in rows}
            except sqlite3.DatabaseError as exc:
                raise IndexDamaged(f"The search index cannot be read ({exc}).") from exc

    def body(self, payload_guid: str) -> str | None:
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT body FROM bodies WHERE payload_guid = ?", (payload_guid,)
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                raise IndexDamaged(f"The search index cannot be read ({exc}).") from exc
        return None if row is None else str(row[0])

    def bodies(self, payload_guids: Sequence[str]) -> dict[str, str]:
        """The held bodies of ``payload_guids`` (a page's hits: one query, not one each)."""
        found: dict[str, str] = {}
        with self._lock:
            try:
                for start in range(0, len(payload_guids), _CHUNK):
                    chunk = list(payload_guids[start : start + _CHUNK])
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT payload_guid, body FROM bodies WHERE payload_guid IN ({marks})", chunk
                    )
                    found.update((str(r[0]), str(r[1])) for r in rows)
            except sqlite3.DatabaseError as exc:
                raise IndexDamaged(f"The search index cannot be read ({exc}).") from exc
        return found

    def reset(self) -> None:
        """Replace the file with an empty index (after damage was found)."""
        with self._lock:
            self._db.close()
            self._remove_files()
            self._db = self._open()

    def close(self) -> None:
        with self._lock:
            self._db.close()
