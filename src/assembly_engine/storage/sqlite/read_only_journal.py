"""The journal as a read-only start sees it: its entries are read once, served from the
cache on top of the databases, and left in ``journal.db`` for the next start to write."""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future
from pathlib import Path

from assembly_engine.storage.contract.errors import StorageFailed
from assembly_engine.storage.contract.journal_entry import JournalEntry
from assembly_engine.storage.sqlite.journal import read_entries
from assembly_engine.storage.sqlite.read_only_open import open_read_only

log = logging.getLogger("assembly_engine.journal")


class ReadOnlyJournal:
    """A WriteJournal that refuses every append and never forgets an entry."""

    def __init__(self, path: Path, refusal: StorageFailed) -> None:
        self.path = path
        self._refusal = refusal
        self._entries: list[JournalEntry] = []
        self.problem: str | None = None  # why the entries could not be read, if they could not
        if not path.exists():
            return  # no journal: nothing is queued
        try:
            conn = open_read_only(path)
            try:
                self._entries = read_entries(conn)
            finally:
                conn.close()
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            self.problem = f"{path.name}: {exc}"
            log.error(
                "read-only start: the journal could not be read (%s); its entries stay for the next start",
                exc,
            )

    def audit_in_commit(self, audit: object) -> bool:
        return False

    def next_seq(self) -> int:
        return (self._entries[-1].seq if self._entries else 0) + 1

    def submit(self, entry: JournalEntry) -> Future[int]:
        raise self._refusal

    def pending(self) -> list[JournalEntry]:
        return list(self._entries)

    def depth(self) -> int:
        return len(self._entries)

    def referenced_payloads(self) -> set[str]:
        return {e.record.payload.payload_guid for e in self._entries}

    def discard(self, persisted: list[tuple[str, int]]) -> None:
        pass  # nothing is flushed while read-only

    def wait_idle(self) -> None:
        pass

    def close(self) -> None:
        pass
